// Checks a SearchSpec and resolves it against the cluster: the model's
// layers (DescribeModel), the datasets' splits (ListDatasets), the candidate
// multipliers (the power model's catalog, cross-checked with the
// evaluators'), into what a job runs on: decisions, candidates with content
// hashes and relative power, the search space, and complete subsets.
//
// Errors name the offending field by its path in SubmitSearchRequest, e.g.
// `spec.candidate_multipliers[2]`, so a user knows what to fix.
//
// Thread-safety: pure functions of their arguments (the pool and stub are
// thread-safe).
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_SPEC_RESOLVER_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_SPEC_RESOLVER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/search/search_space.h"
#include "libs/search/strategies.h"
#include "services/search_coordinator/evaluator_pool.h"
#include "transaxx/v1/power_model.grpc.pb.h"
#include "transaxx/v1/search.pb.h"

namespace transaxx::coordinator {

// One decision of the search: the layers that share a multiplier.
struct Decision {
  std::string name;  // the group name, or the layer name
  std::vector<std::string> layers;
};

struct ResolvedSpec {
  v1::ModelRef model;  // with content hash
  // Candidates, `exact` first, one per distinct table.
  std::vector<v1::MultiplierRef> candidates;
  std::vector<double> candidate_relative_power;
  // Every layer a configuration covers, model order (the power model's input).
  std::vector<v1::LayerMacs> covered_layers;
  // Searched layers in model order, and the decisions over them.
  std::vector<std::string> searched_layers;
  std::vector<Decision> decisions;
  search::SearchSpace space;
  // Subsets with dataset content hashes; validation only when `has_validation`.
  v1::DatasetSubset search_subset;
  v1::DatasetSubset validation_subset;
  bool has_validation = false;
  v1::DatasetSubset sensitivity_subset;
  v1::CalibrationSpec calibration;
};

// The checks that need nothing but the spec: required fields, ranges,
// strategy parameters matching the strategy. INVALID_ARGUMENT naming the field.
absl::Status CheckSpecFields(const v1::SearchSpec& spec);

// CheckSpecFields, then resolution. INVALID_ARGUMENT naming the field for
// unknown model, dataset, split, multiplier or layer, a subset larger than
// its split, overlapping groups, an EXHAUSTIVE space above the budget;
// FAILED_PRECONDITION for a content hash mismatch or a candidate the
// evaluators do not have (or have with another table) or whose power is
// unknown; UNAVAILABLE when the evaluators or the power model cannot be
// reached.
absl::StatusOr<ResolvedSpec> ResolveSpec(const v1::SearchSpec& spec, EvaluatorPool& pool,
                                         v1::PowerModel::Stub& power);

// The full per-layer configuration of `assignment`: every covered layer
// listed, unsearched ones exact. REQUIRES: assignment valid for the space.
v1::Configuration ConfigurationOf(const ResolvedSpec& resolved,
                                  const search::Assignment& assignment);

// The strategy options of the spec (threshold, seed, parameters).
search::StrategyOptions StrategyOptionsOf(const v1::SearchSpec& spec);

// Number of images a subset selects, given its split's size.
int64_t SubsetSize(const v1::DatasetSubset& subset, int64_t split_size);

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_SPEC_RESOLVER_H_
