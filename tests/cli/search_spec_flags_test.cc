#include "cli/search_spec_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace transaxx::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<v1::SearchSpec> Spec(const std::vector<std::string>& argv) {
  absl::StatusOr<Args> args =
      Args::Parse(argv, SpecValueFlags(), SpecBoolFlags(), SpecRepeatableFlags());
  if (!args.ok()) return args.status();
  return SpecFromFlags(*args);
}

TEST(SplitMultiplierListTest, KeepsTheCommasOfParameterizedIds) {
  EXPECT_THAT(SplitMultiplierList("drum:k=6,bam:h=2,v=9,evo:mul8s_*"),
              ElementsAre("drum:k=6", "bam:h=2,v=9", "evo:mul8s_*"));
  EXPECT_THAT(SplitMultiplierList(" exact , mask:a=1,b=1,, evo:mul8s_1L2[JLN]"),
              ElementsAre("exact", "mask:a=1,b=1", "evo:mul8s_1L2[JLN]"));
  EXPECT_TRUE(SplitMultiplierList(" , ").empty());
}

TEST(SpecFromFlagsTest, TheMinimalSpecGetsTheDocumentedDefaults) {
  absl::StatusOr<v1::SearchSpec> spec =
      Spec({"--model", "vit", "--multipliers", "evo:*", "--max_evaluations", "50"});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model().id(), "vit");
  EXPECT_EQ(spec->kind(), v1::JOB_KIND_SEARCH);
  EXPECT_EQ(spec->search_subset().dataset().id(), "fashion-mnist");
  EXPECT_EQ(spec->search_subset().split(), "test");
  EXPECT_FALSE(spec->search_subset().has_range() || spec->search_subset().has_stratified());
  EXPECT_FALSE(spec->has_validation_subset());
  EXPECT_FALSE(spec->has_calibration());
  EXPECT_THAT(spec->candidate_multipliers(), ElementsAre("evo:*"));
  EXPECT_DOUBLE_EQ(spec->objective().max_accuracy_drop_pp(), 1.0);
  EXPECT_EQ(spec->objective().baseline(), v1::BASELINE_INT8_EXACT);
  EXPECT_EQ(spec->budget().max_evaluations(), 50);
  EXPECT_EQ(spec->strategy(), v1::STRATEGY_MCTS);
}

TEST(SpecFromFlagsTest, EveryFlagLandsInItsField) {
  absl::StatusOr<v1::SearchSpec> spec = Spec({"--model",
                                              "vit",
                                              "--multipliers",
                                              "drum:k=6,bam:h=2,v=9",
                                              "--dataset",
                                              "cifar10",
                                              "--split",
                                              "val",
                                              "--stratified",
                                              "500",
                                              "--subset_seed",
                                              "3",
                                              "--validation_split",
                                              "test",
                                              "--validation_offset",
                                              "500",
                                              "--validation_subset",
                                              "2000",
                                              "--calibration_subset",
                                              "64",
                                              "--layers",
                                              "blocks.*.mlp.*,patch_embed.proj",
                                              "--group",
                                              "fc1=blocks.*.mlp.fc1",
                                              "--group=fc2=blocks.0.mlp.fc2,blocks.1.mlp.fc2",
                                              "--attention",
                                              "--max_drop",
                                              "0.5",
                                              "--baseline",
                                              "fp32",
                                              "--max_time",
                                              "90m",
                                              "--strategy",
                                              "nsga2",
                                              "--population",
                                              "16",
                                              "--crossover",
                                              "0.8",
                                              "--mutation",
                                              "0.1",
                                              "--sensitivity_evaluations",
                                              "10",
                                              "--sensitivity_subset",
                                              "256",
                                              "--seed",
                                              "9",
                                              "--parallel",
                                              "4",
                                              "--batch_size",
                                              "64",
                                              "--name",
                                              "my search",
                                              "--kind",
                                              "sensitivity"});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->candidate_multipliers(), ElementsAre("drum:k=6", "bam:h=2,v=9"));
  EXPECT_EQ(spec->search_subset().dataset().id(), "cifar10");
  EXPECT_EQ(spec->search_subset().split(), "val");
  EXPECT_EQ(spec->search_subset().stratified().size(), 500);
  EXPECT_EQ(spec->search_subset().stratified().seed(), 3u);
  EXPECT_EQ(spec->validation_subset().dataset().id(), "cifar10");
  EXPECT_EQ(spec->validation_subset().split(), "test");
  EXPECT_EQ(spec->validation_subset().range().offset(), 500);
  EXPECT_EQ(spec->validation_subset().range().limit(), 2000);
  EXPECT_EQ(spec->calibration().subset().split(), "train");
  EXPECT_EQ(spec->calibration().subset().stratified().size(), 64);
  EXPECT_THAT(spec->layers(), ElementsAre("blocks.*.mlp.*", "patch_embed.proj"));
  ASSERT_EQ(spec->layer_groups_size(), 2);
  EXPECT_EQ(spec->layer_groups(1).name(), "fc2");
  EXPECT_THAT(spec->layer_groups(1).layers(), ElementsAre("blocks.0.mlp.fc2", "blocks.1.mlp.fc2"));
  EXPECT_TRUE(spec->include_attention_matmuls());
  EXPECT_DOUBLE_EQ(spec->objective().max_accuracy_drop_pp(), 0.5);
  EXPECT_EQ(spec->objective().baseline(), v1::BASELINE_FP32);
  EXPECT_EQ(spec->budget().max_evaluations(), 0);
  EXPECT_EQ(spec->budget().max_wall_time().seconds(), 5400);
  EXPECT_EQ(spec->strategy(), v1::STRATEGY_NSGA2);
  EXPECT_EQ(spec->nsga2().population_size(), 16);
  EXPECT_DOUBLE_EQ(spec->nsga2().crossover_probability(), 0.8);
  EXPECT_DOUBLE_EQ(spec->nsga2().mutation_probability(), 0.1);
  EXPECT_EQ(spec->sensitivity().max_evaluations(), 10);
  EXPECT_EQ(spec->sensitivity().subset().stratified().size(), 256);
  EXPECT_EQ(spec->sensitivity().subset().stratified().seed(), 9u);
  EXPECT_EQ(spec->seed(), 9u);
  EXPECT_EQ(spec->max_parallel_evaluations(), 4);
  EXPECT_EQ(spec->batch_size(), 64);
  EXPECT_EQ(spec->display_name(), "my search");
  EXPECT_EQ(spec->kind(), v1::JOB_KIND_SENSITIVITY);
}

TEST(SpecFromFlagsTest, MctsParameters) {
  absl::StatusOr<v1::SearchSpec> spec =
      Spec({"--model", "vit", "--multipliers", "evo:*", "--max_evaluations", "5", "--exploration",
            "0.7", "--prior_weight", "0", "--parallel_selection", "virtual_loss", "--virtual_loss",
            "2", "--rollouts", "3", "--parallel_leaves", "2"});
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->has_mcts());
  EXPECT_DOUBLE_EQ(spec->mcts().exploration_constant(), 0.7);
  EXPECT_TRUE(spec->mcts().has_prior_weight());
  EXPECT_DOUBLE_EQ(spec->mcts().prior_weight(), 0);
  EXPECT_EQ(spec->mcts().parallel_selection(), v1::PARALLEL_SELECTION_VIRTUAL_LOSS);
  EXPECT_DOUBLE_EQ(spec->mcts().virtual_loss(), 2);
  EXPECT_EQ(spec->mcts().rollouts_per_expansion(), 3);
  EXPECT_EQ(spec->mcts().max_parallel_leaves(), 2);
}

TEST(SpecFromFlagsTest, BadFlagsAreRefusedByName) {
  const std::vector<std::string> base = {"--model", "vit", "--multipliers", "evo:*"};
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--multipliers", "evo:*", "--max_evaluations", "5"}, "--model"},
      {{"--model", "vit", "--max_evaluations", "5"}, "--multipliers"},
      {{"--model", "vit", "--multipliers", " , ", "--max_evaluations", "5"}, "--multipliers"},
      {{}, "--max_evaluations"},
      {{"--max_evaluations", "0"}, "--max_evaluations"},
      {{"--max_time", "soon"}, "--max_time"},
      {{"--max_time", "-5m"}, "--max_time"},
      {{"--max_evaluations", "5", "--strategy", "annealing"}, "mcts, random, greedy"},
      {{"--max_evaluations", "5", "--population", "8"}, "--strategy nsga2"},
      {{"--max_evaluations", "5", "--strategy", "random", "--exploration", "1"}, "--strategy mcts"},
      {{"--max_evaluations", "5", "--strategy", "nsga2", "--population", "2"}, "--population"},
      {{"--max_evaluations", "5", "--strategy", "nsga2", "--mutation", "1.5"}, "--mutation"},
      {{"--max_evaluations", "5", "--subset", "10", "--stratified", "10"}, "--stratified"},
      {{"--max_evaluations", "5", "--subset_seed", "1"}, "--subset_seed"},
      {{"--max_evaluations", "5", "--subset", "0"}, "--subset"},
      {{"--max_evaluations", "5", "--group", "nameonly"}, "--group"},
      {{"--max_evaluations", "5", "--max_drop", "-1"}, "--max_drop"},
      {{"--max_evaluations", "5", "--baseline", "fp16"}, "int8, fp32"},
      {{"--max_evaluations", "5", "--kind", "tune"}, "search, sensitivity"},
      {{"--max_evaluations", "5", "--parallel_selection", "ucb"}, "wu_uct"},
  };
  for (const auto& [extra, needle] : cases) {
    std::vector<std::string> argv = extra;
    if (extra.empty() || (extra[0] != "--model" && extra[0] != "--multipliers")) {
      argv.insert(argv.begin(), base.begin(), base.end());
    }
    absl::StatusOr<v1::SearchSpec> spec = Spec(argv);
    ASSERT_FALSE(spec.ok()) << needle;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr(needle));
  }
}

}  // namespace
}  // namespace transaxx::cli
