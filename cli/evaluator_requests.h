// Parts of Evaluator requests built from command-line flags, shared by the
// commands that talk to an evaluator (`eval --server`, `finetune`): the
// configuration (--multiplier or --config), the calibration recipe
// (--calibration*, --percentile, --weight_granularity) and image subsets
// (--sample/--seed or --offset/--limit, with a prefix per subset).
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_EVALUATOR_REQUESTS_H_
#define TRANSAXX_CLI_EVALUATOR_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "libs/approx/catalog.h"
#include "libs/data/dataset_registry.h"
#include "libs/rpc/client_channel.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::cli {

// The reference of multiplier `id`: its hash from the local catalog
// (built-ins and --multipliers_dir), else from the evaluator's own catalog.
absl::StatusOr<v1::MultiplierRef> MultiplierRef(const std::string& id,
                                                const approx::Catalog& catalog,
                                                v1::Evaluator::Stub& stub,
                                                rpc::ClientChannel& channel, const Args& args);

// `out` from --multiplier (every layer but those exact by default, which
// the server's DescribeModel of `model` names; --attention_matmuls adds the
// attention matmuls) or a --config file. Returns include_attention_matmuls.
absl::StatusOr<bool> ConfigurationFromFlags(const Args& args, v1::Evaluator::Stub& stub,
                                            rpc::ClientChannel& channel,
                                            const v1::ModelRef& model, v1::Configuration& out);

// The calibration recipe of the flags, as the local `eval` uses it: a
// stratified sample of --calibration (default `dataset`'s train split).
absl::Status FillCalibration(const Args& args, const data::DatasetSpec& dataset,
                             v1::CalibrationSpec& out);

// The subset of `dataset` the flags --PREFIXsample N [--PREFIXseed S] or
// --PREFIXoffset/--PREFIXlimit select (neither: the whole split).
// INVALID_ARGUMENT naming the flag for a bad number or a mix of both forms.
absl::Status SubsetFromFlags(const Args& args, const std::string& prefix,
                             const data::DatasetSpec& dataset, v1::DatasetSubset& out);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_EVALUATOR_REQUESTS_H_
