// Tests of random search: coverage and termination on small spaces,
// uniqueness and determinism, resume.
#include "libs/search/random_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

TEST(RandomSearchTest, CoversAThreeByThreeSpaceOnce) {
  const SyntheticProblem problem = RandomProblem(3, 3, 1);
  for (uint64_t seed : {1, 2, 3}) {
    RandomSearch random(problem.space, seed);
    const RunLog log = Drive(random, problem, 1000, 4);
    ASSERT_FALSE(testing::Test::HasFailure());
    EXPECT_EQ(log.proposed.size(), 27u);
    EXPECT_TRUE(log.finished);
    std::vector<Assignment> sorted = log.proposed;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, AllAssignments(problem.space));
  }
  const SyntheticProblem nine = RandomProblem(2, 3, 1);
  RandomSearch random(nine.space, 5);
  EXPECT_EQ(Drive(random, nine, 100, 1).proposed.size(), 9u);
  EXPECT_TRUE(random.Finished());
}

TEST(RandomSearchTest, DeterministicForASeed) {
  const SyntheticProblem problem = RandomProblem(8, 5, 2);
  RandomSearch a(problem.space, 42);
  RandomSearch b(problem.space, 42);
  RandomSearch c(problem.space, 43);
  const RunLog la = Drive(a, problem, 200, 7);
  const RunLog lb = Drive(b, problem, 200, 7);
  const RunLog lc = Drive(c, problem, 200, 7);
  EXPECT_EQ(la.proposed, lb.proposed);
  EXPECT_NE(la.proposed, lc.proposed);
}

TEST(RandomSearchTest, HugeSpaceNeverFinished) {
  const SyntheticProblem problem = RandomProblem(40, 8, 3);
  RandomSearch random(problem.space, 1);
  const RunLog log = Drive(random, problem, 500, 50);
  EXPECT_EQ(log.proposed.size(), 500u);
  EXPECT_FALSE(log.finished);
}

TEST(RandomSearchTest, ResumeNeverProposesAReplayedAssignment) {
  const SyntheticProblem problem = RandomProblem(3, 4, 4);  // 64 assignments
  RandomSearch first(problem.space, 9);
  const RunLog before = Drive(first, problem, 40, 8);
  RandomSearch resumed(problem.space, 9);
  for (size_t i = 0; i < before.observed.size(); ++i) {
    resumed.Observe(before.observed[i], before.outcomes[i]);
  }
  const RunLog after = Drive(resumed, problem, 1000, 8);
  EXPECT_EQ(after.proposed.size(), 24u);
  EXPECT_TRUE(after.finished);
  const std::set<Assignment> replayed(before.observed.begin(), before.observed.end());
  for (const Assignment& a : after.proposed) EXPECT_FALSE(replayed.contains(a));
}

TEST(RandomSearchTest, AbandonedAssignmentsAreNotRetried) {
  const SyntheticProblem problem = RandomProblem(2, 4, 5);
  RandomSearch random(problem.space, 3);
  const RunLog log = Drive(random, problem, 1000, 3, /*abandon_every=*/2);
  EXPECT_EQ(log.proposed.size(), 16u);  // Drive fails the test on a repeat
  EXPECT_EQ(log.observed.size(), 8u);
  EXPECT_TRUE(log.finished);
}

}  // namespace
}  // namespace transaxx::search
