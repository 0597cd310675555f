// The flags of `transaxx search submit` that describe a job, and the
// SearchSpec (proto/transaxx/v1/search.proto) they build: the model, the
// search/validation/calibration/sensitivity subsets, candidate multipliers,
// layers and layer groups, objective, budget, strategy and its parameters.
// Only what the command line can check is checked here (syntax, ranges,
// conflicts, parameters of another strategy); the coordinator checks the
// spec against the cluster.
//
// Thread-safety: plain functions.
#ifndef TRANSAXX_CLI_SEARCH_SPEC_FLAGS_H_
#define TRANSAXX_CLI_SEARCH_SPEC_FLAGS_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cli/args.h"
#include "transaxx/v1/search.pb.h"

namespace transaxx::cli {

// Value flags, boolean flags and repeatable value flags (--group) of the spec.
const std::set<std::string>& SpecValueFlags();
const std::set<std::string>& SpecBoolFlags();
const std::set<std::string>& SpecRepeatableFlags();

// The spec the flags describe. INVALID_ARGUMENT naming the flag for a
// missing --model, --multipliers or budget (--max_evaluations/--max_time),
// a malformed or out-of-range value, conflicting flags (--subset with
// --stratified), or a strategy parameter given for another strategy.
absl::StatusOr<v1::SearchSpec> SpecFromFlags(const Args& args);

// A comma list of multiplier ids or globs. Parameterized ids carry commas of
// their own (`bam:h=2,v=9`): a piece that has a `=` but no `:` before it
// continues the previous id. "drum:k=6,bam:h=2,v=9,evo:*" gives
// {"drum:k=6", "bam:h=2,v=9", "evo:*"}; empty pieces are dropped.
std::vector<std::string> SplitMultiplierList(absl::string_view list);

// The lower-case names used on the command line and in output:
// "mcts", "random", ...; "search"/"sensitivity"; "int8"/"fp32".
std::string StrategyName(v1::Strategy s);
std::string JobKindName(v1::JobKind k);
std::string BaselineName(v1::Baseline b);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_SEARCH_SPEC_FLAGS_H_
