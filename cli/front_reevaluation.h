// The Pareto front of a search job re-evaluated on another model, typically
// one fine-tuned for a front configuration (`transaxx finetune`): every
// front point's configuration evaluated on that model with the job's
// calibration and images (its validation subset, else its search subset),
// beside the accuracy the job measured. Backs `transaxx search results JOB
// --model ID --evaluator HOST:PORT`.
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_FRONT_REEVALUATION_H_
#define TRANSAXX_CLI_FRONT_REEVALUATION_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "libs/rpc/client_channel.h"
#include "transaxx/v1/search.pb.h"

namespace transaxx::cli {

struct ReevaluatedPoint {
  const v1::SearchPoint* point = nullptr;  // into the results it came from
  v1::Accuracy job_accuracy;               // what the job measured on those images
  v1::Accuracy accuracy;                   // on the other model
};

struct FrontReevaluation {
  std::string model;         // id of the other model
  std::string model_hash;    // its content hash
  std::string images;        // "DATASET:SPLIT" and how many images
  std::vector<ReevaluatedPoint> points;  // in SortedFront order
};

// Evaluates every front point of `results` (of a job with `spec`) on
// `model` through the evaluator behind `channel` (at `address`, for
// messages), one Evaluate per point; the first failure ends it with the
// evaluator's error.
absl::StatusOr<FrontReevaluation> ReevaluateFront(const v1::GetResultsResponse& results,
                                                  const v1::SearchSpec& spec,
                                                  const std::string& model,
                                                  const rpc::ClientChannel& channel,
                                                  const std::string& address);

// A table: #, relative power, top-1 of the job, top-1 on the model, change.
std::string ReevaluationTable(const FrontReevaluation& r);
// {"model", "model_hash", "images", "points": [{config_hash,
// relative_power, job_top1, top1, change_pp}]}.
nlohmann::json ReevaluationJson(const FrontReevaluation& r);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_FRONT_REEVALUATION_H_
