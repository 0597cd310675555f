// Synthetic search problems for the strategy tests: spaces with known
// savings and an additive objective (each decision's candidate adds a fixed
// drop), so the true optimum and Pareto front can be enumerated. Plus a
// driver that runs a strategy against such an objective the way the
// coordinator does (propose a batch, report it, repeat), checking the
// protocol as it goes.
//
// Thread-safety: plain values and functions.
#ifndef TRANSAXX_TESTS_SEARCH_SYNTHETIC_H_
#define TRANSAXX_TESTS_SEARCH_SYNTHETIC_H_

#include <cstdint>
#include <set>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

struct SyntheticProblem {
  SearchSpace space;
  // drop_pp[d][c]: what decision d on candidate c adds to the drop;
  // drop_pp[d][0] == 0.
  std::vector<std::vector<double>> drop_pp;

  Outcome Evaluate(const Assignment& a) const;
};

// A space of `decisions` × `candidates` with equal MAC shares and savings
// rising with the candidate index; drops drawn from `seed`, not monotone in
// the saving (so the front is not trivial).
SyntheticProblem RandomProblem(int decisions, int candidates, uint64_t seed);

// Every assignment of a small space, in lexicographic order.
std::vector<Assignment> AllAssignments(const SearchSpace& space);

struct RunLog {
  std::vector<Assignment> proposed;  // in order
  std::vector<Assignment> observed;  // in order
  std::vector<Outcome> outcomes;     // of observed
  bool finished = false;
};

// Runs `strategy` for at most `max_evaluations` proposals in batches of
// `batch`, observing every proposal (abandoning every `abandon_every`-th
// one, 0: none) before asking again. Fails the current test when a
// proposal is invalid, repeated or already observed, or when the strategy
// proposes nothing with nothing in flight yet is not Finished.
RunLog Drive(Strategy& strategy, const SyntheticProblem& problem, int64_t max_evaluations,
             int batch, int abandon_every = 0);

}  // namespace transaxx::search

#endif  // TRANSAXX_TESTS_SEARCH_SYNTHETIC_H_
