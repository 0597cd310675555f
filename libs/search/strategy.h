// A search strategy: proposes assignments to evaluate and learns from their
// outcomes, asynchronously (ask/tell), so many evaluations can be in flight.
//
// Protocol, driven by one caller (the coordinator's job runner or a
// benchmark):
//   - Propose(n) returns up to n assignments never returned before and never
//     observed; it may return fewer, even none, while it waits for results
//     of in-flight ones. Finished() is true when it will never propose again
//     (space exhausted, greedy walk done); the caller then stops once nothing
//     is in flight.
//   - Every proposed assignment later gets exactly one Observe (its outcome)
//     or Abandon (its evaluation failed for good).
//   - Observe may also be called, before any Propose, for assignments the
//     strategy never proposed: a resumed job replays its completed
//     evaluations in their original order, and the strategy rebuilds its
//     state (the MCTS tree, NSGA-II's population, random's seen set) from
//     them. Those assignments count as seen: they are never proposed.
//
// Determinism: with the same seed, the same calls in the same order give the
// same proposals.
//
// Thread-safety: not thread-safe; the caller serializes calls.
#ifndef TRANSAXX_LIBS_SEARCH_STRATEGY_H_
#define TRANSAXX_LIBS_SEARCH_STRATEGY_H_

#include <vector>

#include "libs/search/search_space.h"

namespace transaxx::search {

// What an evaluation found out about an assignment.
struct Outcome {
  // 100 · (baseline top-1 − top-1), percentage points; negative when better
  // than the baseline.
  double accuracy_drop_pp = 0;
  // Relative power (1 = all exact).
  double relative_power = 1;
};

class Strategy {
 public:
  virtual ~Strategy() = default;

  virtual std::vector<Assignment> Propose(int max_count) = 0;
  virtual void Observe(const Assignment& assignment, const Outcome& outcome) = 0;
  virtual void Abandon(const Assignment& assignment) = 0;
  virtual bool Finished() const = 0;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_STRATEGY_H_
