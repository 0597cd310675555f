// Tests of the sensitivity analysis: plan order and bounds, the table it
// fills, and what it ignores.
#include "libs/search/sensitivity.h"

#include <gtest/gtest.h>

#include <cmath>

namespace transaxx::search {
namespace {

SearchSpace ThreeDecisions() {
  SearchSpace s;
  s.saving = {{0, 0.01, 0.02, 0.03}, {0, 0.1, 0.2, 0.3}, {0, 0.05, 0.1, 0.15}};
  s.mac_fraction = {0.1, 0.6, 0.3};
  return s;
}

std::vector<Assignment> ProposeAll(SensitivityAnalysis& analysis) {
  std::vector<Assignment> all;
  for (std::vector<Assignment> batch = analysis.Propose(2); !batch.empty();
       batch = analysis.Propose(2)) {
    EXPECT_LE(batch.size(), 2u);
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

TEST(SensitivityTest, PlansByMacShareThenCandidates) {
  SensitivityAnalysis analysis(ThreeDecisions(), {3, 1}, 0);
  EXPECT_FALSE(analysis.Finished());
  const std::vector<Assignment> plan = ProposeAll(analysis);
  const std::vector<Assignment> expected = {{0, 3, 0}, {0, 1, 0}, {0, 0, 3},
                                            {0, 0, 1}, {3, 0, 0}, {1, 0, 0}};
  EXPECT_EQ(plan, expected);
  EXPECT_TRUE(analysis.Finished());
  EXPECT_FALSE(analysis.complete());
}

TEST(SensitivityTest, TiesInDecisionOrderAndBound) {
  SearchSpace s = ThreeDecisions();
  s.mac_fraction = {0.3, 0.3, 0.4};
  SensitivityAnalysis analysis(s, {1, 2}, 3);
  const std::vector<Assignment> expected = {{0, 0, 1}, {0, 0, 2}, {1, 0, 0}};
  EXPECT_EQ(ProposeAll(analysis), expected);
  EXPECT_TRUE(analysis.Finished());
}

TEST(SensitivityTest, FillsTableAndIgnoresOthers) {
  SensitivityAnalysis analysis(ThreeDecisions(), {1, 2}, 0);
  const std::vector<Assignment> plan = ProposeAll(analysis);
  ASSERT_EQ(plan.size(), 6u);
  // Not single-decision, not in the plan, all-exact, malformed: ignored.
  analysis.Observe({1, 1, 0}, {5.0, 0.5});
  analysis.Observe({0, 3, 0}, {5.0, 0.5});
  analysis.Observe({0, 0, 0}, {5.0, 1.0});
  analysis.Observe({1, 0}, {5.0, 1.0});
  const Sensitivity& table = analysis.table();
  ASSERT_EQ(table.drop_pp.size(), 3u);
  for (const std::vector<double>& row : table.drop_pp) {
    ASSERT_EQ(row.size(), 4u);
    EXPECT_EQ(row[0], 0);
    for (int c = 1; c < 4; ++c) EXPECT_TRUE(std::isnan(row[c]));
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    analysis.Observe(plan[i], {0.5 * static_cast<double>(i), 0.9});
  }
  EXPECT_TRUE(analysis.complete());
  EXPECT_EQ(table.drop_pp[1][1], 0.0);  // plan[0] = {0, 1, 0}
  EXPECT_EQ(table.drop_pp[1][2], 0.5);
  EXPECT_EQ(table.drop_pp[2][1], 1.0);
  EXPECT_EQ(table.drop_pp[0][2], 2.5);
  EXPECT_TRUE(std::isnan(table.drop_pp[0][3]));  // never planned
  // A repeated report changes nothing.
  analysis.Observe(plan[0], {9.0, 0.9});
  EXPECT_EQ(table.drop_pp[1][1], 0.0);
}

TEST(SensitivityTest, ResumeSkipsObservedAndAbandonLeavesAGap) {
  SensitivityAnalysis analysis(ThreeDecisions(), {1}, 0);
  analysis.Observe({0, 1, 0}, {0.25, 0.9});
  analysis.Observe({1, 0, 0}, {0.5, 0.99});
  const std::vector<Assignment> rest = analysis.Propose(10);
  EXPECT_EQ(rest, (std::vector<Assignment>{{0, 0, 1}}));
  EXPECT_TRUE(analysis.Finished());
  EXPECT_FALSE(analysis.complete());
  analysis.Abandon({0, 0, 1});
  EXPECT_TRUE(analysis.Propose(10).empty());
  EXPECT_FALSE(analysis.complete());
  EXPECT_TRUE(std::isnan(analysis.table().drop_pp[2][1]));
  EXPECT_EQ(analysis.table().drop_pp[1][1], 0.25);
}

TEST(SensitivityTest, AllReplayedIsFinishedBeforeProposing) {
  SensitivityAnalysis analysis(ThreeDecisions(), {2}, 0);
  analysis.Observe({0, 2, 0}, {0.1, 0.8});
  analysis.Observe({0, 0, 2}, {0.2, 0.9});
  EXPECT_FALSE(analysis.Finished());
  analysis.Observe({2, 0, 0}, {0.3, 0.99});
  EXPECT_TRUE(analysis.Finished());
  EXPECT_TRUE(analysis.complete());
  EXPECT_TRUE(analysis.Propose(5).empty());
}

}  // namespace
}  // namespace transaxx::search
