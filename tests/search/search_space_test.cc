// Tests of the search space's arithmetic and validation, and of the
// enumeration helpers the strategies share.
#include "libs/search/search_space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "libs/search/enumeration.h"
#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

using ::testing::HasSubstr;

SearchSpace TwoByThree() {
  SearchSpace s;
  s.saving = {{0, 0.1, 0.2}, {0, 0.05, 0.3}};
  s.mac_fraction = {0.4, 0.6};
  return s;
}

TEST(SearchSpaceTest, SizeAndPower) {
  const SearchSpace s = TwoByThree();
  EXPECT_EQ(s.decisions(), 2);
  EXPECT_EQ(s.candidates(), 3);
  EXPECT_EQ(s.size(), 9);
  EXPECT_EQ(s.RelativePower(s.Exact()), 1.0);
  EXPECT_DOUBLE_EQ(s.RelativePower({2, 1}), 1 - 0.2 - 0.05);
  EXPECT_DOUBLE_EQ(s.RelativePower({1, 2}), 1 - 0.1 - 0.3);

  SearchSpace huge;
  huge.saving.assign(100, std::vector<double>(16, 0));
  EXPECT_DOUBLE_EQ(huge.size(), std::pow(16.0, 100));
}

TEST(SearchSpaceTest, ValidateSpace) {
  EXPECT_TRUE(ValidateSpace(TwoByThree()).ok());
  EXPECT_FALSE(ValidateSpace(SearchSpace{}).ok());

  SearchSpace ragged = TwoByThree();
  ragged.saving[1].pop_back();
  EXPECT_THAT(ValidateSpace(ragged).message(), HasSubstr("decision 1"));

  SearchSpace nonzero_exact = TwoByThree();
  nonzero_exact.saving[0][0] = 0.1;
  EXPECT_THAT(ValidateSpace(nonzero_exact).message(), HasSubstr("exact"));

  SearchSpace nan = TwoByThree();
  nan.saving[1][2] = NAN;
  EXPECT_EQ(ValidateSpace(nan).code(), absl::StatusCode::kInvalidArgument);

  SearchSpace fractions = TwoByThree();
  fractions.mac_fraction.pop_back();
  EXPECT_THAT(ValidateSpace(fractions).message(), HasSubstr("MAC fractions"));
  fractions.mac_fraction = {0.5, 1.5};
  EXPECT_THAT(ValidateSpace(fractions).message(), HasSubstr("MAC fraction of decision 1"));

  SearchSpace no_candidates;
  no_candidates.saving = {{}};
  no_candidates.mac_fraction = {1};
  EXPECT_FALSE(ValidateSpace(no_candidates).ok());
}

TEST(SearchSpaceTest, ValidateAssignmentAndKey) {
  const SearchSpace s = TwoByThree();
  EXPECT_TRUE(ValidateAssignment(s, {2, 0}).ok());
  EXPECT_FALSE(ValidateAssignment(s, {2}).ok());
  EXPECT_FALSE(ValidateAssignment(s, {3, 0}).ok());
  EXPECT_FALSE(ValidateAssignment(s, {0, -1}).ok());
  EXPECT_EQ(AssignmentKey({0, 3, 1, 0}), "0.3.1.0");
  EXPECT_EQ(AssignmentKey({12}), "12");
  EXPECT_NE(AssignmentKey({1, 12}), AssignmentKey({11, 2}));
}

TEST(EnumerationTest, NextAssignmentCountsLexicographically) {
  const SearchSpace s = TwoByThree();
  const std::vector<Assignment> all = AllAssignments(s);
  ASSERT_EQ(all.size(), 9u);
  EXPECT_EQ(all.front(), (Assignment{0, 0}));
  EXPECT_EQ(all[1], (Assignment{0, 1}));
  EXPECT_EQ(all[3], (Assignment{1, 0}));
  EXPECT_EQ(all.back(), (Assignment{2, 2}));
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  Assignment last = all.back();
  EXPECT_FALSE(NextAssignment(s, &last));
  EXPECT_EQ(last, s.Exact());
}

TEST(EnumerationTest, UnseenAndExhausted) {
  const SearchSpace s = TwoByThree();
  std::set<Assignment> seen = {{0, 0}, {1, 2}};
  const std::vector<Assignment> unseen = Unseen(s, seen);
  EXPECT_EQ(unseen.size(), 7u);
  for (const Assignment& a : unseen) EXPECT_FALSE(seen.contains(a));
  EXPECT_FALSE(Exhausted(s, seen));
  for (const Assignment& a : unseen) seen.insert(a);
  EXPECT_TRUE(Exhausted(s, seen));
}

TEST(EnumerationTest, UniformIndexCoversItsRange) {
  std::mt19937_64 rng(7);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 5000; ++i) ++counts[UniformIndex(rng, 5)];
  for (int c : counts) EXPECT_NEAR(c, 1000, 150);
  for (int i = 0; i < 1000; ++i) {
    const double u = UniformUnit(rng);
    EXPECT_GE(u, 0);
    EXPECT_LT(u, 1);
  }
}

}  // namespace
}  // namespace transaxx::search
