#include "tests/search/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "libs/search/enumeration.h"

namespace transaxx::search {

Outcome SyntheticProblem::Evaluate(const Assignment& a) const {
  Outcome o;
  o.accuracy_drop_pp = 0;
  for (size_t d = 0; d < a.size(); ++d) o.accuracy_drop_pp += drop_pp[d][a[d]];
  o.relative_power = space.RelativePower(a);
  return o;
}

SyntheticProblem RandomProblem(int decisions, int candidates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  SyntheticProblem p;
  p.space.mac_fraction.assign(decisions, 1.0 / decisions);
  for (int d = 0; d < decisions; ++d) {
    std::vector<double> saving(candidates, 0);
    std::vector<double> drop(candidates, 0);
    for (int c = 1; c < candidates; ++c) {
      saving[c] = saving[c - 1] + unit(rng) * 0.2 / decisions;
      drop[c] = 3.0 * unit(rng) * unit(rng);
    }
    p.space.saving.push_back(saving);
    p.drop_pp.push_back(drop);
  }
  return p;
}

std::vector<Assignment> AllAssignments(const SearchSpace& space) {
  std::vector<Assignment> all;
  Assignment a = space.Exact();
  do {
    all.push_back(a);
  } while (NextAssignment(space, &a));
  return all;
}

RunLog Drive(Strategy& strategy, const SyntheticProblem& problem, int64_t max_evaluations,
             int batch, int abandon_every) {
  RunLog log;
  std::set<Assignment> seen;
  int64_t count = 0;
  while (static_cast<int64_t>(log.proposed.size()) < max_evaluations) {
    const int want =
        static_cast<int>(std::min<int64_t>(batch, max_evaluations - log.proposed.size()));
    std::vector<Assignment> proposals = strategy.Propose(want);
    EXPECT_LE(static_cast<int>(proposals.size()), want);
    if (proposals.empty()) {
      // Nothing is in flight here, so an empty answer must mean the end.
      EXPECT_TRUE(strategy.Finished()) << "proposes nothing, waits for nothing";
      break;
    }
    for (const Assignment& a : proposals) {
      EXPECT_TRUE(ValidateAssignment(problem.space, a).ok()) << AssignmentKey(a);
      EXPECT_TRUE(seen.insert(a).second) << "proposed twice: " << AssignmentKey(a);
      log.proposed.push_back(a);
    }
    if (testing::Test::HasFailure()) break;
    for (const Assignment& a : proposals) {
      if (abandon_every > 0 && ++count % abandon_every == 0) {
        strategy.Abandon(a);
        continue;
      }
      const Outcome o = problem.Evaluate(a);
      strategy.Observe(a, o);
      log.observed.push_back(a);
      log.outcomes.push_back(o);
    }
  }
  log.finished = strategy.Finished();
  return log;
}

}  // namespace transaxx::search
