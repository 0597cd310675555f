#include "services/power_model/power_model_service.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/rpc/handler_status.h"
#include "libs/rpc/v1_enums.h"
#include "libs/rpc/v1_multipliers.h"

namespace transaxx::power_model {
namespace {

namespace v1 = transaxx::v1;
using approx::HardwareInfo;
using approx::PowerCatalogEntry;

// How long a call may wait for a synthesis: until 200 ms before its deadline
// (so the answer still arrives), at most 10 minutes when it has none.
absl::Duration WaitBudget(const grpc::ServerContext& context) {
  const auto left = context.deadline() - std::chrono::system_clock::now();
  absl::Duration d = absl::FromChrono(left) - absl::Milliseconds(200);
  return std::clamp(d, absl::ZeroDuration(), absl::Minutes(10));
}

v1::FigureProvenance ToProto(approx::Provenance p) {
  switch (p) {
    case approx::Provenance::kPublished: return v1::FIGURE_PROVENANCE_PUBLISHED;
    case approx::Provenance::kEstimated: return v1::FIGURE_PROVENANCE_ESTIMATED;
    case approx::Provenance::kUnknown: break;
  }
  return v1::FIGURE_PROVENANCE_UNKNOWN;
}

void FillHardware(const HardwareInfo& h, v1::HardwareFigures* out) {
  if (h.power_mw) out->set_power_mw(*h.power_mw);
  if (h.area_um2) out->set_area_um2(*h.area_um2);
  if (h.delay_ns) out->set_delay_ns(*h.delay_ns);
  if (h.power_mw && h.delay_ns) out->set_energy_pj_per_op(*h.power_mw * *h.delay_ns);
  if (h.relative_power) out->set_relative_power(*h.relative_power);
  if (h.relative_area) out->set_relative_area(*h.relative_area);
  out->set_provenance(ToProto(h.provenance));
  out->set_technology(h.technology);
  out->set_source(h.source);
  if (h.cells) out->set_cell_count(*h.cells);
  if (h.transistors) out->set_transistor_count(*h.transistors);
  if (!h.relative_to_id.empty()) {
    out->mutable_relative_to()->set_id(h.relative_to_id);
    out->mutable_relative_to()->set_content_hash(h.relative_to_hash);
  }
}

void FillInfo(approx::PowerCatalog& catalog, const PowerCatalogEntry& e, const HardwareInfo& h,
              v1::MultiplierInfo* out) {
  rpc::FillMultiplierInfo(e.multiplier, e.description, e.source, catalog.Errors(e.multiplier),
                          catalog.StructureOf(e.multiplier), out);
  FillHardware(h, out->mutable_hardware());
}

bool IsHash(absl::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
         });
}

// Page tokens: "<offset>.<fingerprint of the filter>", so a token is only
// accepted for the filter it was issued for.
std::string FilterFingerprint(const v1::MultiplierFilter& f) {
  return absl::StrCat(std::hash<std::string>{}(f.SerializeAsString()) & 0xffffffffffff);
}

// The catalog entry a MultiplierRef names, with errors for the field `field`.
// `missing` is the code of an id that is well-formed but not in the catalog.
absl::StatusOr<PowerCatalogEntry> Lookup(approx::PowerCatalog& catalog, const v1::MultiplierRef& ref,
                                         const std::string& field, absl::StatusCode missing) {
  if (ref.id().empty()) return absl::InvalidArgumentError(field + ".id: empty");
  absl::StatusOr<PowerCatalogEntry> e = catalog.Get(ref.id());
  if (!e.ok()) {
    const absl::StatusCode code =
        e.status().code() == absl::StatusCode::kNotFound ? missing : e.status().code();
    return absl::Status(code, absl::StrCat(field, ".id: ", e.status().message()));
  }
  if (!ref.content_hash().empty() && ref.content_hash() != e->multiplier.content_hash()) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ".content_hash: '", ref.content_hash(), "' differs from the catalog's table of '",
        e->multiplier.id(), "' (", e->multiplier.content_hash(), ")"));
  }
  return e;
}

void AddSameTable(approx::PowerCatalog& catalog, const approx::Multiplier& m,
                  google::protobuf::RepeatedPtrField<v1::MultiplierRef>* out) {
  for (const std::string& id : catalog.IdsWithHash(m.content_hash())) {
    if (id == m.id()) continue;
    v1::MultiplierRef* ref = out->Add();
    ref->set_id(id);
    ref->set_content_hash(m.content_hash());
  }
}

std::string OperandName(int index, bool is_signed) {
  const int a = index >> 8, b = index & 0xff;
  return is_signed ? absl::StrCat("A=", static_cast<int8_t>(a), ", B=", static_cast<int8_t>(b))
                   : absl::StrCat("A=", a, ", B=", b);
}

// The uploaded table, in canonical form, checked against the proto's rules.
absl::StatusOr<approx::Table> UploadedTable(const v1::CharacterizeMultiplierRequest& r,
                                            bool is_signed) {
  approx::Table table;
  std::string field;
  if (r.table_case() == v1::CharacterizeMultiplierRequest::kValues) {
    field = "values.entries";
    if (r.values().entries_size() != approx::kTableSize) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", r.values().entries_size(),
                                                     " entries; expected 65536"));
    }
    std::copy(r.values().entries().begin(), r.values().entries().end(), table.begin());
  } else if (r.table_case() == v1::CharacterizeMultiplierRequest::kTableBytes) {
    field = "table_bytes";
    const std::string& bytes = r.table_bytes();
    const bool lut16 = r.encoding() == v1::TABLE_ENCODING_LUT16_LE;
    const size_t width = lut16 ? 2 : 4;
    if (bytes.size() != width * approx::kTableSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", bytes.size(), " bytes; expected ", width * approx::kTableSize, " for ",
          lut16 ? "TABLE_ENCODING_LUT16_LE" : "TABLE_ENCODING_INT32_LE"));
    }
    for (int i = 0; i < approx::kTableSize; ++i) {
      uint32_t v = 0;
      for (size_t k = 0; k < width; ++k) {
        v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[width * i + k])) << (8 * k);
      }
      table[i] = !lut16 ? static_cast<int32_t>(v)
                 : is_signed ? static_cast<int16_t>(v) : static_cast<int32_t>(v);
    }
  } else {
    return absl::InvalidArgumentError("table: required; give values or table_bytes");
  }
  const int32_t lo = is_signed ? -32768 : 0, hi = is_signed ? 32767 : 65535;
  for (int i = 0; i < approx::kTableSize; ++i) {
    if (table[i] < lo || table[i] > hi) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": entry ", table[i], " at ", OperandName(i, is_signed), " is outside ", lo,
          "..", hi, " (the 16-bit range of ", is_signed ? "signed" : "unsigned", " tables)"));
    }
  }
  return table;
}

absl::Status CheckName(const std::string& name) {
  if (name.size() > 64) {
    return absl::InvalidArgumentError(absl::StrCat("name: ", name.size(), " characters; at most 64"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "name: '", name, "' has the character '", std::string(1, c), "'; allowed: A-Za-z0-9._-"));
    }
  }
  return absl::OkStatus();
}

std::string OutcomeLabel(absl::StatusCode code) {
  return absl::AsciiStrToLower(absl::StatusCodeToString(code));
}

}  // namespace

PowerModelMetrics::PowerModelMetrics(rpc::MetricsRegistry& registry)
    : estimates(registry.AddCounter("transaxx_power_model_estimates_total",
                                    "EstimatePower calls by outcome (status code).", {"outcome"})),
      synthesis_runs(registry
                         .AddCounter("transaxx_power_model_synthesis_runs_total",
                                     "Yosys hardware estimates run (cache hits included).")
                         .WithLabels({})),
      synthesis_seconds(registry
                            .AddHistogram("transaxx_power_model_synthesis_seconds",
                                          "Wall time of one hardware estimate.", {},
                                          rpc::LatencyBucketsSeconds())
                            .WithLabels({})),
      catalog_size(registry
                       .AddGauge("transaxx_power_model_catalog_multipliers",
                                 "Multipliers listed in the catalog.")
                       .WithLabels({})) {}

PowerModelService::PowerModelService(approx::PowerCatalog* catalog, PowerModelMetrics* metrics)
    : catalog_(catalog), metrics_(metrics) {
  metrics_->catalog_size.Set(static_cast<double>(catalog_->size()));
}

grpc::Status PowerModelService::ListMultipliers(grpc::ServerContext*,
                                                const v1::ListMultipliersRequest* request,
                                                v1::ListMultipliersResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("ListMultipliers", [&]() -> absl::Status {
    const v1::MultiplierFilter& filter = request->filter();
    for (int i = 0; i < filter.id_globs_size(); ++i) {
      if (absl::Status s = rpc::CheckIdGlob(filter.id_globs(i), i); !s.ok()) return s;
    }
    if (request->page_size() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_size: ", request->page_size(), "; must be 0 .. 1000"));
    }
    const int page_size = request->page_size() == 0 ? 100 : std::min(request->page_size(), 1000);
    const std::string fingerprint = FilterFingerprint(filter);
    size_t offset = 0;
    if (!request->page_token().empty()) {
      std::pair<std::string, std::string> parts =
          absl::StrSplit(request->page_token(), absl::MaxSplits('.', 1));
      if (!absl::SimpleAtoi(parts.first, &offset) || parts.second != fingerprint) {
        return absl::InvalidArgumentError(absl::StrCat(
            "page_token: '", request->page_token(), "' was not issued for this filter"));
      }
    }
    std::vector<PowerCatalogEntry> matching;
    for (PowerCatalogEntry& e : catalog_->Entries()) {
      if (rpc::MatchesFilter(filter, e.multiplier)) matching.push_back(std::move(e));
    }
    if (offset > matching.size()) {
      return absl::InvalidArgumentError(absl::StrCat("page_token: '", request->page_token(),
                                                     "' is past the end of the listing"));
    }
    const size_t end = std::min(matching.size(), offset + page_size);
    for (size_t i = offset; i < end; ++i) {
      FillInfo(*catalog_, matching[i], catalog_->HardwareIfReady(matching[i]),
               response->add_multipliers());
    }
    if (end < matching.size()) response->set_next_page_token(absl::StrCat(end, ".", fingerprint));
    response->set_total_size(static_cast<int32_t>(matching.size()));
    return absl::OkStatus();
  }));
}

grpc::Status PowerModelService::GetMultiplier(grpc::ServerContext* context,
                                              const v1::GetMultiplierRequest* request,
                                              v1::GetMultiplierResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("GetMultiplier", [&]() -> absl::Status {
    const v1::MultiplierRef& ref = request->multiplier();
    absl::StatusOr<PowerCatalogEntry> entry;
    if (ref.id().empty()) {
      if (ref.content_hash().empty()) {
        return absl::InvalidArgumentError(
            "multiplier: give multiplier.id or multiplier.content_hash");
      }
      if (!IsHash(ref.content_hash())) {
        return absl::InvalidArgumentError(absl::StrCat("multiplier.content_hash: '",
                                                       ref.content_hash(),
                                                       "' is not 64 lowercase hex digits"));
      }
      const std::vector<std::string> ids = catalog_->IdsWithHash(ref.content_hash());
      if (ids.empty()) {
        return absl::NotFoundError(absl::StrCat("multiplier.content_hash: no catalog multiplier has table ",
                                                ref.content_hash()));
      }
      entry = catalog_->Get(ids.front());
    } else {
      entry = Lookup(*catalog_, ref, "multiplier", absl::StatusCode::kNotFound);
    }
    if (!entry.ok()) return entry.status();
    absl::StatusOr<HardwareInfo> h = catalog_->Hardware(*entry, WaitBudget(*context));
    if (!h.ok() && h.status().code() == absl::StatusCode::kUnavailable) return h.status();
    // Other synthesis failures (no Yosys) leave the figures UNKNOWN, with why.
    HardwareInfo figures;
    if (h.ok()) {
      figures = *h;
    } else {
      figures.source = std::string(h.status().message());
    }
    FillInfo(*catalog_, *entry, figures, response->mutable_multiplier());
    AddSameTable(*catalog_, entry->multiplier, response->mutable_same_table());
    return absl::OkStatus();
  }));
}

grpc::Status PowerModelService::CharacterizeMultiplier(
    grpc::ServerContext*, const v1::CharacterizeMultiplierRequest* request,
    v1::CharacterizeMultiplierResponse* response) {
  return rpc::ToGrpc(rpc::Guarded("CharacterizeMultiplier", [&]() -> absl::Status {
    if (request->signedness() != v1::SIGNEDNESS_SIGNED &&
        request->signedness() != v1::SIGNEDNESS_UNSIGNED) {
      return absl::InvalidArgumentError(
          "signedness: required; SIGNEDNESS_SIGNED or SIGNEDNESS_UNSIGNED");
    }
    const bool is_signed = request->signedness() == v1::SIGNEDNESS_SIGNED;
    if (absl::Status s = CheckName(request->name()); !s.ok()) return s;
    absl::StatusOr<approx::Table> table = UploadedTable(*request, is_signed);
    if (!table.ok()) return table.status();
    const approx::Signedness signedness =
        is_signed ? approx::Signedness::kSigned : approx::Signedness::kUnsigned;
    const std::string hash = approx::TableHash(*table);
    const std::string name = request->name().empty() ? hash.substr(0, 12) : request->name();
    absl::StatusOr<approx::Multiplier> m =
        approx::Multiplier::Create(absl::StrCat("user:", name), signedness, *table);
    if (!m.ok()) return m.status();
    if (!request->verilog_top_module().empty() && request->verilog().empty()) {
      return absl::InvalidArgumentError(
          "verilog_top_module: given without verilog; it names a module of the verilog field");
    }
    HardwareInfo hardware;
    hardware.source = "no hardware figures: give verilog";
    if (!request->verilog().empty()) {
      absl::StatusOr<HardwareInfo> h = catalog_->EstimateVerilog(request->verilog(), request->verilog_top_module(), *m);
      if (!h.ok()) {
        return absl::Status(h.status().code(), absl::StrCat("verilog: ", h.status().message()));
      }
      hardware = *h;
    }
    if (catalog_->IsExactTable(*m) && !hardware.relative_power) hardware.relative_power = 1;
    PowerCatalogEntry entry{*m, "uploaded", request->description(), std::nullopt, hardware};
    if (request->add_to_catalog()) {
      absl::StatusOr<bool> added = catalog_->AddUser(entry);
      if (!added.ok()) return added.status();
      response->set_added(*added);
      metrics_->catalog_size.Set(static_cast<double>(catalog_->size()));
    }
    FillInfo(*catalog_, entry, hardware, response->mutable_multiplier());
    AddSameTable(*catalog_, *m, response->mutable_same_table());
    return absl::OkStatus();
  }));
}

grpc::Status PowerModelService::EstimatePower(grpc::ServerContext* context,
                                              const v1::EstimatePowerRequest* request,
                                              v1::EstimatePowerResponse* response) {
  absl::StatusCode outcome = absl::StatusCode::kInternal;
  grpc::Status status = rpc::ToGrpc(rpc::Guarded("EstimatePower", [&]() -> absl::Status {
    const absl::Duration wait = WaitBudget(*context);
    // Each distinct multiplier id is resolved once per request.
    std::map<std::string, approx::MultiplierCost> costs;
    auto resolve = [&](const v1::MultiplierRef& ref,
                       const std::string& field) -> absl::StatusOr<approx::MultiplierCost> {
      if (auto it = costs.find(ref.id()); it != costs.end() && ref.content_hash().empty()) {
        return it->second;
      }
      absl::StatusOr<PowerCatalogEntry> e =
          Lookup(*catalog_, ref, field, absl::StatusCode::kInvalidArgument);
      if (!e.ok()) return e.status();
      absl::StatusOr<approx::MultiplierCost> cost = catalog_->Cost(*e, wait);
      if (!cost.ok()) {
        return absl::Status(cost.status().code(), absl::StrCat(field, ": ", cost.status().message()));
      }
      costs.emplace(ref.id(), *cost);
      return cost;
    };
    std::vector<approx::LayerMacs> layers;
    layers.reserve(request->layers_size());
    for (const v1::LayerMacs& l : request->layers()) {
      layers.push_back({l.name(), l.macs_per_image(), rpc::LayerKindFromProto(l.kind())});
    }
    const v1::Configuration& c = request->configuration();
    approx::PowerConfiguration config;
    for (int k = 0; k < c.assignments_size(); ++k) {
      absl::StatusOr<approx::MultiplierCost> cost =
          resolve(c.assignments(k).multiplier(),
                  absl::StrCat("configuration.assignments[", k, "].multiplier"));
      if (!cost.ok()) return cost.status();
      config.assignments.push_back({c.assignments(k).layer(), *std::move(cost)});
    }
    if (c.has_default_multiplier()) {
      absl::StatusOr<approx::MultiplierCost> cost =
          resolve(c.default_multiplier(), "configuration.default_multiplier");
      if (!cost.ok()) return cost.status();
      config.default_multiplier = *std::move(cost);
    }
    absl::StatusOr<approx::ConfigPowerEstimate> e = approx::EstimateConfigPower(layers, config);
    if (!e.ok()) return e.status();
    v1::PowerFigures* power = response->mutable_power();
    power->set_relative_power(e->relative_power);
    if (e->power_mw) power->set_power_mw(*e->power_mw);
    if (e->energy_pj_per_inference) power->set_energy_pj_per_inference(*e->energy_pj_per_inference);
    power->set_provenance(ToProto(e->provenance));
    response->set_config_hash(e->config_hash);
    response->set_total_macs_per_image(e->total_macs_per_image);
    response->set_approximated_mac_fraction(e->approximated_mac_fraction);
    response->set_approximated_power_share(e->approximated_power_share);
    for (const approx::LayerPowerEstimate& l : e->layers) {
      v1::LayerPower* out = response->add_layers();
      out->set_layer(l.layer);
      out->set_kind(rpc::LayerKindToProto(l.kind));
      out->set_macs_per_image(l.macs_per_image);
      out->set_mac_fraction(l.mac_fraction);
      out->mutable_multiplier()->set_id(l.multiplier_id);
      out->mutable_multiplier()->set_content_hash(l.multiplier_hash);
      out->set_multiplier_relative_power(l.multiplier_relative_power);
      out->set_relative_power_contribution(l.relative_power_contribution);
      if (l.power_mw_contribution) out->set_power_mw_contribution(*l.power_mw_contribution);
      if (l.energy_pj_per_inference) out->set_energy_pj_per_inference(*l.energy_pj_per_inference);
      out->set_provenance(ToProto(l.provenance));
    }
    return absl::OkStatus();
  }));
  outcome = static_cast<absl::StatusCode>(status.error_code());
  metrics_->estimates.WithLabels({OutcomeLabel(outcome)}).Increment();
  return status;
}

}  // namespace transaxx::power_model
