// Creates the search strategies by kind: MCTS (the default), random, greedy,
// NSGA-II and exhaustive enumeration, each behind the Strategy interface.
//
// Thread-safety: MakeStrategy is thread-safe; each strategy is not.
#ifndef TRANSAXX_LIBS_SEARCH_STRATEGIES_H_
#define TRANSAXX_LIBS_SEARCH_STRATEGIES_H_

#include <cmath>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "libs/search/search_space.h"
#include "libs/search/sensitivity.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

enum class StrategyKind { kMcts, kRandom, kGreedy, kNsga2, kExhaustive };

struct MctsOptions {
  // UCT exploration constant c, >= 0.
  double exploration_constant = std::sqrt(2.0);
  // false: WU-UCT (in-flight visits count in the exploration term); true:
  // classic virtual loss of `virtual_loss` per in-flight visit.
  bool use_virtual_loss = false;
  double virtual_loss = 1.0;
  // Rollouts per expanded node, >= 1.
  int rollouts_per_expansion = 1;
  // Weight of the sensitivity/power prior in selection and rollouts, >= 0;
  // 0: uniform rollouts.
  double prior_weight = 1.0;
};

struct Nsga2Options {
  // >= 4.
  int population_size = 32;
  // In [0, 1].
  double crossover_probability = 0.9;
  // Per-decision, in [0, 1]; negative: 1 / decisions.
  double mutation_probability = -1;
};

struct StrategyOptions {
  StrategyKind kind = StrategyKind::kMcts;
  uint64_t seed = 0;
  // The objective's threshold: maximize saving subject to drop <= this.
  double max_accuracy_drop_pp = 1.0;
  MctsOptions mcts;
  Nsga2Options nsga2;
  // The sensitivity table (MCTS prior, greedy order); may be empty.
  Sensitivity sensitivity;
};

// INVALID_ARGUMENT for an invalid space or options out of range (naming the
// option). Only the chosen kind's options are checked, so a caller need not
// clean up the settings of strategies it does not run. UNIMPLEMENTED for
// MCTS in a build without it (libs/search/mcts.cc absent).
absl::StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const SearchSpace& space,
                                                       const StrategyOptions& options);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_STRATEGIES_H_
