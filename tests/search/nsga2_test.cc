// Tests of NSGA-II: its generations, exhaustion of a small space, and the
// quality of its front on an enumerable synthetic problem.
#include "libs/search/nsga2.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/search/hypervolume.h"
#include "libs/search/pareto_archive.h"
#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

Nsga2Options Population(int size) {
  Nsga2Options options;
  options.population_size = size;
  return options;
}

std::vector<ParetoPoint> Points(const SyntheticProblem& p, const std::vector<Assignment>& as) {
  std::vector<ParetoPoint> points;
  for (const Assignment& a : as) {
    const Outcome o = p.Evaluate(a);
    points.push_back({AssignmentKey(a), 1 - o.accuracy_drop_pp / 100, o.relative_power});
  }
  return points;
}

TEST(Nsga2Test, FirstGenerationIsExactPlusRandomAndWaitsForAll) {
  const SyntheticProblem p = RandomProblem(5, 4, 1);
  Nsga2 nsga(p.space, Population(8), 1);
  std::vector<Assignment> first = nsga.Propose(5);
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[0], p.space.Exact());
  const std::vector<Assignment> rest = nsga.Propose(100);
  EXPECT_EQ(rest.size(), 3u);
  first.insert(first.end(), rest.begin(), rest.end());
  EXPECT_TRUE(nsga.Propose(100).empty());
  for (size_t i = 0; i + 1 < first.size(); ++i) nsga.Observe(first[i], p.Evaluate(first[i]));
  EXPECT_TRUE(nsga.Propose(100).empty());  // one member still out
  EXPECT_EQ(nsga.generation(), 0);
  EXPECT_FALSE(nsga.Finished());
  nsga.Abandon(first.back());
  EXPECT_EQ(nsga.generation(), 1);
  const std::vector<Assignment> offspring = nsga.Propose(100);
  EXPECT_EQ(offspring.size(), 8u);
  for (const Assignment& a : offspring) {
    EXPECT_EQ(std::count(first.begin(), first.end(), a), 0) << AssignmentKey(a);
  }
}

TEST(Nsga2Test, ExhaustsASmallSpace) {
  const SyntheticProblem p = RandomProblem(2, 3, 2);
  Nsga2 nsga(p.space, Population(4), 7);
  const RunLog log = Drive(nsga, p, 1000, 3);
  EXPECT_EQ(log.proposed.size(), 9u);
  EXPECT_TRUE(log.finished);
}

TEST(Nsga2Test, ResumeNeverProposesAReplayedAssignment) {
  const SyntheticProblem p = RandomProblem(4, 3, 3);  // 81 assignments
  Nsga2 first(p.space, Population(6), 5);
  const RunLog before = Drive(first, p, 30, 4);
  Nsga2 resumed(p.space, Population(6), 5);
  for (size_t i = 0; i < before.observed.size(); ++i) {
    resumed.Observe(before.observed[i], before.outcomes[i]);
  }
  const RunLog after = Drive(resumed, p, 1000, 4);
  const std::set<Assignment> replayed(before.observed.begin(), before.observed.end());
  for (const Assignment& a : after.proposed) EXPECT_FALSE(replayed.contains(a));
  EXPECT_EQ(after.proposed.size() + replayed.size(), 81u);
  EXPECT_TRUE(after.finished);
}

// Hypervolume over the region of interest (drops up to 1 pp): within a
// tenth of the evaluations NSGA-II must find 95% of the true front's, a bar
// that as many uniform samples do not clear on these problems.
TEST(Nsga2Test, FindsMostOfTheTrueFrontHypervolume) {
  constexpr int kDecisions = 6;
  constexpr int kCandidates = 4;
  constexpr double kReferenceAccuracy = 0.99;
  for (uint64_t seed : {1, 2, 3, 4}) {
    const SyntheticProblem p = RandomProblem(kDecisions, kCandidates, 100 + seed);
    const std::vector<Assignment> all = AllAssignments(p.space);
    const double true_hv = Hypervolume(NonDominated(Points(p, all)), kReferenceAccuracy, 1.0);
    ASSERT_GT(true_hv, 0);
    const int64_t budget = static_cast<int64_t>(all.size()) / 10;

    Nsga2 nsga(p.space, Nsga2Options{}, seed);
    const RunLog log = Drive(nsga, p, budget, 8);
    ASSERT_EQ(static_cast<int64_t>(log.proposed.size()), budget);
    const double found_hv = Hypervolume(Points(p, log.observed), kReferenceAccuracy, 1.0);
    EXPECT_GE(found_hv, 0.95 * true_hv) << "seed " << seed << ": " << found_hv << " of " << true_hv;

    std::vector<Assignment> sample = all;
    std::mt19937_64 rng(seed);
    std::shuffle(sample.begin(), sample.end(), rng);
    sample.resize(budget);
    EXPECT_LT(Hypervolume(Points(p, sample), kReferenceAccuracy, 1.0), 0.95 * true_hv)
        << "seed " << seed << ": the bar is too low to tell NSGA-II from random sampling";
  }
}

// On a space too large to enumerate, the front must at least be better
// than as many uniform samples give.
TEST(Nsga2Test, BeatsRandomSamplingOnTheSameBudget) {
  const SyntheticProblem p = RandomProblem(8, 4, 77);  // 65536 assignments
  double worst_accuracy = 1;
  for (int d = 0; d < 8; ++d) {
    worst_accuracy -= *std::max_element(p.drop_pp[d].begin(), p.drop_pp[d].end()) / 100;
  }
  Nsga2 nsga(p.space, Nsga2Options{}, 1);
  const double nsga_hv =
      Hypervolume(Points(p, Drive(nsga, p, 600, 8).observed), worst_accuracy, 1.0);
  // Uniform samples, the same number.
  std::mt19937_64 rng(1);
  std::vector<Assignment> sample;
  for (int i = 0; i < 600; ++i) {
    Assignment a(8);
    for (int& c : a) c = static_cast<int>(rng() % 4);
    sample.push_back(a);
  }
  const double random_hv = Hypervolume(Points(p, sample), worst_accuracy, 1.0);
  EXPECT_GT(nsga_hv, random_hv);
}

}  // namespace
}  // namespace transaxx::search
