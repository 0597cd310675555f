// Flags shared by the commands that work locally (no server): the
// multiplier catalog, dataset roots, numbers, threads and output format.
//
// Thread-safety: functions read the environment; call from main.
#ifndef TRANSAXX_CLI_LOCAL_FLAGS_H_
#define TRANSAXX_CLI_LOCAL_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "libs/approx/catalog.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/data/dataset_registry.h"

namespace transaxx::cli {

// --output table|json (default table): true for json.
absl::StatusOr<bool> WantJson(const Args& args);

// The built-in multipliers plus the EvoApproxLib-style folder of
// --multipliers_dir (default $TRANSAXX_MULTIPLIERS_DIR), if any.
absl::StatusOr<approx::Catalog> CatalogFromFlags(const Args& args);

// Dataset roots from --datasets_dir (comma list; default
// $TRANSAXX_DATASETS_DIR), searched before Debian's /usr/share/datasets.
data::DatasetOptions DatasetOptionsFromFlags(const Args& args);

// --NAME as an integer >= min (default `fallback`); INVALID_ARGUMENT naming
// the flag otherwise.
absl::StatusOr<int64_t> IntFlag(const Args& args, const std::string& name, int64_t fallback,
                                int64_t min);
// --NAME as a finite number (default `fallback`), > 0 when `positive`,
// else >= 0.
absl::StatusOr<double> NumberFlag(const Args& args, const std::string& name, double fallback,
                                  bool positive);

// --weight_granularity per_channel (default) or per_tensor.
absl::StatusOr<approx::WeightQuantization> WeightGranularityFlag(const Args& args);

// at::set_num_threads(--threads, default: all cores). INVALID_ARGUMENT for
// a bad value.
absl::Status SetThreadsFromFlags(const Args& args);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_LOCAL_FLAGS_H_
