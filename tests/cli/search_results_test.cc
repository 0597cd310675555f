// The presentations of `transaxx search results` on a hand-made
// GetResultsResponse: table, JSON, CSV and the plot's data.
#include "cli/search_results.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"

namespace transaxx::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kLayers = {"patch_embed.proj", "blocks.0.mlp.fc1", "head"};

v1::Configuration Config(const std::vector<std::string>& multipliers) {
  v1::Configuration c;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    v1::LayerAssignment* a = c.add_assignments();
    a->set_layer(kLayers[i]);
    a->mutable_multiplier()->set_id(multipliers[i]);
  }
  return c;
}

v1::SearchPoint Point(const std::string& hash, double power, double top1, double drop,
                      const std::vector<std::string>& multipliers, bool feasible, int index) {
  v1::SearchPoint p;
  p.set_config_hash(hash);
  *p.mutable_configuration() = Config(multipliers);
  p.mutable_accuracy()->set_top1(top1);
  p.mutable_accuracy()->set_sample_count(200);
  p.mutable_accuracy()->mutable_top1_interval()->set_low(top1 - 0.05);
  p.mutable_accuracy()->mutable_top1_interval()->set_high(top1 + 0.04);
  p.set_accuracy_drop_pp(drop);
  p.mutable_power()->set_relative_power(power);
  p.set_feasible(feasible);
  p.set_evaluation_index(index);
  return p;
}

// A finished job: the all-exact point, a cheap feasible one (the best) and a
// cheaper infeasible one on the front; a dominated point besides.
v1::GetResultsResponse Results() {
  v1::GetResultsResponse r;
  r.set_job_id("job-1");
  r.set_state(v1::JOB_STATE_SUCCEEDED);
  r.set_max_accuracy_drop_pp(1.0);
  r.set_total_points(4);
  v1::BaselineResult* b = r.mutable_baseline();
  b->set_kind(v1::BASELINE_INT8_EXACT);
  *b->mutable_configuration() = Config({"exact", "exact", "exact"});
  b->set_config_hash("exact-hash");
  b->mutable_accuracy()->set_top1(0.85);
  b->mutable_accuracy()->set_sample_count(200);
  b->mutable_power()->set_relative_power(1.0);
  const v1::SearchPoint exact =
      Point("exact-hash", 1.0, 0.85, 0, {"exact", "exact", "exact"}, true, 1);
  v1::SearchPoint best =
      Point("best-hash", 0.8, 0.845, 0.5, {"evo:mul8s_1L2J", "bam:h=2,v=9", "exact"}, true, 2);
  best.mutable_validation_accuracy()->set_top1(0.84);
  best.set_validation_accuracy_drop_pp(0.7);
  const v1::SearchPoint cheap =
      Point("cheap-hash", 0.5, 0.6, 25, {"evo:mul8s_1L2N", "evo:mul8s_1L2N", "exact"}, false, 3);
  const v1::SearchPoint dominated =
      Point("dominated-hash", 0.9, 0.7, 15, {"exact", "evo:mul8s_1L2N", "exact"}, false, 4);
  for (v1::SearchPoint p : {exact, cheap, best}) {  // any order: shown by power
    p.set_on_front(true);
    *r.add_pareto_front() = p;
  }
  for (const v1::SearchPoint& p : {exact, best, cheap, dominated}) *r.add_points() = p;
  for (int i = 1; i < 4; ++i) r.mutable_points(i - 1)->set_on_front(true);
  *r.mutable_best_within_threshold() = r.pareto_front(2);
  v1::SensitivityEntry* e = r.mutable_sensitivity()->add_entries();
  e->set_layer("blocks.0.mlp.fc1");
  e->mutable_multiplier()->set_id("evo:mul8s_1L2N");
  e->set_accuracy_drop_pp(3.25);
  r.mutable_sensitivity()->mutable_baseline_accuracy()->set_sample_count(200);
  return r;
}

TEST(SearchResultsTest, TableShowsTheFrontByPowerTheBaselineAndTheBestAssignment) {
  const std::string table = ResultsTable(Results(), false);
  EXPECT_THAT(table, HasSubstr("job job-1 SUCCEEDED: 4 evaluated points, Pareto front of 3"));
  // Rows by relative power: 0.5, 0.8, 1.0.
  const size_t cheap = table.find("0.5000"), best = table.find("0.8000"),
               exact = table.find("1.0000");
  ASSERT_NE(cheap, std::string::npos);
  EXPECT_LT(cheap, best);
  EXPECT_LT(best, exact);
  // The best point's saving, top-1 and interval; the notes; the baseline and
  // threshold; the best assignment; the sensitivity table.
  for (const char* part : {"VAL TOP-1", "20.0%", "84.50%", "[79.5, 88.5]", "all exact",
                           "baseline (int8):  top-1 85.00%", "drop <= 1.00 pp (top-1 >= 84.00%)",
                           "best within threshold: relative power 0.8000 (saving 20.0%)",
                           "bam:h=2,v=9", "sensitivity", "3.25"}) {
    EXPECT_THAT(table, HasSubstr(part));
  }
  EXPECT_THAT(table, Not(HasSubstr("dominated-h")));
  EXPECT_THAT(ResultsTable(Results(), true), HasSubstr("dominated-h"));
}

TEST(SearchResultsTest, TableOfAQueuedJobSaysHowToWait) {
  v1::GetResultsResponse r;
  r.set_job_id("job-2");
  r.set_state(v1::JOB_STATE_QUEUED);
  EXPECT_THAT(ResultsTable(r, false), HasSubstr("transaxx search watch job-2"));
}

TEST(SearchResultsTest, JsonCarriesPointsWithTheirAssignments) {
  const nlohmann::json j = ResultsJson(Results(), true);
  EXPECT_EQ(j["job_id"], "job-1");
  EXPECT_EQ(j["state"], "SUCCEEDED");
  EXPECT_DOUBLE_EQ(j["threshold_top1"].get<double>(), 0.84);
  EXPECT_DOUBLE_EQ(j["baseline"]["relative_power"].get<double>(), 1.0);
  EXPECT_EQ(j["baseline"]["accuracy"]["samples"], 200);
  ASSERT_EQ(j["front"].size(), 3u);
  EXPECT_EQ(j["best"]["config_hash"], "best-hash");
  EXPECT_EQ(j["best"]["assignment"]["blocks.0.mlp.fc1"], "bam:h=2,v=9");
  EXPECT_DOUBLE_EQ(j["best"]["validation_drop_pp"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(j["best"]["power_saving"].get<double>(), 0.2);
  EXPECT_EQ(j["best"]["top1_ci95"].size(), 2u);
  EXPECT_EQ(j["points"].size(), 4u);
  EXPECT_EQ(j["sensitivity"]["entries"][0]["drop_pp"], 3.25);
  EXPECT_FALSE(ResultsJson(Results(), false).contains("points"));
}

TEST(SearchResultsTest, CsvHasOneColumnPerLayerAndQuotesCommas) {
  const std::string csv = ResultsCsv(Results(), false);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);  // header + 3 front points
  EXPECT_EQ(lines[0],
            "config_hash,relative_power,top1,drop_pp,validation_top1,validation_drop_pp,on_front,"
            "feasible,patch_embed.proj,blocks.0.mlp.fc1,head");
  EXPECT_EQ(lines[1], "exact-hash,1.000000,0.850000,0.0000,,,true,true,exact,exact,exact");
  EXPECT_EQ(lines[3],
            "best-hash,0.800000,0.845000,0.5000,0.840000,0.7000,true,true,evo:mul8s_1L2J,"
            "\"bam:h=2,v=9\",exact");
  EXPECT_EQ(
      std::vector<std::string>(absl::StrSplit(ResultsCsv(Results(), true), '\n', absl::SkipEmpty()))
          .size(),
      5u);
}

TEST(SearchResultsTest, PlotDataHasEveryPointTheFrontAndTheThreshold) {
  const ParetoPlot plot = PlotOf(Results(), "t");
  EXPECT_EQ(plot.points.size(), 4u);
  EXPECT_EQ(plot.front.size(), 3u);
  ASSERT_TRUE(plot.baseline && plot.threshold_pct && plot.best);
  EXPECT_DOUBLE_EQ(plot.baseline->relative_power, 1.0);
  EXPECT_DOUBLE_EQ(*plot.threshold_pct, 84.0);
  EXPECT_DOUBLE_EQ(plot.best->relative_power, 0.8);
}

TEST(SearchResultsTest, PointLineSummarizesAPoint) {
  EXPECT_EQ(PointLine(Results().best_within_threshold()),
            "relative power 0.8000 (saving 20.0%), top-1 84.50% [79.5, 88.5] (drop 0.50 pp), "
            "validation 84.00% (drop 0.70 pp), feasible");
  EXPECT_EQ(StateName(v1::JOB_STATE_CANCELLED), "CANCELLED");
}

}  // namespace
}  // namespace transaxx::cli
