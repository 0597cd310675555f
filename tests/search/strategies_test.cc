// Tests of MakeStrategy's validation, and of the Strategy protocol
// (strategy.h) that every kind must keep: no repeats, only valid
// assignments, progress, termination on a small space, determinism for a
// seed, resume by replay, and abandon.
#include "libs/search/strategies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "tests/search/synthetic.h"

namespace transaxx::search {
namespace {

using ::testing::HasSubstr;

StrategyOptions Options(StrategyKind kind, uint64_t seed = 1) {
  StrategyOptions options;
  options.kind = kind;
  options.seed = seed;
  options.nsga2.population_size = 6;
  return options;
}

// The message of MakeStrategy's INVALID_ARGUMENT.
std::string Rejection(const SearchSpace& space, const StrategyOptions& options) {
  absl::StatusOr<std::unique_ptr<Strategy>> made = MakeStrategy(space, options);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(made.status().message());
}

TEST(MakeStrategyTest, RejectsBadSpaceAndOptionsNamingThem) {
  const SearchSpace space = RandomProblem(3, 3, 1).space;
  EXPECT_THAT(Rejection(SearchSpace{}, Options(StrategyKind::kRandom)), HasSubstr("search space"));

  struct BadOption {
    StrategyKind kind;
    std::function<void(StrategyOptions&)> set;
    const char* named;  // what the message must name
  };
  const std::vector<BadOption> cases = {
      {StrategyKind::kMcts, [](StrategyOptions& o) { o.mcts.exploration_constant = -1; },
       "mcts.exploration_constant"},
      {StrategyKind::kMcts, [](StrategyOptions& o) { o.mcts.exploration_constant = NAN; },
       "mcts.exploration_constant"},
      {StrategyKind::kMcts, [](StrategyOptions& o) { o.mcts.rollouts_per_expansion = 0; },
       "mcts.rollouts_per_expansion"},
      {StrategyKind::kMcts, [](StrategyOptions& o) { o.mcts.prior_weight = -0.5; },
       "mcts.prior_weight"},
      {StrategyKind::kMcts, [](StrategyOptions& o) { o.mcts.virtual_loss = INFINITY; },
       "mcts.virtual_loss"},
      {StrategyKind::kNsga2, [](StrategyOptions& o) { o.nsga2.population_size = 3; },
       "nsga2.population_size"},
      {StrategyKind::kNsga2, [](StrategyOptions& o) { o.nsga2.crossover_probability = 1.5; },
       "nsga2.crossover_probability"},
      {StrategyKind::kNsga2, [](StrategyOptions& o) { o.nsga2.mutation_probability = NAN; },
       "nsga2.mutation_probability"},
      {StrategyKind::kNsga2, [](StrategyOptions& o) { o.nsga2.mutation_probability = 2; },
       "nsga2.mutation_probability"},
      {StrategyKind::kGreedy, [](StrategyOptions& o) { o.max_accuracy_drop_pp = NAN; },
       "max_accuracy_drop_pp"},
      {StrategyKind::kGreedy,
       [](StrategyOptions& o) {
         o.sensitivity.drop_pp = {{0, 1, 2}, {0, 1, 2}};
       },
       "sensitivity has 2 rows"},
      {StrategyKind::kGreedy,
       [](StrategyOptions& o) {
         o.sensitivity.drop_pp = {{0, 1, 2}, {0, 1, 2}, {0, 1}};
       },
       "sensitivity row 2"},
  };
  for (const BadOption& c : cases) {
    StrategyOptions o = Options(c.kind);
    c.set(o);
    EXPECT_THAT(Rejection(space, o), HasSubstr(c.named));
  }

  EXPECT_THAT(Rejection(space, Options(static_cast<StrategyKind>(99))), HasSubstr("kind"));
}

TEST(MakeStrategyTest, ChecksOnlyTheChosenKindsOptions) {
  const SearchSpace space = RandomProblem(3, 3, 1).space;
  StrategyOptions o = Options(StrategyKind::kRandom);
  o.mcts.exploration_constant = -1;
  o.nsga2.population_size = 0;
  EXPECT_TRUE(MakeStrategy(space, o).ok());
  o = Options(StrategyKind::kNsga2);
  o.nsga2.mutation_probability = -1;  // the default, 1 / decisions
  EXPECT_TRUE(MakeStrategy(space, o).ok());
}

class StrategyProtocolTest : public testing::TestWithParam<StrategyKind> {
 protected:
  // The strategy of the test's kind; skips the test when the kind is not
  // built in (MCTS is written apart).
  std::unique_ptr<Strategy> Make(const SearchSpace& space, uint64_t seed = 1) {
    absl::StatusOr<std::unique_ptr<Strategy>> made = MakeStrategy(space, Options(GetParam(), seed));
    if (made.status().code() == absl::StatusCode::kUnimplemented) return nullptr;
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? *std::move(made) : nullptr;
  }
};

#define MAKE_OR_SKIP(var, ...)                       \
  std::unique_ptr<Strategy> var = Make(__VA_ARGS__); \
  if (var == nullptr) {                              \
    if (HasFailure()) return;                        \
    GTEST_SKIP() << "strategy not built in";         \
  }

TEST_P(StrategyProtocolTest, TerminatesOnASmallSpaceWithoutRepeats) {
  const SyntheticProblem p = RandomProblem(3, 3, 11);
  MAKE_OR_SKIP(strategy, p.space);
  const RunLog log = Drive(*strategy, p, 10000, 4);
  EXPECT_TRUE(log.finished);
  EXPECT_LE(log.proposed.size(), 27u);
  EXPECT_TRUE(strategy->Propose(4).empty());
}

TEST_P(StrategyProtocolTest, DeterministicForASeed) {
  const SyntheticProblem p = RandomProblem(5, 4, 12);
  MAKE_OR_SKIP(a, p.space, 7);
  MAKE_OR_SKIP(b, p.space, 7);
  const RunLog la = Drive(*a, p, 120, 5);
  const RunLog lb = Drive(*b, p, 120, 5);
  EXPECT_FALSE(la.proposed.empty());
  EXPECT_EQ(la.proposed, lb.proposed);
}

TEST_P(StrategyProtocolTest, ResumeNeverProposesAReplayedAssignment) {
  const SyntheticProblem p = RandomProblem(4, 3, 13);  // 81 assignments
  MAKE_OR_SKIP(first, p.space, 3);
  const RunLog before = Drive(*first, p, 20, 4);
  MAKE_OR_SKIP(resumed, p.space, 3);
  for (size_t i = 0; i < before.observed.size(); ++i) {
    resumed->Observe(before.observed[i], before.outcomes[i]);
  }
  const RunLog after = Drive(*resumed, p, 10000, 4);
  const std::set<Assignment> replayed(before.observed.begin(), before.observed.end());
  for (const Assignment& a : after.proposed) {
    EXPECT_FALSE(replayed.contains(a)) << AssignmentKey(a);
  }
  EXPECT_TRUE(after.finished);
}

TEST_P(StrategyProtocolTest, KeepsGoingPastAbandonedEvaluations) {
  const SyntheticProblem p = RandomProblem(3, 3, 14);
  MAKE_OR_SKIP(strategy, p.space);
  const RunLog log = Drive(*strategy, p, 10000, 3, /*abandon_every=*/2);
  EXPECT_TRUE(log.finished);
  EXPECT_FALSE(log.observed.empty());
}

TEST_P(StrategyProtocolTest, MixedInFlightReports) {
  // Reports arrive out of order while more is asked for.
  const SyntheticProblem p = RandomProblem(4, 3, 15);
  MAKE_OR_SKIP(strategy, p.space);
  std::set<Assignment> seen;
  std::vector<Assignment> in_flight;
  for (int round = 0; round < 200; ++round) {
    for (const Assignment& a : strategy->Propose(3)) {
      ASSERT_TRUE(ValidateAssignment(p.space, a).ok());
      ASSERT_TRUE(seen.insert(a).second) << "proposed twice: " << AssignmentKey(a);
      in_flight.push_back(a);
    }
    if (in_flight.empty()) {
      EXPECT_TRUE(strategy->Finished());
      break;
    }
    // Report the newest first, one or two per round.
    for (int k = 0; k < 2 && !in_flight.empty(); ++k) {
      strategy->Observe(in_flight.back(), p.Evaluate(in_flight.back()));
      in_flight.pop_back();
    }
  }
  EXPECT_TRUE(in_flight.empty());
  EXPECT_TRUE(strategy->Finished());
}

INSTANTIATE_TEST_SUITE_P(AllKinds, StrategyProtocolTest,
                         testing::Values(StrategyKind::kMcts, StrategyKind::kRandom,
                                         StrategyKind::kGreedy, StrategyKind::kNsga2,
                                         StrategyKind::kExhaustive),
                         [](const testing::TestParamInfo<StrategyKind>& info) {
                           switch (info.param) {
                             case StrategyKind::kMcts:
                               return "Mcts";
                             case StrategyKind::kRandom:
                               return "Random";
                             case StrategyKind::kGreedy:
                               return "Greedy";
                             case StrategyKind::kNsga2:
                               return "Nsga2";
                             case StrategyKind::kExhaustive:
                               return "Exhaustive";
                           }
                           return "Unknown";
                         });

}  // namespace
}  // namespace transaxx::search
