// The multiplier catalog of the power model: built-in multipliers, imported
// EvoApproxLib tables and users' uploaded tables, each with its error figures
// and its hardware figures with their provenance:
//
// - PUBLISHED for imported records with published PDK45 figures; relative
//   power/area = the record's figure / that of the catalog's exact circuit
//   of the same signedness (the first imported entry, in id order, whose
//   table is the exact product and whose figure is published, e.g.
//   evo:mul8s_1KV6 signed and evo:mul8u_1JJQ unsigned).
// - ESTIMATED for built-ins (Yosys synthesis, libs/approx/hardware) and for
//   uploaded tables characterized with Verilog: relative figures from the
//   synthesis, absolute ones scaled to the catalog's exact circuit's
//   published mW / µm², so estimates and published figures share one scale.
// - UNKNOWN otherwise.
// Tables equal to the exact product have relative power 1 by definition and
// the absolute figures of the catalog's exact circuit; they never need a
// synthesis.
//
// Synthesis takes seconds, so estimates are computed lazily, one Yosys at a
// time on a background thread, cached on disk (the hardware library caches
// by multiplier hash under STATE_DIR/synthesis_cache) and in memory. A caller
// waits at most its own bound: when the estimate is not ready by then it
// gets UNAVAILABLE ("being estimated, retry"), the synthesis goes on and the
// next call finds it. WarmInBackground starts estimates ahead of any call.
//
// Uploaded tables added to the catalog are persisted under
// STATE_DIR/user_multipliers (NAME.i32: the canonical int32 table; NAME.json:
// signedness, description, hardware figures) and reloaded by Open.
//
// Thread-safety: every method may be called concurrently.
#ifndef TRANSAXX_LIBS_APPROX_POWER_CATALOG_H_
#define TRANSAXX_LIBS_APPROX_POWER_CATALOG_H_

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/approx/config_power.h"
#include "libs/approx/error_metrics.h"
#include "libs/approx/hardware/estimate.h"
#include "libs/approx/structure.h"
#include "libs/approx/multiplier.h"
#include "libs/approx/table_io.h"

namespace transaxx::approx {

struct HardwareInfo {
  std::optional<double> power_mw, area_um2, delay_ns, relative_power, relative_area;
  Provenance provenance = Provenance::kUnknown;
  std::string technology;  // "PDK45", "yosys-cmos"
  std::string source;
  std::optional<int64_t> cells, transistors;
  // The exact multiplier the relative figures are against; empty when unknown.
  std::string relative_to_id, relative_to_hash;
};

struct PowerCatalogEntry {
  Multiplier multiplier;
  std::string source;  // "built-in", "EvoApproxLib ...", "uploaded"
  std::string description;
  std::optional<PublishedFigures> published;  // imported records
  std::optional<HardwareInfo> hardware;       // uploaded tables: fixed at upload
};

struct PowerCatalogOptions {
  // EvoApproxLib-style folders (multipliers.json + NAME.lut), imported as evo:NAME.
  std::vector<std::string> evoapprox_dirs;
  // Persistent state (user tables, synthesis cache); "" keeps nothing.
  std::string state_dir;
  hardware::SynthesisOptions synthesis;  // cache_dir is set from state_dir
  // Called after every Yosys estimate with its wall time, for metrics.
  std::function<void(absl::Duration)> on_synthesis;
};

class PowerCatalog {
 public:
  // Imports the folders and reloads persisted user tables. Errors name the
  // folder or file (see Catalog::ImportEvoApprox).
  static absl::StatusOr<std::unique_ptr<PowerCatalog>> Open(PowerCatalogOptions options);
  // Waits for running syntheses (each bounded by the synthesis timeout).
  ~PowerCatalog();

  // Every listed entry, in id order.
  std::vector<PowerCatalogEntry> Entries() const;
  size_t size() const;
  // A listed entry or a built-in made on demand. NOT_FOUND / INVALID_ARGUMENT
  // as Catalog::Get.
  absl::StatusOr<PowerCatalogEntry> Get(absl::string_view id) const;
  // Ids of the listed entries with this table hash, in id order.
  std::vector<std::string> IdsWithHash(absl::string_view hash) const;

  // Error figures, memoized by cache_key().
  ErrorReport Errors(const Multiplier& multiplier);
  // Kernel path analysis (structure.h), from the process-wide memo that the
  // GEMMs use (structure_cache.h).
  absl::StatusOr<Structure> StructureOf(const Multiplier& multiplier);

  // Hardware figures of `entry`, waiting at most `wait` for a synthesis.
  // UNAVAILABLE when still running after `wait`; the synthesis errors
  // (FAILED_PRECONDITION without Yosys, ...) when it failed.
  absl::StatusOr<HardwareInfo> Hardware(const PowerCatalogEntry& entry, absl::Duration wait);
  // Figures known now without waiting; starts a missing estimate in the
  // background and reports UNKNOWN ("pending") meanwhile.
  HardwareInfo HardwareIfReady(const PowerCatalogEntry& entry);
  // What EstimateConfigPower needs of `entry` (Hardware's errors).
  absl::StatusOr<MultiplierCost> Cost(const PowerCatalogEntry& entry, absl::Duration wait);

  // Estimates the figures of module `top_module` ("" = its top) of a user's
  // Verilog for `m` now (synthesis errors as in synthesis.h), scaled like
  // the built-ins'.
  absl::StatusOr<HardwareInfo> EstimateVerilog(absl::string_view verilog,
                                               absl::string_view top_module, const Multiplier& m);

  // Adds and persists an uploaded entry (id `user:NAME`). Returns false,
  // changing nothing, when the same id already holds the same table;
  // ALREADY_EXISTS when it holds another; errors of the file system.
  absl::StatusOr<bool> AddUser(PowerCatalogEntry entry);

  // Starts the estimates of these built-in ids in the background.
  void WarmInBackground(const std::vector<std::string>& ids);

  // True when `m`'s table is the exact product of its signedness.
  bool IsExactTable(const Multiplier& m) const;

 private:
  using Estimate = absl::StatusOr<hardware::EstimatedFigures>;
  explicit PowerCatalog(PowerCatalogOptions options);
  absl::Status LoadUserTables();
  // The catalog's exact circuit with published figures for `s`, if any.
  const PowerCatalogEntry* Reference(Signedness s) const;  // REQUIRES: mu_ held
  HardwareInfo Published(const PowerCatalogEntry& entry) const;  // REQUIRES: mu_ held
  HardwareInfo Scaled(const hardware::EstimatedFigures& e, Signedness s,
                      const std::string& source) const;
  HardwareInfo ExactFigures(Signedness s) const;
  std::shared_future<Estimate> StartEstimate(const PowerCatalogEntry& entry);
  absl::StatusOr<HardwareInfo> Resolve(const PowerCatalogEntry& entry,
                                       std::optional<absl::Duration> wait);

  const PowerCatalogOptions options_;
  std::string signed_exact_hash_, unsigned_exact_hash_;
  mutable std::mutex mu_;
  std::map<std::string, PowerCatalogEntry, std::less<>> entries_;  // by id
  std::map<std::string, ErrorReport, std::less<>> errors_;         // by cache_key()
  std::map<std::string, std::shared_future<Estimate>, std::less<>> estimates_;  // by hash
  std::mutex synthesis_mu_;  // one Yosys at a time: they each want a core
};

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_POWER_CATALOG_H_
