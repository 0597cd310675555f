// Runs the real transaxx binary's `search` commands: without a cluster
// (help, usage errors, an unreachable coordinator), and against a real
// loopback cluster — transaxx-power-model, one transaxx-evaluator and
// transaxx-coordinator — submitting a tiny job with --wait, then list, get,
// watch, results as table/JSON/CSV/SVG, cancel, and Ctrl-C while watching.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/cli_run.h"
#include "tests/support/search_cluster.h"
#include "tests/support/subprocess.h"

namespace transaxx {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using transaxx::testing::CliRun;

// `transaxx search ARGS...`.
CliRun Search(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(60)) {
  args.insert(args.begin(), {TRANSAXX_CLI, "search"});
  return transaxx::testing::RunCli(args, timeout);
}

// A loopback address nothing listens on: a port bound, then released.
std::string ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

TEST(SearchCliTest, HelpDescribesEveryCommandAndItsFlags) {
  CliRun top = Search({"--help"});
  EXPECT_EQ(top.code, 0);
  for (const char* word : {"submit", "list", "get JOB", "watch JOB", "cancel JOB", "results JOB",
                           "--server", "TRANSAXX_SERVER", "--tls_ca", "--auth_token_file"}) {
    EXPECT_THAT(top.output, HasSubstr(word));
  }
  EXPECT_EQ(Search({}).code, 2);  // help, as a usage error
  const std::pair<std::string, std::vector<std::string>> commands[] = {
      {"submit",
       {"--model",
        "--dataset",
        "--split",
        "--subset",
        "--stratified",
        "--subset_seed",
        "--validation_split",
        "--validation_subset",
        "--calibration_split",
        "--calibration_subset",
        "--multipliers",
        "--layers",
        "--group",
        "--attention",
        "--max_drop",
        "--baseline",
        "--max_evaluations",
        "--max_time",
        "--strategy",
        "--exploration",
        "--prior_weight",
        "--parallel_selection",
        "--population",
        "--sensitivity_evaluations",
        "--sensitivity_subset",
        "--seed",
        "--parallel",
        "--batch_size",
        "--name",
        "--request_id",
        "--kind",
        "--wait"}},
      {"list", {"--state", "--kind", "--page_size"}},
      {"get", {"JOB"}},
      {"watch", {"JOB", "Ctrl-C"}},
      {"cancel", {"JOB"}},
      {"results", {"--all", "--output table|json|csv", "--plot FILE.svg"}},
  };
  for (const auto& [command, flags] : commands) {
    CliRun help = Search({command, "--help"});
    EXPECT_EQ(help.code, 0) << command;
    EXPECT_THAT(help.output, HasSubstr("Usage: transaxx search " + command));
    EXPECT_THAT(help.output, HasSubstr("--server HOST:PORT"));
    for (const std::string& flag : flags) EXPECT_THAT(help.output, HasSubstr(flag)) << command;
  }
  CliRun main_help = transaxx::testing::RunCli({TRANSAXX_CLI, "--help"});
  EXPECT_THAT(main_help.output, HasSubstr("search"));
}

TEST(SearchCliTest, UsageErrorsExitWithTwoAndNameTheProblem) {
  const std::string server = "--server=" + ClosedPort();
  const std::vector<std::string> job = {
      "--model", "fashion-vit", "--multipliers", "evo:*", "--max_evaluations", "4", server};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"submit"};
    args.insert(args.end(), job.begin(), job.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"submit", "--model", "fashion-vit", "--max_evaluations", "4", server}, "--multipliers"},
      {{"submit", "--multipliers", "evo:*", "--max_evaluations", "4", server}, "--model"},
      {{"submit", "--model", "fashion-vit", "--multipliers", "evo:*", server}, "budget"},
      {with({"--strategy", "annealing"}), "mcts, random, greedy, nsga2, exhaustive"},
      {with({"--population", "8"}), "--strategy nsga2"},
      {with({"--max_time", "later"}), "--max_time"},
      {with({"--bogus"}), "--bogus"},
      {with({"--plot", "x.svg"}), "--wait"},
      {with({"--wait", "--output", "xml"}), "--output"},
      {{"frobnicate"}, "search frobnicate"},
      {{"get", server}, "JOB is required"},
      {{"get", "a", "b", server}, "unexpected argument 'b'"},
      {{"watch", server}, "JOB is required"},
      {{"cancel", server}, "JOB is required"},
      {{"results", "job-1", "--output", "xml", server}, "--output"},
      {{"list", "--state", "sleeping", server}, "--state"},
      {{"list", "--kind", "tune", server}, "--kind"},
      {{"list", "--page_size", "0", server}, "--page_size"},
      {{"list", "--timeout", "soon", server}, "--timeout"},
      {{"results", "job-1", "--model", "m", server}, "--model and --evaluator go together"},
      {{"results", "job-1", "--model", "m", "--evaluator", "e", "--output", "csv", server},
       "--model goes with table or json"},
  };
  for (const auto& [args, needle] : cases) {
    CliRun run = Search(args);
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_THAT(run.output, HasSubstr(needle));
    EXPECT_THAT(run.output, HasSubstr("transaxx: error: "));
  }
  unsetenv("TRANSAXX_SERVER");  // inherited by the child
  CliRun no_server = Search({"list"});
  EXPECT_EQ(no_server.code, 2);
  EXPECT_THAT(no_server.output, HasSubstr("TRANSAXX_SERVER"));
}

// `transaxx finetune ARGS...`.
CliRun Finetune(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(60)) {
  args.insert(args.begin(), {TRANSAXX_CLI, "finetune"});
  return transaxx::testing::RunCli(args, timeout);
}

TEST(SearchCliTest, FinetuneUsageErrorsExitWithTwo) {
  const std::string server = "--server=" + ClosedPort();
  const std::vector<std::string> base = {"--model", "m", "--train", "fashion-mnist:train", server};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {with({}), "one of --multiplier, --config or --job"},
      {with({"--multiplier", "exact", "--config", "c.json"}), "one of --multiplier"},
      {{"--multiplier", "exact", "--train", "fashion-mnist:train", server}, "--model"},
      {{"--model", "m", "--multiplier", "exact", server}, "--train"},
      {with({"--multiplier", "exact", "--epochs", "1", "--steps", "3"}), "not both"},
      {with({"--multiplier", "exact", "--steps", "0"}), "--steps"},
      {with({"--multiplier", "exact", "--optimizer", "lion"}), "--optimizer"},
      {with({"--multiplier", "exact", "--gradient", "exact"}), "--gradient"},
      {with({"--multiplier", "exact", "--schedule", "step"}), "--schedule"},
      {with({"--multiplier", "exact", "--lr", "0"}), "--lr"},
      {with({"--multiplier", "exact", "--train_sample", "5", "--train_limit", "3"}),
       "--train_sample"},
      {with({"--job", "j", "--point", "1"}), "--coordinator"},
      {with({"--multiplier", "exact", "extra"}), "unexpected argument"},
  };
  unsetenv("TRANSAXX_COORDINATOR");
  for (const auto& [args, needle] : cases) {
    CliRun run = Finetune(args);
    EXPECT_EQ(run.code, 2) << run.output;
    EXPECT_THAT(run.output, HasSubstr(needle));
  }
  CliRun help = Finetune({"--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* flag : {"--job JOB --point N", "--coordinator", "--gradient", "--epochs",
                           "--steps", "--output_model", "--validation"}) {
    EXPECT_THAT(help.output, HasSubstr(flag));
  }
}

TEST(SearchCliTest, AnUnreachableCoordinatorSaysWhatToDo) {
  const std::string address = ClosedPort();
  const std::vector<std::vector<std::string>> commands = {
      {"list"},
      {"get", "job-1"},
      {"watch", "job-1"},
      {"cancel", "job-1"},
      {"results", "job-1", "--output", "json"},
      {"submit", "--model", "fashion-vit", "--multipliers", "evo:*", "--max_evaluations", "4"},
  };
  for (std::vector<std::string> args : commands) {
    args.push_back("--server=" + address);
    CliRun run = Search(args);
    EXPECT_EQ(run.code, 1) << run.output;
    EXPECT_THAT(run.output, HasSubstr("cannot reach the coordinator at " + address +
                                      ": is it running? (--server or TRANSAXX_SERVER)"));
  }
  setenv("TRANSAXX_SERVER", address.c_str(), 1);  // the default of --server
  CliRun from_env = Search({"list"});
  unsetenv("TRANSAXX_SERVER");
  EXPECT_EQ(from_env.code, 1);
  EXPECT_THAT(from_env.output, HasSubstr("cannot reach the coordinator at " + address));
}

// A real cluster for each test; its jobs are tiny.
class SearchClusterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    transaxx::testing::SearchClusterOptions o;
    o.power_model_binary = TRANSAXX_POWER_MODEL;
    o.evaluator_binary = TRANSAXX_EVALUATOR;
    o.coordinator_binary = TRANSAXX_COORDINATOR;
    o.multipliers_dir = TRANSAXX_EVOAPPROX_DIR;
    o.model_dir = TRANSAXX_DEMO_MODEL_DIR;
    o.evaluator_threads = 2;
    o.root = absl::StrCat(::testing::TempDir(), "/search_cli_", getpid(), "_",
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto cluster = transaxx::testing::SearchCluster::Start(o);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    server_ = "--server=" + cluster_->coordinator().target();
    root_ = o.root;
  }
  void TearDown() override {
    cluster_.reset();
    std::filesystem::remove_all(root_);
  }

  // `search ARGS... --server=COORDINATOR`.
  CliRun Run(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(60)) {
    args.push_back(server_);
    return Search(args, timeout);
  }

  // The flags of a tiny job on the three operand-masking EvoApprox circuits.
  std::vector<std::string> TinyJob(int evaluations) const {
    return {"submit",
            "--model",
            "fashion-vit",
            "--subset",
            "32",
            "--multipliers",
            "evo:mul8s_1L2[JLN]",
            "--max_evaluations",
            absl::StrCat(evaluations),
            "--sensitivity_evaluations",
            "2",
            "--calibration_subset",
            "64",
            "--seed",
            "3"};
  }

  std::unique_ptr<transaxx::testing::SearchCluster> cluster_;
  std::string server_, root_;
};

// The job id in "submitted job ID".
std::string SubmittedJob(const std::string& output) {
  const std::string marker = "submitted job ";
  const size_t at = output.find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  return output.substr(begin, output.find('\n', begin) - begin);
}

bool Dominates(const nlohmann::json& p, const nlohmann::json& q) {
  const double pa = p["top1"], qa = q["top1"], pp = p["relative_power"], qp = q["relative_power"];
  return pa >= qa && pp <= qp && (pa > qa || pp < qp);
}

TEST_F(SearchClusterCliTest, SubmitWaitThenListGetWatchResultsAndCancel) {
  std::vector<std::string> submit = TinyJob(4);
  submit.insert(submit.end(), {"--name", "cli test", "--max_drop", "2", "--wait"});
  CliRun run = Run(submit, absl::Seconds(180));
  ASSERT_EQ(run.code, 0) << run.output;
  const std::string job = SubmittedJob(run.output);
  ASSERT_FALSE(job.empty()) << run.output;
  EXPECT_THAT(run.output, HasSubstr("job " + job + ": "));  // the watch's snapshot
  EXPECT_THAT(run.output, HasSubstr("RUNNING -> SUCCEEDED"));
  EXPECT_THAT(run.output, HasSubstr("pareto: relative power"));
  EXPECT_THAT(run.output, HasSubstr("4/4"));  // the progress line
  EXPECT_THAT(run.output, HasSubstr("job " + job + " SUCCEEDED: 4 evaluated points"));
  EXPECT_THAT(run.output, HasSubstr("baseline (int8):  top-1"));

  CliRun list = Run({"list"});
  ASSERT_EQ(list.code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("BEST SAVING"));
  EXPECT_THAT(list.output, HasSubstr(job));
  EXPECT_THAT(list.output, HasSubstr("cli test"));
  EXPECT_THAT(list.output, HasSubstr("4/4"));
  CliRun running = Run({"list", "--state", "queued,running"});
  ASSERT_EQ(running.code, 0) << running.output;
  EXPECT_THAT(running.output, Not(HasSubstr(job)));
  CliRun list_json = Run({"list", "--kind", "search", "--page_size", "1", "--output", "json"});
  ASSERT_EQ(list_json.code, 0) << list_json.output;
  const nlohmann::json jobs = nlohmann::json::parse(list_json.output, nullptr, false);
  ASSERT_TRUE(jobs.is_array()) << list_json.output;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["job_id"], job);

  CliRun get = Run({"get", job});
  ASSERT_EQ(get.code, 0) << get.output;
  for (const char* s : {"state          SUCCEEDED", "fashion-vit", "cli test",
                        "fashion-mnist:test, 32 images from #0", "exact, evo:mul8s_1L2J",
                        "4/4 evaluations", "17 searched", "drop <= 2.00 pp"}) {
    EXPECT_THAT(get.output, HasSubstr(s));
  }

  CliRun watch = Run({"watch", job});
  EXPECT_EQ(watch.code, 0) << watch.output;
  EXPECT_THAT(watch.output, HasSubstr("job " + job + ": SUCCEEDED"));
  EXPECT_THAT(watch.output, HasSubstr("pareto: "));

  CliRun results = Run({"results", job, "--all", "--output", "json"});
  ASSERT_EQ(results.code, 0) << results.output;
  const nlohmann::json r = nlohmann::json::parse(results.output, nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << results.output;
  EXPECT_EQ(r["job_id"], job);
  EXPECT_EQ(r["state"], "SUCCEEDED");
  EXPECT_EQ(r["max_accuracy_drop_pp"], 2.0);
  EXPECT_EQ(r["baseline"]["relative_power"], 1.0);
  EXPECT_EQ(r["total_points"], 4);
  EXPECT_EQ(r["points"].size(), 4u);
  ASSERT_FALSE(r["front"].empty());
  for (const nlohmann::json& f : r["front"]) {
    EXPECT_EQ(f["assignment"].size(), 18u);  // 17 searched layers + the head
    EXPECT_LE(f["relative_power"].get<double>(), 1.0);
    for (const nlohmann::json& g : r["front"]) EXPECT_FALSE(Dominates(g, f));
    for (const nlohmann::json& p : r["points"]) EXPECT_FALSE(Dominates(p, f));
    if (f["config_hash"] == r["baseline"]["config_hash"]) {
      EXPECT_EQ(f["relative_power"], 1.0);
    }
  }
  for (const nlohmann::json& p : r["points"]) {
    if (p["config_hash"] == r["baseline"]["config_hash"]) {
      EXPECT_EQ(p["relative_power"], 1.0);
    }
  }

  CliRun csv = Run({"results", job, "--output", "csv"});
  ASSERT_EQ(csv.code, 0) << csv.output;
  std::vector<std::string> lines = absl::StrSplit(csv.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1 + r["front"].size()) << csv.output;
  const std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  ASSERT_EQ(header.size(), 8u + 18u) << lines[0];
  EXPECT_EQ(header[0], "config_hash");
  EXPECT_EQ(header[7], "feasible");
  EXPECT_EQ(header.back(), "head");
  const std::set<std::string> candidates = {"exact", "evo:mul8s_1L2J", "evo:mul8s_1L2L",
                                            "evo:mul8s_1L2N"};
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> cells = absl::StrSplit(lines[i], ',');
    ASSERT_EQ(cells.size(), header.size()) << lines[i];
    EXPECT_EQ(cells[6], "true");  // on the front
    for (size_t c = 8; c < cells.size(); ++c) EXPECT_TRUE(candidates.count(cells[c])) << cells[c];
  }

  const std::string plot = root_ + "/front.svg";
  CliRun table = Run({"results", job, "--plot", plot});
  ASSERT_EQ(table.code, 0) << table.output;
  EXPECT_THAT(table.output, HasSubstr("REL POWER"));
  EXPECT_THAT(table.output, HasSubstr("wrote the plot to " + plot));
  ASSERT_TRUE(std::filesystem::exists(plot));
  if (std::string(TRANSAXX_PYTHON3).empty()) {
    ADD_FAILURE() << "python3 not found: the SVG's well-formedness is not checked";
  } else {
    CliRun parse = transaxx::testing::RunCli(
        {TRANSAXX_PYTHON3, "-c",
         "import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
         "print(d.documentElement.tagName, len(d.getElementsByTagName('circle')))",
         plot});
    EXPECT_EQ(parse.code, 0) << parse.output;
    EXPECT_THAT(parse.output, HasSubstr("svg "));
  }

  CliRun unknown = Run({"get", "job-nope"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.output, HasSubstr("no job 'job-nope'"));
  EXPECT_EQ(Run({"results", "job-nope"}).code, 1);
  EXPECT_EQ(Run({"watch", "job-nope"}).code, 1);
  CliRun cancel = Run({"cancel", job});
  EXPECT_EQ(cancel.code, 1);
  EXPECT_THAT(cancel.output, HasSubstr("already SUCCEEDED"));
}

// A front point of a finished job fine-tuned on the cluster's evaluator
// (the job gives model and configuration), then the job's front
// re-evaluated on the new model, and the new model searched.
TEST_F(SearchClusterCliTest, FinetuneAFrontPointThenReevaluateAndSearchTheNewModel) {
  std::vector<std::string> submit = TinyJob(3);
  submit.push_back("--wait");
  CliRun run = Run(submit, absl::Seconds(180));
  ASSERT_EQ(run.code, 0) << run.output;
  const std::string job = SubmittedJob(run.output);
  const std::string evaluator = cluster_->evaluator(0).target();
  CliRun tuned = Finetune({"--server", evaluator, "--coordinator",
                           cluster_->coordinator().target(), "--job", job, "--point", "1",
                           "--multipliers_dir", TRANSAXX_EVOAPPROX_DIR, "--train",
                           "fashion-mnist:train", "--train_limit", "96", "--steps", "3",
                           "--batch_size", "32", "--calibration_samples", "64", "--validation",
                           "fashion-mnist:test", "--validation_limit", "32", "--output", "json"},
                          absl::Seconds(300));
  ASSERT_EQ(tuned.code, 0) << tuned.output;
  EXPECT_THAT(tuned.output, HasSubstr("point 1 of job " + job));
  const std::string document = tuned.output.substr(tuned.output.find('{'));
  const nlohmann::json result = nlohmann::json::parse(document, nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << tuned.output;
  EXPECT_EQ(result["base_model"], "fashion-vit");
  EXPECT_EQ(result["steps"], 3);
  EXPECT_EQ(result["validation_after"]["n"], 32);
  const std::string model = result["model"];
  EXPECT_THAT(model, ::testing::StartsWith("fashion-vit-ft-"));

  CliRun point_out_of_range =
      Finetune({"--server", evaluator, "--coordinator", cluster_->coordinator().target(), "--job",
                job, "--point", "99", "--train", "fashion-mnist:train"});
  EXPECT_EQ(point_out_of_range.code, 1) << point_out_of_range.output;
  EXPECT_THAT(point_out_of_range.output, HasSubstr("front points"));

  CliRun again = Run({"results", job, "--model", model, "--evaluator", evaluator, "--output",
                      "json"},
                     absl::Seconds(300));
  ASSERT_EQ(again.code, 0) << again.output;
  const nlohmann::json r =
      nlohmann::json::parse(again.output.substr(again.output.find('{')), nullptr, false);
  ASSERT_FALSE(r.is_discarded()) << again.output;
  ASSERT_EQ(r["reevaluated"]["points"].size(), r["front"].size());
  EXPECT_EQ(r["reevaluated"]["model"], model);
  EXPECT_THAT(std::string(r["reevaluated"]["images"]), HasSubstr("32 images"));
  CliRun table = Run({"results", job, "--model", model, "--evaluator", evaluator},
                     absl::Seconds(300));
  ASSERT_EQ(table.code, 0) << table.output;
  EXPECT_THAT(table.output, HasSubstr("front re-evaluated on " + model));
  EXPECT_THAT(table.output, HasSubstr("CHANGE pp"));

  std::vector<std::string> search_new = TinyJob(2);
  search_new[2] = model;  // --model
  search_new.push_back("--wait");
  CliRun second = Run(search_new, absl::Seconds(180));
  EXPECT_EQ(second.code, 0) << second.output;
  EXPECT_THAT(second.output, HasSubstr("SUCCEEDED"));
}

TEST_F(SearchClusterCliTest, CtrlCStopsWatchingNotTheJobAndCancelStopsTheJob) {
  CliRun submit = Run(TinyJob(400));
  ASSERT_EQ(submit.code, 0) << submit.output;
  const std::string job(absl::StripTrailingAsciiWhitespace(submit.output));
  ASSERT_THAT(job, ::testing::StartsWith("job-"));

  auto watch =
      transaxx::testing::Subprocess::Start({TRANSAXX_CLI, "search", "watch", job, server_});
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE((*watch)->WaitForLine("job " + job + ": ", absl::Seconds(60)).ok())
      << (*watch)->output();
  (*watch)->Signal(SIGINT);
  absl::StatusOr<int> code = (*watch)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status() << (*watch)->output();
  EXPECT_EQ(*code, 0) << (*watch)->output();
  EXPECT_THAT((*watch)->output(), HasSubstr("transaxx search watch " + job));

  CliRun get = Run({"get", job});
  EXPECT_THAT(get.output, ::testing::AnyOf(HasSubstr("RUNNING"), HasSubstr("QUEUED")));
  CliRun cancel = Run({"cancel", job});
  EXPECT_EQ(cancel.code, 0) << cancel.output;
  EXPECT_THAT(cancel.output, HasSubstr("CANCELLED"));
  CliRun watch_cancelled = Run({"watch", job});
  EXPECT_EQ(watch_cancelled.code, 1) << watch_cancelled.output;
  EXPECT_THAT(watch_cancelled.output, HasSubstr("CANCELLED"));
  EXPECT_THAT(watch_cancelled.output, HasSubstr("transaxx search results " + job));
  CliRun cancelled = Run({"list", "--state", "cancelled"});
  EXPECT_THAT(cancelled.output, HasSubstr(job));
}

}  // namespace
}  // namespace transaxx
