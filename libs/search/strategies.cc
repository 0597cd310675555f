#include "libs/search/strategies.h"

#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "libs/search/exhaustive.h"
#include "libs/search/greedy.h"
#include "libs/search/mcts.h"
#include "libs/search/nsga2.h"
#include "libs/search/random_search.h"

namespace transaxx::search {
namespace {

constexpr double kNoBound = std::numeric_limits<double>::infinity();

// INVALID_ARGUMENT naming the option unless `value` is finite and in
// [lo, hi].
absl::Status CheckRange(absl::string_view name, double value, double lo, double hi) {
  if (std::isfinite(value) && value >= lo && value <= hi) return absl::OkStatus();
  if (hi == kNoBound) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " is ", value, "; it must be a finite number >= ", lo));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name, " is ", value, "; it must be in [", lo, ", ", hi, "]"));
}

absl::Status ValidateMcts(const MctsOptions& mcts) {
  if (absl::Status s =
          CheckRange("mcts.exploration_constant", mcts.exploration_constant, 0, kNoBound);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckRange("mcts.virtual_loss", mcts.virtual_loss, 0, kNoBound); !s.ok()) {
    return s;
  }
  if (mcts.rollouts_per_expansion < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mcts.rollouts_per_expansion is ", mcts.rollouts_per_expansion, "; it must be >= 1"));
  }
  return CheckRange("mcts.prior_weight", mcts.prior_weight, 0, kNoBound);
}

absl::Status ValidateNsga2(const Nsga2Options& nsga2) {
  if (nsga2.population_size < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("nsga2.population_size is ", nsga2.population_size, "; it must be >= 4"));
  }
  if (absl::Status s = CheckRange("nsga2.crossover_probability", nsga2.crossover_probability, 0, 1);
      !s.ok()) {
    return s;
  }
  // Negative means the default 1 / decisions.
  if (nsga2.mutation_probability < 0 && std::isfinite(nsga2.mutation_probability)) {
    return absl::OkStatus();
  }
  return CheckRange("nsga2.mutation_probability", nsga2.mutation_probability, 0, 1);
}

absl::Status ValidateSensitivity(const SearchSpace& space, const Sensitivity& sensitivity) {
  if (sensitivity.empty()) return absl::OkStatus();
  if (static_cast<int>(sensitivity.drop_pp.size()) != space.decisions()) {
    return absl::InvalidArgumentError(absl::StrCat("sensitivity has ", sensitivity.drop_pp.size(),
                                                   " rows for ", space.decisions(), " decisions"));
  }
  for (size_t d = 0; d < sensitivity.drop_pp.size(); ++d) {
    if (static_cast<int>(sensitivity.drop_pp[d].size()) != space.candidates()) {
      return absl::InvalidArgumentError(absl::StrCat("sensitivity row ", d, " has ",
                                                     sensitivity.drop_pp[d].size(), " entries for ",
                                                     space.candidates(), " candidates"));
    }
  }
  return absl::OkStatus();
}

// Only the options of the chosen kind are checked: a caller need not clean
// up the settings of strategies it does not run.
absl::Status ValidateOptions(const SearchSpace& space, const StrategyOptions& options) {
  if (absl::Status s = ValidateSpace(space); !s.ok()) return s;
  if (std::isnan(options.max_accuracy_drop_pp)) {
    return absl::InvalidArgumentError("max_accuracy_drop_pp is NaN; it must be a number");
  }
  if (absl::Status s = ValidateSensitivity(space, options.sensitivity); !s.ok()) return s;
  switch (options.kind) {
    case StrategyKind::kMcts:
      return ValidateMcts(options.mcts);
    case StrategyKind::kNsga2:
      return ValidateNsga2(options.nsga2);
    case StrategyKind::kRandom:
    case StrategyKind::kGreedy:
    case StrategyKind::kExhaustive:
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("kind ", static_cast<int>(options.kind), " is not a strategy"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const SearchSpace& space,
                                                       const StrategyOptions& options) {
  if (absl::Status s = ValidateOptions(space, options); !s.ok()) return s;
  switch (options.kind) {
    case StrategyKind::kMcts:
      return MakeMcts(space, options);
    case StrategyKind::kRandom:
      return std::make_unique<RandomSearch>(space, options.seed);
    case StrategyKind::kGreedy:
      return std::make_unique<GreedySearch>(space, options.sensitivity,
                                            options.max_accuracy_drop_pp);
    case StrategyKind::kNsga2:
      return std::make_unique<Nsga2>(space, options.nsga2, options.seed);
    case StrategyKind::kExhaustive:
      return std::make_unique<ExhaustiveSearch>(space);
  }
  return absl::InvalidArgumentError("unknown strategy kind");  // ValidateOptions caught it
}

}  // namespace transaxx::search
