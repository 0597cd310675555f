// Runs a reduced `./run demo` (tools/demo.sh with a tiny budget, on the real
// binaries) and checks what it leaves: pareto.json, pareto.csv and pareto.svg
// parse; the front is non-dominated; the all-exact baseline has relative
// power 1 and the accuracy an in-process `transaxx eval` of the int8-exact
// model gives on the same images; and no process of the demo is left.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/cli_run.h"

namespace transaxx {
namespace {

using transaxx::testing::RunCli;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes whose command line mentions `needle`.
std::vector<std::string> ProcessesMentioning(const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = Read(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) out.push_back(cmdline);
  }
  return out;
}

TEST(DemoTest, AReducedDemoWritesAParetoFrontAndLeavesNoProcess) {
  const std::string root = absl::StrCat(::testing::TempDir(), "/demo_test_", getpid());
  std::filesystem::remove_all(root);
  const std::string out = root + "/out";
  auto run = RunCli({"/bin/bash", TRANSAXX_DEMO_SCRIPT, "--bin", TRANSAXX_BIN_DIR,
                     "--multipliers_dir", TRANSAXX_EVOAPPROX_DIR, "--model_dir",
                     TRANSAXX_DEMO_MODEL_DIR, "--state", root + "/state", "--out", out,
                     "--budget", "6", "--sensitivity", "2", "--subset", "64",
                     "--validation_subset", "128"},
                    absl::Minutes(15));
  ASSERT_EQ(run.code, 0) << run.output;
  EXPECT_TRUE(ProcessesMentioning(root).empty()) << ProcessesMentioning(root)[0];

  nlohmann::json pareto = nlohmann::json::parse(Read(out + "/pareto.json"));
  EXPECT_EQ(pareto["state"], "SUCCEEDED");
  const nlohmann::json& baseline = pareto["baseline"];
  EXPECT_DOUBLE_EQ(baseline["relative_power"].get<double>(), 1.0);
  EXPECT_EQ(baseline["accuracy"]["samples"], 64);
  EXPECT_EQ(baseline["validation_accuracy"]["samples"], 128);
  const nlohmann::json& front = pareto["front"];
  ASSERT_GE(front.size(), 1u);
  for (const auto& f : front) {
    for (const auto& g : front) {
      const bool dominates = g["top1"] >= f["top1"] && g["relative_power"] <= f["relative_power"] &&
                             (g["top1"] > f["top1"] || g["relative_power"] < f["relative_power"]);
      EXPECT_FALSE(dominates) << g["config_hash"] << " dominates " << f["config_hash"];
    }
    EXPECT_EQ(f["assignment"]["head"], "exact");
  }

  // The baseline is the int8-exact model: the in-process evaluation of the
  // same images (stratified sample of 64, seed 0; calibration as the demo's).
  auto eval = RunCli({TRANSAXX_CLI, "eval", "--model", TRANSAXX_DEMO_MODEL_DIR, "--multiplier",
                      "exact", "--dataset", "fashion-mnist:test", "--sample", "64", "--seed", "0",
                      "--calibration_samples", "1024", "--batch_size", "64", "--threads", "2",
                      "--output", "json"},
                     absl::Minutes(5));
  ASSERT_EQ(eval.code, 0) << eval.output;
  nlohmann::json local = nlohmann::json::parse(eval.output.substr(eval.output.find('{')));
  EXPECT_DOUBLE_EQ(baseline["accuracy"]["top1"].get<double>(), local["top1"].get<double>());

  const std::string csv = Read(out + "/pareto.csv");
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("config_hash,relative_power,top1", 0), 0u) << lines[0];
  const std::string svg = Read(out + "/pareto.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace transaxx
