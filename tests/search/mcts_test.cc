#include "libs/search/mcts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <vector>

#include "libs/search/hypervolume.h"
#include "libs/search/pareto_archive.h"
#include "libs/search/random_search.h"
#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

using ::testing::Each;
using ::testing::SizeIs;

StrategyOptions Options(uint64_t seed) {
  StrategyOptions o;
  o.seed = seed;
  o.max_accuracy_drop_pp = 1.0;
  return o;
}

// A separable objective with unequal MAC shares: candidate c keeps
// kPowerRatio[c] of exact's power; decision d's drop on c is its random
// sensitivity times the candidate's error. The sensitivity table the search
// gets is that drop measured with multiplicative noise, so the prior is
// informative but not an oracle.
struct Problem {
  SyntheticProblem truth;
  Sensitivity table;
};

Problem SeparableProblem(int decisions, int candidates, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::lognormal_distribution<double> sensitivity(0.0, 1.0);
  std::lognormal_distribution<double> noise(0.0, 0.3);
  Problem p;
  SearchSpace& space = p.truth.space;
  double total = 0;
  for (int d = 0; d < decisions; ++d) {
    space.mac_fraction.push_back(-std::log(1.0 - unit(rng)));
    total += space.mac_fraction.back();
  }
  for (int d = 0; d < decisions; ++d) {
    double& w = space.mac_fraction[d];
    w /= total;
    const double s = sensitivity(rng);
    std::vector<double> saving(candidates, 0), drop(candidates, 0), measured(candidates, 0);
    for (int c = 1; c < candidates; ++c) {
      const double ratio = 1.0 - 0.7 * c / (candidates - 1);
      saving[c] = w * (1.0 - ratio);
      drop[c] = s * 0.3 * std::pow(4.0, c - 1) * (0.5 + unit(rng));
      measured[c] = drop[c] * noise(rng);
    }
    space.saving.push_back(saving);
    p.truth.drop_pp.push_back(drop);
    p.table.drop_pp.push_back(measured);
  }
  return p;
}

// Accuracy as a fraction from a drop, for ParetoPoint/Hypervolume.
ParetoPoint Point(const Outcome& o) {
  return {"", 0.8 - o.accuracy_drop_pp / 100.0, o.relative_power};
}

struct FrontQuality {
  double hypervolume_fraction = 0;
  double best_feasible_saving = 0;
};

// Hypervolume of `outcomes` against the whole space's (reference: the
// space's worst accuracy, power 1), and the best saving within the
// threshold.
FrontQuality Quality(const SyntheticProblem& problem, const std::vector<Outcome>& outcomes,
                     double max_drop) {
  std::vector<ParetoPoint> all;
  double worst = 1;
  for (const Assignment& a : AllAssignments(problem.space)) {
    all.push_back(Point(problem.Evaluate(a)));
    worst = std::min(worst, all.back().accuracy);
  }
  std::vector<ParetoPoint> found;
  FrontQuality q;
  for (const Outcome& o : outcomes) {
    found.push_back(Point(o));
    if (o.accuracy_drop_pp <= max_drop) {
      q.best_feasible_saving = std::max(q.best_feasible_saving, 1.0 - o.relative_power);
    }
  }
  q.hypervolume_fraction = Hypervolume(found, worst, 1.0) / Hypervolume(all, worst, 1.0);
  return q;
}

double BestFeasibleSaving(const SyntheticProblem& problem, double max_drop) {
  double best = 0;
  for (const Assignment& a : AllAssignments(problem.space)) {
    const Outcome o = problem.Evaluate(a);
    if (o.accuracy_drop_pp <= max_drop) best = std::max(best, 1.0 - o.relative_power);
  }
  return best;
}

TEST(MctsTest, NeverRepeatsAndStaysValid) {
  const SyntheticProblem problem = RandomProblem(5, 5, 11);
  StrategyOptions options = Options(3);
  Mcts mcts(problem.space, options);
  // Drive fails the test on an invalid, repeated or observed proposal.
  const RunLog log = Drive(mcts, problem, 900, 7, /*abandon_every=*/9);
  EXPECT_THAT(log.proposed, SizeIs(900));
  const std::optional<Mcts::NodeStats> root = mcts.Stats({});
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->visits, static_cast<int64_t>(log.observed.size()));
  EXPECT_EQ(root->in_flight, 0);
  EXPECT_FALSE(mcts.Finished());
}

TEST(MctsTest, GrowsOnlyAlongTakenPaths) {
  // 25 decisions × 20 candidates: 20^25 assignments.
  const SyntheticProblem problem = RandomProblem(25, 20, 12);
  Mcts mcts(problem.space, Options(2));
  const RunLog log = Drive(mcts, problem, 2000, 16);
  EXPECT_THAT(log.proposed, SizeIs(2000));
  EXPECT_LE(mcts.node_count(), 1 + 2000 * 25);
  // Invalid assignments change nothing.
  mcts.Observe({1, 2}, {0.5, 0.5});
  mcts.Abandon(Assignment(25, 20));
  EXPECT_EQ(mcts.Stats({})->visits, 2000);
}

TEST(MctsTest, TinySpacesFinishWithEveryAssignment) {
  for (int rollouts : {1, 3}) {
    for (const auto& [decisions, candidates] : {std::pair{2, 2}, {1, 1}, {3, 3}, {1, 5}}) {
      const SyntheticProblem problem = RandomProblem(decisions, candidates, 5);
      StrategyOptions options = Options(1);
      options.mcts.rollouts_per_expansion = rollouts;
      Mcts mcts(problem.space, options);
      const RunLog log = Drive(mcts, problem, 1000, 2);
      EXPECT_THAT(log.proposed, SizeIs(AllAssignments(problem.space).size()))
          << decisions << "x" << candidates;
      EXPECT_TRUE(log.finished);
      EXPECT_THAT(mcts.Propose(4), SizeIs(0));
    }
  }
}

TEST(MctsTest, OneBigBatchTakesATinySpaceWhole) {
  const SyntheticProblem problem = RandomProblem(2, 2, 5);
  Mcts mcts(problem.space, Options(0));
  const std::vector<Assignment> all = mcts.Propose(10);
  EXPECT_EQ(std::set<Assignment>(all.begin(), all.end()).size(), 4u);
  EXPECT_TRUE(mcts.Finished());  // nothing left, though all are in flight
  for (const Assignment& a : all) mcts.Observe(a, problem.Evaluate(a));
  EXPECT_EQ(mcts.Stats({})->visits, 4);
  EXPECT_TRUE(mcts.Stats({})->fully_explored);
}

TEST(MctsTest, SameSeedSameProposals) {
  const Problem p = SeparableProblem(6, 4, 2);
  StrategyOptions options = Options(42);
  options.sensitivity = p.table;
  Mcts a(p.truth.space, options), b(p.truth.space, options);
  const RunLog log_a = Drive(a, p.truth, 200, 5, 7);
  const RunLog log_b = Drive(b, p.truth, 200, 5, 7);
  EXPECT_EQ(log_a.proposed, log_b.proposed);
  options.seed = 43;
  Mcts c(p.truth.space, options);
  EXPECT_NE(Drive(c, p.truth, 200, 5, 7).proposed, log_a.proposed);
}

TEST(MctsTest, ReplayRebuildsTheTreeOfTheRun) {
  const Problem p = SeparableProblem(6, 4, 3);
  StrategyOptions options = Options(9);
  options.sensitivity = p.table;
  options.mcts.rollouts_per_expansion = 2;
  Mcts live(p.truth.space, options);
  const RunLog log = Drive(live, p.truth, 30, 4);
  ASSERT_THAT(log.observed, SizeIs(30));

  Mcts resumed(p.truth.space, options);
  for (size_t i = 0; i < log.observed.size(); ++i)
    resumed.Observe(log.observed[i], log.outcomes[i]);

  // The same tree: every node of the run, with the same statistics.
  EXPECT_EQ(resumed.node_count(), live.node_count());
  for (const Assignment& a : log.observed) {
    std::vector<int> prefix;
    for (int depth = 0; depth <= 6; ++depth) {
      const std::optional<Mcts::NodeStats> l = live.Stats(prefix), r = resumed.Stats(prefix);
      ASSERT_TRUE(l.has_value() && r.has_value());
      EXPECT_EQ(l->visits, r->visits);
      EXPECT_EQ(l->in_flight, r->in_flight);
      EXPECT_DOUBLE_EQ(l->value_sum, r->value_sum);
      EXPECT_EQ(l->fully_explored, r->fully_explored);
      if (depth < 6) prefix.push_back(a[resumed.decision_order()[depth]]);
    }
  }
  // It continues exactly as the run would have, never with a replayed one.
  const std::vector<Assignment> next = resumed.Propose(12);
  EXPECT_EQ(next, live.Propose(12));
  const std::set<Assignment> replayed(log.observed.begin(), log.observed.end());
  for (const Assignment& a : next) EXPECT_FALSE(replayed.contains(a)) << AssignmentKey(a);
}

TEST(MctsTest, ReplayOfForeignEvaluationsIsNeverProposed) {
  const SyntheticProblem problem = RandomProblem(3, 4, 8);  // 64 assignments
  Mcts mcts(problem.space, Options(4));
  std::vector<Assignment> all = AllAssignments(problem.space);
  std::mt19937_64 rng(1);
  std::shuffle(all.begin(), all.end(), rng);
  const std::set<Assignment> replayed(all.begin(), all.begin() + 30);
  for (const Assignment& a : replayed) mcts.Observe(a, problem.Evaluate(a));
  EXPECT_EQ(mcts.Stats({})->visits, 30);
  std::vector<Assignment> rest;
  for (std::vector<Assignment> batch; !(batch = mcts.Propose(5)).empty();) {
    rest.insert(rest.end(), batch.begin(), batch.end());
  }
  EXPECT_THAT(rest, SizeIs(34));
  for (const Assignment& a : rest) EXPECT_FALSE(replayed.contains(a)) << AssignmentKey(a);
  EXPECT_TRUE(mcts.Finished());
}

TEST(MctsTest, InFlightVisitsSpreadParallelProposals) {
  const SyntheticProblem problem = RandomProblem(4, 10, 6);
  for (bool virtual_loss : {false, true}) {
    StrategyOptions options = Options(7);
    options.mcts.use_virtual_loss = virtual_loss;
    Mcts mcts(problem.space, options);
    const int first = mcts.decision_order()[0];
    std::set<int> heads;
    const std::vector<Assignment> batch = mcts.Propose(8);
    for (const Assignment& a : batch) heads.insert(a[first]);
    EXPECT_THAT(heads, SizeIs(8)) << "virtual loss " << virtual_loss;
    EXPECT_EQ(mcts.Stats({})->in_flight, 8);

    // The two heads left come next, then the tree grows under the heads.
    std::set<int> more;
    for (const Assignment& a : mcts.Propose(2)) more.insert(a[first]);
    EXPECT_THAT(more, SizeIs(2));
    for (int h : more) EXPECT_FALSE(heads.contains(h));

    // Observe and Abandon move the in-flight visits along the path.
    mcts.Observe(batch[0], problem.Evaluate(batch[0]));
    mcts.Abandon(batch[1]);
    mcts.Abandon(batch[1]);  // a second time changes nothing
    EXPECT_EQ(mcts.Stats({})->in_flight, 8);
    EXPECT_EQ(mcts.Stats({})->visits, 1);
    EXPECT_EQ(mcts.Stats({batch[0][first]})->visits, 1);
    EXPECT_EQ(mcts.Stats({batch[0][first]})->in_flight, 0);
    EXPECT_EQ(mcts.Stats({batch[1][first]})->in_flight, 0);
    EXPECT_EQ(mcts.Stats({batch[1][first]})->visits, 0);
  }
}

TEST(MctsTest, VirtualLossSearchStaysValid) {
  const Problem p = SeparableProblem(6, 4, 4);
  StrategyOptions options = Options(5);
  options.sensitivity = p.table;
  options.mcts.use_virtual_loss = true;
  options.mcts.virtual_loss = 0.5;
  Mcts mcts(p.truth.space, options);
  const RunLog log = Drive(mcts, p.truth, 4096, 16, 13);
  EXPECT_THAT(log.proposed, SizeIs(4096));
  EXPECT_TRUE(log.finished);
  EXPECT_EQ(mcts.Stats({})->in_flight, 0);
}

TEST(MctsTest, PriorPrefersInsensitiveSavings) {
  SearchSpace space;
  space.mac_fraction = {0.5, 0.5};
  space.saving = {{0, 0.1, 0.2, 0.3}, {0, 0.1, 0.2, 0.3}};
  StrategyOptions options = Options(0);
  // Decision 0: candidates 1 and 2 are free, 3 costly. Decision 1: 1 is
  // unknown, 3 alone would take the whole budget of 1 pp.
  options.sensitivity.drop_pp = {{0, 0.0, 0.0, 5.0}, {0, NAN, 0.1, 2.0}};
  Mcts mcts(space, options);
  const std::vector<double> p0 = mcts.Prior(0);
  EXPECT_GT(p0[2], p0[1]);
  EXPECT_GT(p0[1], p0[0]);
  EXPECT_GT(p0[2], p0[3]);
  const std::vector<double> p1 = mcts.Prior(1);
  EXPECT_DOUBLE_EQ(p1[1], p1[0]);  // unknown: neutral, as exact
  EXPECT_GT(p1[2], p1[0]);
  EXPECT_NEAR(p0[0] + p0[1] + p0[2] + p0[3], 1.0, 1e-12);
  // λ* makes decision 1 hesitate between 2 and 3: (0.3 − 2λ) = (0.2 − 0.1λ).
  EXPECT_NEAR(mcts.lambda(), 0.1 / 1.9, 1e-9);
  EXPECT_NEAR(mcts.Prior(1)[2], mcts.Prior(1)[3], 1e-6);

  // A table whose every saving fits the budget asks for no trade-off.
  options.max_accuracy_drop_pp = 10;
  EXPECT_EQ(Mcts(space, options).lambda(), 0);

  options.mcts.prior_weight = 0;
  Mcts uniform(space, options);
  EXPECT_THAT(uniform.Prior(0), Each(testing::DoubleEq(0.25)));
}

TEST(MctsTest, RewardFavoursFeasibleSavingsAndStaysInRange) {
  const double t = 1.0, s = 0.5;
  const double kNan = std::nan("");
  auto reward = [&](double drop, double power, bool front = false) {
    return Mcts::Reward({drop, power}, t, s, front);
  };
  EXPECT_DOUBLE_EQ(reward(0, 1), 0);
  EXPECT_DOUBLE_EQ(reward(0.5, 0.5, true), 1.0);
  EXPECT_LT(reward(0.5, 0.8), reward(0.5, 0.7));
  EXPECT_GT(reward(0.9, 0.7), reward(1.1, 0.7));  // feasibility pays
  EXPECT_GT(reward(1.1, 0.7), reward(3.0, 0.7));  // the penalty grows
  EXPECT_GT(reward(3.0, 0.7, true), reward(3.0, 0.7));
  for (double drop : {-1.0, 0.0, 1.0, 50.0, kNan}) {
    for (double power : {-0.5, 0.0, 0.6, 1.0, 1.5, kNan}) {
      for (bool front : {false, true}) {
        const double r = reward(drop, power, front);
        EXPECT_GE(r, 0);
        EXPECT_LE(r, 1);
      }
    }
  }
  EXPECT_DOUBLE_EQ(Mcts::Reward({0, 0.5}, t, /*max_saving=*/0, false), 0);
}

// The search quality on 6 decisions × 4 candidates (4096 assignments),
// against the true front found by enumeration, over five problems/seeds.
TEST(MctsTest, ReachesTheTrueFrontWithATenthOfTheSpace) {
  constexpr int kSeeds = 5;
  constexpr double kThreshold = 1.0;
  double mcts10 = 0, mcts5 = 0, random5 = 0, uniform10 = 0;
  double saving_mcts10 = 0, saving_random5 = 0, saving_best = 0;
  for (uint64_t seed = 1; seed <= static_cast<uint64_t>(kSeeds); ++seed) {
    const Problem p = SeparableProblem(6, 4, 100 + seed);
    StrategyOptions options = Options(seed);
    options.max_accuracy_drop_pp = kThreshold;
    options.sensitivity = p.table;
    auto run = [&](Strategy& s, int budget) {
      return Quality(p.truth, Drive(s, p.truth, budget, 8).outcomes, kThreshold);
    };
    Mcts m10(p.truth.space, options), m5(p.truth.space, options);
    RandomSearch r5(p.truth.space, seed);
    StrategyOptions no_prior = options;
    no_prior.mcts.prior_weight = 0;
    Mcts u10(p.truth.space, no_prior);
    const FrontQuality q10 = run(m10, 410), q5 = run(m5, 205), qr = run(r5, 205),
                       qu = run(u10, 410);
    std::printf(
        "seed %d: hypervolume mcts@10%% %.4f mcts@5%% %.4f random@5%% %.4f "
        "mcts-no-prior@10%% %.4f; feasible saving mcts@10%% %.4f random@5%% %.4f best %.4f\n",
        static_cast<int>(seed), q10.hypervolume_fraction, q5.hypervolume_fraction,
        qr.hypervolume_fraction, qu.hypervolume_fraction, q10.best_feasible_saving,
        qr.best_feasible_saving, BestFeasibleSaving(p.truth, kThreshold));
    mcts10 += q10.hypervolume_fraction / kSeeds;
    mcts5 += q5.hypervolume_fraction / kSeeds;
    random5 += qr.hypervolume_fraction / kSeeds;
    uniform10 += qu.hypervolume_fraction / kSeeds;
    saving_mcts10 += q10.best_feasible_saving / kSeeds;
    saving_random5 += qr.best_feasible_saving / kSeeds;
    saving_best += BestFeasibleSaving(p.truth, kThreshold) / kSeeds;
  }
  std::printf(
      "mean: hypervolume mcts@10%% %.4f mcts@5%% %.4f random@5%% %.4f "
      "mcts-no-prior@10%% %.4f; feasible saving mcts@10%% %.4f random@5%% %.4f best %.4f\n",
      mcts10, mcts5, random5, uniform10, saving_mcts10, saving_random5, saving_best);
  EXPECT_GE(mcts10, 0.95);
  EXPECT_GT(mcts5, random5);
  EXPECT_GE(saving_mcts10, saving_random5);
}

}  // namespace
}  // namespace transaxx::search
