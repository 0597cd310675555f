// Runs the real transaxx binary's multiplier commands and checks what a
// script would rely on: output, JSON keys and exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"

namespace transaxx {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

using transaxx::testing::CliRun;

CliRun Transaxx(std::vector<std::string> args) {
  args.insert(args.begin(), TRANSAXX_CLI);
  return transaxx::testing::RunCli(args);
}

const std::string kEvoDir = TRANSAXX_EVOAPPROX_DIR;

TEST(MultipliersCliTest, CharacterizePrintsTheDocumentedJson) {
  CliRun run = Transaxx({"multipliers", "characterize", kEvoDir + "/mul8s_1L2J.lut", "--signed",
                      "--output", "json"});
  ASSERT_EQ(run.code, 0) << run.output;
  nlohmann::json j = nlohmann::json::parse(run.output);
  for (const char* key : {"mae", "wce", "wcre_pct", "ep_pct", "mre_pct", "mse", "mred", "nmed",
                          "mean_error", "error_rank", "narrow_range"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["error_rank"], 2);
  EXPECT_EQ(j["wce"], 255);
  EXPECT_TRUE(j["narrow_range"].contains("mae"));
}

TEST(MultipliersCliTest, ListShowsBuiltinsAndImportedTables) {
  CliRun run = Transaxx({"multipliers", "list", "--multipliers_dir", kEvoDir});
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("drum:k=6"));
  EXPECT_THAT(run.output, HasSubstr("evo:mul8u_GJM"));
  CliRun glob = Transaxx({"multipliers", "list", "--multipliers_dir", kEvoDir, "--match",
                       "evo:mul8u_*", "--output", "json"});
  ASSERT_EQ(glob.code, 0) << glob.output;
  EXPECT_EQ(nlohmann::json::parse(glob.output).size(), 6u);
}

TEST(MultipliersCliTest, ShowDescribesAMultiplier) {
  CliRun run = Transaxx({"multipliers", "show", "evo:mul8s_1L2J", "--multipliers_dir", kEvoDir,
                      "--output", "json"});
  ASSERT_EQ(run.code, 0) << run.output;
  nlohmann::json j = nlohmann::json::parse(run.output);
  EXPECT_EQ(j["published"]["power_mw"], 0.301);
  EXPECT_EQ(j["content_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["kernel_path"], "mask");
  // A masking table runs on one of the structured GEMM's engines.
  EXPECT_THAT(j["cpu_kernel"].get<std::string>(), AnyOf(HasSubstr("u8·s8"), HasSubstr("float32")));
  CliRun builtin = Transaxx({"multipliers", "show", "bam:h=1,v=5"});
  EXPECT_EQ(builtin.code, 0);
  EXPECT_THAT(builtin.output, HasSubstr("Mahdiani"));
  EXPECT_THAT(builtin.output, HasSubstr("cpu kernel:"));
  CliRun table = Transaxx({"multipliers", "show", "evo:mul8u_GJM", "--multipliers_dir", kEvoDir});
  EXPECT_EQ(table.code, 0);
  EXPECT_THAT(table.output, HasSubstr("cpu kernel:  table kernel"));
}

TEST(MultipliersCliTest, FailuresExitOneAndUsageErrorsExitTwo) {
  CliRun truncated = Transaxx({"multipliers", "characterize", "/dev/null", "--unsigned"});
  EXPECT_EQ(truncated.code, 1);
  EXPECT_THAT(truncated.output, HasSubstr("/dev/null"));
  CliRun unknown = Transaxx({"multipliers", "show", "evo:mul8s_1L2J"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("--multipliers_dir"));
  EXPECT_EQ(Transaxx({"multipliers", "show", "drum:k=1"}).code, 1);
  EXPECT_EQ(Transaxx({"multipliers", "characterize", "x.lut"}).code, 2);
  EXPECT_EQ(Transaxx({"multipliers", "characterize", "x.lut", "--signed", "--unsigned"}).code, 2);
  EXPECT_EQ(Transaxx({"multipliers", "list", "--frobnicate"}).code, 2);
  EXPECT_EQ(Transaxx({"multipliers", "list", "--output", "xml"}).code, 2);
  EXPECT_EQ(Transaxx({"launch"}).code, 2);
  EXPECT_EQ(Transaxx({"--help"}).code, 0);
  EXPECT_EQ(Transaxx({"multipliers", "list", "--help"}).code, 0);
}

}  // namespace
}  // namespace transaxx
