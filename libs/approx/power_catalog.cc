#include "libs/approx/power_catalog.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/approx/builtin.h"
#include "libs/approx/catalog.h"
#include "libs/approx/structure_cache.h"

namespace transaxx::approx {
namespace {

namespace fs = std::filesystem;

std::string UserDir(const std::string& state_dir) { return state_dir + "/user_multipliers"; }

// Writes `bytes` beside `path` and renames it over `path`, so a reader (or a
// restart after a crash) never sees half a file.
absl::Status WriteAtomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", ec.message()));
  return absl::OkStatus();
}

nlohmann::json HardwareJson(const HardwareInfo& h) {
  nlohmann::json j = {{"provenance", static_cast<int>(h.provenance)},
                      {"technology", h.technology},
                      {"source", h.source},
                      {"relative_to_id", h.relative_to_id},
                      {"relative_to_hash", h.relative_to_hash}};
  auto put = [&](const char* key, const auto& v) {
    if (v) j[key] = *v;
  };
  put("power_mw", h.power_mw);
  put("area_um2", h.area_um2);
  put("delay_ns", h.delay_ns);
  put("relative_power", h.relative_power);
  put("relative_area", h.relative_area);
  put("cells", h.cells);
  put("transistors", h.transistors);
  return j;
}

HardwareInfo HardwareFromJson(const nlohmann::json& j) {
  HardwareInfo h;
  h.provenance = static_cast<Provenance>(j.value("provenance", 2));
  h.technology = j.value("technology", "");
  h.source = j.value("source", "");
  h.relative_to_id = j.value("relative_to_id", "");
  h.relative_to_hash = j.value("relative_to_hash", "");
  auto get = [&](const char* key, auto& v) {
    if (j.contains(key)) v = j[key].get<typename std::decay_t<decltype(v)>::value_type>();
  };
  get("power_mw", h.power_mw);
  get("area_um2", h.area_um2);
  get("delay_ns", h.delay_ns);
  get("relative_power", h.relative_power);
  get("relative_area", h.relative_area);
  get("cells", h.cells);
  get("transistors", h.transistors);
  return h;
}


}  // namespace

PowerCatalog::PowerCatalog(PowerCatalogOptions options) : options_(std::move(options)) {}

PowerCatalog::~PowerCatalog() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [hash, future] : estimates_) future.wait();
}

absl::StatusOr<std::unique_ptr<PowerCatalog>> PowerCatalog::Open(PowerCatalogOptions options) {
  if (!options.state_dir.empty()) options.synthesis.cache_dir = options.state_dir + "/synthesis_cache";
  std::unique_ptr<PowerCatalog> pc(new PowerCatalog(std::move(options)));
  pc->signed_exact_hash_ = TableHash(ExactTable(Signedness::kSigned));
  pc->unsigned_exact_hash_ = TableHash(ExactTable(Signedness::kUnsigned));
  Catalog catalog = Catalog::WithBuiltins();
  for (const std::string& dir : pc->options_.evoapprox_dirs) {
    if (absl::Status s = catalog.ImportEvoApprox(dir); !s.ok()) return s;
  }
  for (const CatalogEntry& e : catalog.entries()) {
    PowerCatalogEntry entry{e.multiplier, EntrySourceName(e), DescribeEntry(e), e.published,
                            std::nullopt};
    pc->entries_.emplace(e.multiplier.id(), std::move(entry));
  }
  if (absl::Status s = pc->LoadUserTables(); !s.ok()) return s;
  return pc;
}

// One persisted user multiplier: NAME.json (id, signedness, hash, figures)
// beside NAME.i32 (the canonical table). Anything that does not hold
// together is DATA_LOSS naming the file, never a crash: the state directory
// may have been damaged by a full disk or a hand edit.
static absl::StatusOr<PowerCatalogEntry> ReadUserTable(const fs::path& json_path) {
  auto damaged = [&](const std::string& path, absl::string_view why) {
    return absl::DataLossError(absl::StrCat(path, ": ", why));
  };
  std::ifstream in(json_path);
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id") || !j["id"].is_string() ||
      !j.contains("signed") || !j["signed"].is_boolean()) {
    return damaged(json_path.string(), "not a user multiplier record (needs string id, bool signed)");
  }
  const std::string id = j["id"].get<std::string>();
  if (id.rfind("user:", 0) != 0) return damaged(json_path.string(), "id does not start with user:");
  fs::path table_path = json_path;
  table_path.replace_extension(".i32");
  std::ifstream tin(table_path, std::ios::binary);
  std::vector<char> bytes(4 * kTableSize + 1);
  tin.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (tin.gcount() != 4 * kTableSize) {
    return damaged(table_path.string(),
                   absl::StrCat("missing or wrong-sized table (", tin.gcount(), " bytes, expected ",
                                4 * kTableSize, ")"));
  }
  Table table;
  for (int i = 0; i < kTableSize; ++i) {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[4 * i + k])) << (8 * k);
    }
    table[i] = static_cast<int32_t>(v);
  }
  const Signedness s = j["signed"].get<bool>() ? Signedness::kSigned : Signedness::kUnsigned;
  absl::StatusOr<Multiplier> m = Multiplier::Create(id, s, table);
  if (!m.ok()) return damaged(json_path.string(), m.status().message());
  if (j.contains("content_hash") && j["content_hash"] != m->content_hash()) {
    return damaged(table_path.string(), "table does not match the content hash of its record");
  }
  try {
    return PowerCatalogEntry{*m, "uploaded", j.value("description", ""), std::nullopt,
                             HardwareFromJson(j.value("hardware", nlohmann::json::object()))};
  } catch (const nlohmann::json::exception& e) {
    return damaged(json_path.string(), e.what());
  }
}

absl::Status PowerCatalog::LoadUserTables() {
  if (options_.state_dir.empty()) return absl::OkStatus();
  const std::string dir = UserDir(options_.state_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return absl::OkStatus();
  for (const fs::directory_entry& file : fs::directory_iterator(dir, ec)) {
    if (file.path().extension() != ".json") continue;
    absl::StatusOr<PowerCatalogEntry> entry = ReadUserTable(file.path());
    if (!entry.ok()) return entry.status();
    entries_.emplace(entry->multiplier.id(), *std::move(entry));
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot read ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

std::vector<PowerCatalogEntry> PowerCatalog::Entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PowerCatalogEntry> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e);
  return out;
}

size_t PowerCatalog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

absl::StatusOr<PowerCatalogEntry> PowerCatalog::Get(absl::string_view id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) return it->second;
  }
  // Not listed: a built-in made on demand (Catalog::Get's rules and messages).
  absl::StatusOr<CatalogEntry> e = Catalog().Get(id);
  if (!e.ok()) return e.status();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(e->multiplier.id()); it != entries_.end()) return it->second;
  return PowerCatalogEntry{e->multiplier, "built-in", DescribeEntry(*e), std::nullopt,
                          std::nullopt};
}

std::vector<std::string> PowerCatalog::IdsWithHash(absl::string_view hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, e] : entries_) {
    if (e.multiplier.content_hash() == hash) ids.push_back(id);
  }
  return ids;
}

ErrorReport PowerCatalog::Errors(const Multiplier& m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = errors_.find(m.cache_key()); it != errors_.end()) return it->second;
  }
  // Computed outside the lock (tens of ms); a race computes it twice, harmlessly.
  ErrorReport report = ComputeErrorFigures(m);
  std::lock_guard<std::mutex> lock(mu_);
  errors_.emplace(m.cache_key(), report);
  return report;
}

absl::StatusOr<Structure> PowerCatalog::StructureOf(const Multiplier& m) {
  absl::StatusOr<std::shared_ptr<const Structure>> structure = CachedStructure(m);
  if (!structure.ok()) return structure.status();
  return **structure;
}

bool PowerCatalog::IsExactTable(const Multiplier& m) const {
  return m.content_hash() == (m.is_signed() ? signed_exact_hash_ : unsigned_exact_hash_);
}

const PowerCatalogEntry* PowerCatalog::Reference(Signedness s) const {
  const std::string& exact = s == Signedness::kSigned ? signed_exact_hash_ : unsigned_exact_hash_;
  for (const auto& [id, e] : entries_) {
    if (e.multiplier.content_hash() == exact && e.published && e.published->power_mw &&
        *e.published->power_mw > 0) {
      return &e;
    }
  }
  return nullptr;
}

HardwareInfo PowerCatalog::Published(const PowerCatalogEntry& entry) const {
  const PublishedFigures& p = *entry.published;
  HardwareInfo h;
  h.provenance = Provenance::kPublished;
  h.technology = "PDK45";
  h.source = entry.source;
  h.power_mw = p.power_mw;
  h.area_um2 = p.area_um2;
  h.delay_ns = p.delay_ns;
  if (const PowerCatalogEntry* ref = Reference(entry.multiplier.signedness())) {
    h.relative_to_id = ref->multiplier.id();
    h.relative_to_hash = ref->multiplier.content_hash();
    const PublishedFigures& r = *ref->published;
    if (p.power_mw) h.relative_power = *p.power_mw / *r.power_mw;
    if (p.area_um2 && r.area_um2 && *r.area_um2 > 0) h.relative_area = *p.area_um2 / *r.area_um2;
  }
  if (!p.power_mw && !p.area_um2 && !p.delay_ns) h.provenance = Provenance::kUnknown;
  return h;
}

HardwareInfo PowerCatalog::Scaled(const hardware::EstimatedFigures& e, Signedness s,
                                  const std::string& source) const {
  HardwareInfo h;
  h.provenance = Provenance::kEstimated;
  h.technology = "yosys-cmos";
  h.relative_power = e.relative_power;
  h.relative_area = e.relative_area;
  h.cells = e.cells;
  h.transistors = e.transistors;
  h.source = source;
  std::lock_guard<std::mutex> lock(mu_);
  if (const PowerCatalogEntry* ref = Reference(s)) {
    const PublishedFigures& r = *ref->published;
    h.relative_to_id = ref->multiplier.id();
    h.relative_to_hash = ref->multiplier.content_hash();
    h.power_mw = e.relative_power * *r.power_mw;
    if (r.area_um2) h.area_um2 = e.relative_area * *r.area_um2;
    absl::StrAppend(&h.source, ", scaled to ", ref->multiplier.id(), "'s published PDK45 figures");
  } else {
    h.relative_to_id = s == Signedness::kSigned ? "exact" : "";
    h.relative_to_hash = s == Signedness::kSigned ? signed_exact_hash_ : unsigned_exact_hash_;
  }
  return h;
}

HardwareInfo PowerCatalog::ExactFigures(Signedness s) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (const PowerCatalogEntry* ref = Reference(s)) {
    HardwareInfo h = Published(*ref);
    h.source = absl::StrCat("exact product: the figures of ", ref->multiplier.id());
    return h;
  }
  HardwareInfo h;
  h.provenance = Provenance::kEstimated;
  h.relative_power = 1;
  h.relative_area = 1;
  h.technology = "definition";
  h.source = "exact product (relative figures 1 by definition)";
  return h;
}

std::shared_future<PowerCatalog::Estimate> PowerCatalog::StartEstimate(
    const PowerCatalogEntry& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& hash = entry.multiplier.content_hash();
  if (auto it = estimates_.find(hash); it != estimates_.end()) return it->second;
  const std::string id = entry.multiplier.id();
  std::shared_future<Estimate> future =
      std::async(std::launch::async, [this, id]() -> Estimate {
        std::lock_guard<std::mutex> one_at_a_time(synthesis_mu_);
        const absl::Time start = absl::Now();
        hardware::EstimateOptions options;
        options.synthesis = options_.synthesis;
        Estimate e = hardware::EstimateBuiltin(id, options);
        if (options_.on_synthesis) options_.on_synthesis(absl::Now() - start);
        return e;
      }).share();
  estimates_.emplace(hash, future);
  return future;
}

absl::StatusOr<HardwareInfo> PowerCatalog::Resolve(const PowerCatalogEntry& entry,
                                                   std::optional<absl::Duration> wait) {
  if (IsExactTable(entry.multiplier)) {
    HardwareInfo h = ExactFigures(entry.multiplier.signedness());
    if (entry.published) {
      std::lock_guard<std::mutex> lock(mu_);
      h = Published(entry);
      h.relative_power = 1;
      if (h.area_um2) h.relative_area = 1;
    }
    return h;
  }
  if (entry.published) {
    std::lock_guard<std::mutex> lock(mu_);
    return Published(entry);
  }
  if (entry.hardware) return *entry.hardware;
  if (entry.source != "built-in") {
    HardwareInfo h;
    h.source = "no hardware figures: characterize it with Verilog";
    return h;
  }
  std::shared_future<Estimate> future = StartEstimate(entry);
  const absl::Duration bound = wait.value_or(absl::ZeroDuration());
  if (future.wait_for(absl::ToChronoMilliseconds(bound)) != std::future_status::ready) {
    if (!wait) {
      HardwareInfo h;
      h.source = "estimate by synthesis pending";
      return h;
    }
    return absl::UnavailableError(absl::StrCat(
        "the hardware figures of '", entry.multiplier.id(),
        "' are being estimated by synthesis (seconds per multiplier); retry shortly"));
  }
  const Estimate& e = future.get();
  if (!e.ok()) {
    return absl::Status(e.status().code(), absl::StrCat("estimating the hardware figures of '",
                                                        entry.multiplier.id(), "': ",
                                                        e.status().message()));
  }
  return Scaled(*e, entry.multiplier.signedness(), "yosys stat -tech cmos + switched load, built-in RTL");
}

absl::StatusOr<HardwareInfo> PowerCatalog::Hardware(const PowerCatalogEntry& entry,
                                                    absl::Duration wait) {
  return Resolve(entry, wait);
}

HardwareInfo PowerCatalog::HardwareIfReady(const PowerCatalogEntry& entry) {
  absl::StatusOr<HardwareInfo> h = Resolve(entry, std::nullopt);
  if (h.ok()) return *h;
  HardwareInfo unknown;
  unknown.source = std::string(h.status().message());
  return unknown;
}

absl::StatusOr<MultiplierCost> PowerCatalog::Cost(const PowerCatalogEntry& entry,
                                                  absl::Duration wait) {
  absl::StatusOr<HardwareInfo> h = Hardware(entry, wait);
  if (!h.ok()) return h.status();
  return MultiplierCost{entry.multiplier.id(), entry.multiplier.content_hash(),
                        IsExactTable(entry.multiplier), h->relative_power, h->power_mw,
                        h->delay_ns, h->provenance};
}

absl::StatusOr<HardwareInfo> PowerCatalog::EstimateVerilog(absl::string_view verilog,
                                                           absl::string_view top_module,
                                                           const Multiplier& m) {
  hardware::EstimateOptions options;
  options.synthesis = options_.synthesis;
  absl::StatusOr<hardware::EstimatedFigures> e;
  {
    std::lock_guard<std::mutex> one_at_a_time(synthesis_mu_);
    const absl::Time start = absl::Now();
    e = hardware::EstimateUserVerilog(verilog, top_module, m, options);
    if (options_.on_synthesis) options_.on_synthesis(absl::Now() - start);
  }
  if (!e.ok()) return e.status();
  return Scaled(*e, m.signedness(), "yosys stat -tech cmos + switched load, uploaded Verilog");
}

absl::StatusOr<bool> PowerCatalog::AddUser(PowerCatalogEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  const Multiplier& m = entry.multiplier;
  if (auto it = entries_.find(m.id()); it != entries_.end()) {
    if (it->second.multiplier.content_hash() == m.content_hash()) return false;
    return absl::AlreadyExistsError(absl::StrCat("name: '", m.id(),
                                                 "' already exists with another table (hash ",
                                                 it->second.multiplier.content_hash(), ")"));
  }
  if (!options_.state_dir.empty()) {
    const std::string dir = UserDir(options_.state_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
    const std::string name = m.id().substr(m.id().find(':') + 1);
    std::string bytes(4 * kTableSize, '\0');
    for (int i = 0; i < kTableSize; ++i) {
      const uint32_t v = static_cast<uint32_t>(m.table()[i]);
      for (int k = 0; k < 4; ++k) bytes[4 * i + k] = static_cast<char>((v >> (8 * k)) & 0xff);
    }
    // The table first, the record last: a record on disk always has its table.
    if (absl::Status s = WriteAtomically(dir + "/" + name + ".i32", bytes); !s.ok()) return s;
    nlohmann::json j = {{"id", m.id()},
                        {"signed", m.is_signed()},
                        {"content_hash", m.content_hash()},
                        {"description", entry.description}};
    if (entry.hardware) j["hardware"] = HardwareJson(*entry.hardware);
    if (absl::Status s = WriteAtomically(dir + "/" + name + ".json", j.dump(1)); !s.ok()) return s;
  }
  entries_.emplace(m.id(), std::move(entry));
  return true;
}

void PowerCatalog::WarmInBackground(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    absl::StatusOr<PowerCatalogEntry> e = Get(id);
    if (e.ok() && e->source == "built-in" && !IsExactTable(e->multiplier)) StartEstimate(*e);
  }
}

}  // namespace transaxx::approx
