#include "libs/approx/catalog.h"

#include <fnmatch.h>

#include "absl/strings/str_cat.h"
#include "libs/approx/builtin.h"
#include "libs/approx/multiplier_id.h"

namespace transaxx::approx {

std::string DescribeEntry(const CatalogEntry& entry) {
  if (entry.published) return absl::StrCat("EvoApproxLib circuit ", entry.published->name);
  for (const Family& f : BuiltinFamilies()) {
    if (f.name == entry.multiplier.family()) return f.summary;
  }
  return "";
}

std::string EntrySourceName(const CatalogEntry& entry) {
  if (!entry.published) return entry.source;
  return entry.published->source.empty() ? "EvoApproxLib" : entry.published->source;
}


Catalog Catalog::WithBuiltins() {
  Catalog catalog;
  for (const std::string& id : DefaultBuiltinIds()) {
    // Default IDs are valid by construction (tested), so these cannot fail.
    catalog.Add({*MakeBuiltin(id), "built-in", std::nullopt}).IgnoreError();
  }
  return catalog;
}

absl::Status Catalog::ImportEvoApprox(const std::string& dir) {
  const std::string json_path = absl::StrCat(dir, "/multipliers.json");
  absl::StatusOr<std::vector<PublishedFigures>> records = ReadPublishedFigures(json_path);
  if (!records.ok()) return records.status();
  std::vector<CatalogEntry> imported;
  for (const PublishedFigures& record : *records) {
    const std::string id = absl::StrCat("evo:", record.name);
    if (by_id_.count(id)) {
      return absl::AlreadyExistsError(absl::StrCat(json_path, ": '", id, "' is already in the catalog"));
    }
    const std::string lut = absl::StrCat(dir, "/", record.name, ".lut");
    const Signedness signedness = record.is_signed ? Signedness::kSigned : Signedness::kUnsigned;
    absl::StatusOr<Table> table = ReadEvoApproxLut(lut, signedness);
    if (!table.ok()) return table.status();
    absl::StatusOr<Multiplier> m = Multiplier::Create(id, signedness, *table);
    if (!m.ok()) return m.status();
    imported.push_back({*std::move(m), lut, record});
  }
  for (CatalogEntry& entry : imported) {
    if (absl::Status s = Add(std::move(entry)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Catalog::Add(CatalogEntry entry) {
  const std::string id = entry.multiplier.id();
  if (by_id_.count(id)) {
    return absl::AlreadyExistsError(absl::StrCat("multiplier '", id, "' is already in the catalog"));
  }
  by_id_[id] = entries_.size();
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::StatusOr<CatalogEntry> Catalog::Get(absl::string_view id) const {
  if (auto it = by_id_.find(id); it != by_id_.end()) return entries_[it->second];
  const std::string family(id.substr(0, id.find(':')));
  if (IsImportedFamily(family)) {
    return absl::NotFoundError(absl::StrCat(
        "multiplier '", id, "' is not in the catalog; import its table first (for evo: tables, "
        "point --multipliers_dir at the folder holding multipliers.json)"));
  }
  absl::StatusOr<Multiplier> m = MakeBuiltin(id);
  if (!m.ok()) return m.status();
  if (auto it = by_id_.find(m->id()); it != by_id_.end()) return entries_[it->second];
  return CatalogEntry{*std::move(m), "built-in", std::nullopt};
}

std::vector<CatalogEntry> Catalog::Match(absl::string_view pattern) const {
  const std::string p(pattern);
  std::vector<CatalogEntry> out;
  for (const CatalogEntry& e : entries_) {
    if (fnmatch(p.c_str(), e.multiplier.id().c_str(), 0) == 0) out.push_back(e);
  }
  return out;
}

}  // namespace transaxx::approx
