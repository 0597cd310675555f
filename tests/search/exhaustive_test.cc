// Tests of exhaustive search: lexicographic order, every assignment once,
// resume.
#include "libs/search/exhaustive.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

TEST(ExhaustiveSearchTest, EveryAssignmentOnceInOrder) {
  const SyntheticProblem problem = RandomProblem(3, 4, 1);
  ExhaustiveSearch exhaustive(problem.space);
  const RunLog log = Drive(exhaustive, problem, 1000, 5);
  EXPECT_EQ(log.proposed, AllAssignments(problem.space));
  EXPECT_TRUE(log.finished);
  EXPECT_TRUE(exhaustive.Propose(3).empty());
}

TEST(ExhaustiveSearchTest, SingleAssignmentSpace) {
  SyntheticProblem problem = RandomProblem(2, 1, 1);
  ExhaustiveSearch exhaustive(problem.space);
  EXPECT_EQ(exhaustive.Propose(5), (std::vector<Assignment>{{0, 0}}));
  EXPECT_TRUE(exhaustive.Finished());
}

TEST(ExhaustiveSearchTest, ResumeSkipsObserved) {
  const SyntheticProblem problem = RandomProblem(2, 3, 1);
  ExhaustiveSearch exhaustive(problem.space);
  const std::set<Assignment> replayed = {{0, 0}, {0, 1}, {1, 1}, {2, 2}};
  for (const Assignment& a : replayed) exhaustive.Observe(a, problem.Evaluate(a));
  exhaustive.Observe({0, 1}, problem.Evaluate({0, 1}));  // twice: harmless
  exhaustive.Observe({0, 7}, {});                        // invalid: ignored
  const RunLog log = Drive(exhaustive, problem, 1000, 2);
  const std::vector<Assignment> expected = {{0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}};
  EXPECT_EQ(log.proposed, expected);
  EXPECT_TRUE(log.finished);
}

TEST(ExhaustiveSearchTest, ObservedAheadWhileRunningIsSkipped) {
  const SyntheticProblem problem = RandomProblem(2, 2, 1);
  ExhaustiveSearch exhaustive(problem.space);
  EXPECT_EQ(exhaustive.Propose(1), (std::vector<Assignment>{{0, 0}}));
  exhaustive.Abandon({0, 0});
  exhaustive.Observe({1, 1}, problem.Evaluate({1, 1}));
  exhaustive.Observe({0, 1}, problem.Evaluate({0, 1}));
  EXPECT_EQ(exhaustive.Propose(5), (std::vector<Assignment>{{1, 0}}));
  EXPECT_TRUE(exhaustive.Finished());
}

}  // namespace
}  // namespace transaxx::search
