// Tests of greedy search: its decision order, the per-decision rounds, the
// optimum on a separable objective, resume and abandon.
#include "libs/search/greedy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

// Four decisions of equal MAC share, savings {0, 0.05, 0.1} each; drops
// rising from decision 0 (least sensitive) to decision 3, stored in a
// shuffled decision order so that the order is really the table's.
SyntheticProblem Separable() {
  SyntheticProblem p;
  p.space.saving.assign(4, {0, 0.05, 0.1});
  p.space.mac_fraction.assign(4, 0.25);
  p.drop_pp = {{0, 0.3, 0.9}, {0, 0.1, 0.2}, {0, 0.6, 2.0}, {0, 0.2, 0.5}};
  return p;
}

Sensitivity TableOf(const SyntheticProblem& p) { return {p.drop_pp}; }

// The best saving with drop <= threshold, by enumeration.
Assignment BruteForceOptimum(const SyntheticProblem& p, double threshold) {
  Assignment best = p.space.Exact();
  for (const Assignment& a : AllAssignments(p.space)) {
    const Outcome o = p.Evaluate(a);
    if (o.accuracy_drop_pp <= threshold && o.relative_power < p.space.RelativePower(best)) {
      best = a;
    }
  }
  return best;
}

TEST(GreedySearchTest, OrderFollowsSensitivityThenMacShare) {
  SyntheticProblem p = Separable();
  GreedySearch greedy(p.space, TableOf(p), 1.0);
  EXPECT_EQ(greedy.order(), (std::vector<int>{1, 3, 0, 2}));

  // Ties in mean drop go to the larger MAC share; unmeasured rows go last.
  p.space.mac_fraction = {0.1, 0.2, 0.3, 0.4};
  Sensitivity table = TableOf(p);
  table.drop_pp[0] = {0, 0.1, 0.2};
  table.drop_pp[2] = {0, NAN, NAN};
  table.drop_pp[3] = {0, NAN, 0.9};  // mean over the measured one: 0.9
  EXPECT_EQ(GreedySearch(p.space, table, 1.0).order(), (std::vector<int>{1, 0, 3, 2}));

  // Without a table: MAC share descending, ties by index.
  p.space.mac_fraction = {0.2, 0.4, 0.2, 0.2};
  EXPECT_EQ(GreedySearch(p.space, Sensitivity{}, 1.0).order(), (std::vector<int>{1, 0, 2, 3}));
}

TEST(GreedySearchTest, ProposesOneDecisionsCandidatesAndWaits) {
  const SyntheticProblem p = Separable();
  GreedySearch greedy(p.space, TableOf(p), 1.0);
  const std::vector<Assignment> round = greedy.Propose(10);
  EXPECT_EQ(round, (std::vector<Assignment>{{0, 1, 0, 0}, {0, 2, 0, 0}}));
  EXPECT_TRUE(greedy.Propose(10).empty());
  EXPECT_FALSE(greedy.Finished());
  greedy.Observe(round[0], p.Evaluate(round[0]));
  EXPECT_TRUE(greedy.Propose(10).empty());  // still waiting for round[1]
  greedy.Observe(round[1], p.Evaluate(round[1]));
  EXPECT_EQ(greedy.current(), (Assignment{0, 2, 0, 0}));
  // The next decision builds on the fixed one; a batch of one at a time.
  EXPECT_EQ(greedy.Propose(1), (std::vector<Assignment>{{0, 2, 0, 1}}));
  EXPECT_EQ(greedy.Propose(1), (std::vector<Assignment>{{0, 2, 0, 2}}));
}

TEST(GreedySearchTest, ReachesTheOptimumOfASeparableObjective) {
  const SyntheticProblem p = Separable();
  constexpr double kThreshold = 1.05;
  GreedySearch greedy(p.space, TableOf(p), kThreshold);
  const RunLog log = Drive(greedy, p, 1000, 4);
  EXPECT_TRUE(log.finished);
  // Two trials per decision.
  EXPECT_EQ(log.proposed.size(), 8u);
  const Assignment optimum = BruteForceOptimum(p, kThreshold);
  EXPECT_EQ(optimum, (Assignment{1, 2, 0, 2}));
  EXPECT_EQ(greedy.current(), optimum);
  EXPECT_LE(p.Evaluate(greedy.current()).accuracy_drop_pp, kThreshold);
}

TEST(GreedySearchTest, KeepsExactWhenNothingFits) {
  const SyntheticProblem p = Separable();
  GreedySearch greedy(p.space, TableOf(p), 0.05);
  Drive(greedy, p, 1000, 4);
  EXPECT_TRUE(greedy.Finished());
  EXPECT_EQ(greedy.current(), p.space.Exact());
}

TEST(GreedySearchTest, AbandonedTrialIsNotChosen) {
  const SyntheticProblem p = Separable();
  GreedySearch greedy(p.space, TableOf(p), 10.0);
  const std::vector<Assignment> round = greedy.Propose(10);
  ASSERT_EQ(round.size(), 2u);
  greedy.Abandon(round[1]);  // the larger saving
  greedy.Observe(round[0], p.Evaluate(round[0]));
  EXPECT_EQ(greedy.current(), (Assignment{0, 1, 0, 0}));
  EXPECT_EQ(greedy.Propose(10).size(), 2u);
}

TEST(GreedySearchTest, ResumeReusesObservedOutcomes) {
  const SyntheticProblem p = Separable();
  GreedySearch first(p.space, TableOf(p), 1.05);
  const RunLog before = Drive(first, p, 5, 2);  // two rounds and one trial
  ASSERT_EQ(before.observed.size(), 5u);

  GreedySearch resumed(p.space, TableOf(p), 1.05);
  for (size_t i = 0; i < before.observed.size(); ++i) {
    resumed.Observe(before.observed[i], before.outcomes[i]);
  }
  const RunLog after = Drive(resumed, p, 1000, 4);
  const std::set<Assignment> replayed(before.observed.begin(), before.observed.end());
  for (const Assignment& a : after.proposed) EXPECT_FALSE(replayed.contains(a));
  EXPECT_EQ(after.proposed.size(), 3u);
  EXPECT_TRUE(after.finished);
  EXPECT_EQ(resumed.current(), (Assignment{1, 2, 0, 2}));
}

TEST(GreedySearchTest, SingleCandidateSpaceIsFinishedAtOnce) {
  SearchSpace s;
  s.saving = {{0}, {0}};
  s.mac_fraction = {0.5, 0.5};
  GreedySearch greedy(s, Sensitivity{}, 1.0);
  EXPECT_TRUE(greedy.Finished());
  EXPECT_TRUE(greedy.Propose(4).empty());
}

}  // namespace
}  // namespace transaxx::search
