// Search quality and scaling of the strategies, on the real cluster.
//
// 1. Starts transaxx-power-model, two transaxx-evaluator processes and
//    transaxx-coordinator on loopback and runs an EXHAUSTIVE job over a space
//    small enough to enumerate: the demo model's layers in 5 groups (the
//    patch embedding, then one group per block) × 4 multipliers (exact and
//    the three of `--candidates`) = 1,024 configurations, on a fixed subset
//    of Fashion-MNIST. Its results are the true table and the true Pareto
//    front.
// 2. Replays each strategy against that table, exactly as the coordinator
//    drives it (the all-exact baseline known first; the sensitivity analysis
//    first for MCTS and greedy, counted in the budget; `--parallel`
//    evaluations in flight, completing first in, first out), for 2%, 5% and
//    10% of the space, over `--seeds` seeds, and reports the fraction of the
//    true front's hypervolume reached and the best saving within the
//    threshold. The hypervolume's reference power is 1; its reference
//    accuracy is the space's lowest in a first table and `--useful_drop_pp`
//    below the all-exact baseline in a second (a front point far below the
//    baseline is of little use however much area it spans).
// 3. Unless `--scaling_evaluators` is empty, runs one MCTS job on clusters of
//    1, 2 and 4 evaluators (cold caches) and reports wall time and evaluator
//    utilization (time the evaluators spent in successful Evaluate calls over
//    wall time × evaluators, from the coordinator's metrics).
//
// Writes Markdown to stdout; progress to stderr.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "libs/rpc/client_channel.h"
#include "libs/search/hypervolume.h"
#include "libs/search/pareto_archive.h"
#include "libs/search/sensitivity.h"
#include "libs/search/strategies.h"
#include "tests/support/http_get.h"
#include "tests/support/search_cluster.h"
#include "transaxx/v1/evaluator.grpc.pb.h"
#include "transaxx/v1/search.grpc.pb.h"

ABSL_FLAG(std::string, candidates, "evo:mul8s_1L2J,evo:mul8s_1L2N,evo:mul8s_1L12",
          "the three approximate multipliers of the space (ids or globs, comma-separated; "
          "exact is always a candidate)");
ABSL_FLAG(int, subset, 512, "images of the Fashion-MNIST test split every configuration is evaluated on");
ABSL_FLAG(int, seeds, 20, "seeds per strategy and budget");
ABSL_FLAG(int, parallel, 4, "evaluations in flight in the replay");
ABSL_FLAG(double, useful_drop_pp, 5.0,
          "the second hypervolume table counts accuracy only down to this many percentage "
          "points below the all-exact baseline");
ABSL_FLAG(double, threshold_pp, 1.0, "accuracy drop threshold, percentage points");
ABSL_FLAG(int, scaling_budget, 40, "evaluations of each scaling job");
ABSL_FLAG(std::string, scaling_evaluators, "1,2,4",
          "cluster sizes of the scaling runs (empty: no scaling runs)");
ABSL_FLAG(std::string, table_dir, "",
          "a folder of enumerated results, one file per space and subset: read when there "
          "(skipping the enumeration), written otherwise; for iterating on strategies");
ABSL_FLAG(std::string, heading, "Search quality and scaling", "the report's title");
ABSL_FLAG(std::string, work_dir, "", "where the clusters keep state and logs (default: a temporary folder)");

namespace transaxx {
namespace {

namespace v1 = transaxx::v1;

const std::string kBin = TRANSAXX_BIN_DIR;
const std::string kEvo = TRANSAXX_EVOAPPROX_DIR;
const std::string kDemoModel = TRANSAXX_DEMO_MODEL_DIR;
constexpr char kModel[] = "fashion-vit";
const std::vector<std::string> kGroups = {"patch_embed.*", "blocks.0.*", "blocks.1.*",
                                          "blocks.2.*", "blocks.3.*"};

void Die(const std::string& what) {
  std::fprintf(stderr, "search_quality: %s\n", what.c_str());
  std::exit(1);
}

void Progress(const std::string& what) { std::fprintf(stderr, "search_quality: %s\n", what.c_str()); }

std::unique_ptr<grpc::ClientContext> Call(absl::Duration d = absl::Minutes(5)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d));
  return c;
}

// A local cluster of `evaluators` evaluators with stubs for the bench.
class Cluster {
 public:
  Cluster(const std::string& dir, int evaluators) {
    transaxx::testing::SearchClusterOptions options;
    options.power_model_binary = kBin + "/transaxx-power-model";
    options.evaluator_binary = kBin + "/transaxx-evaluator";
    options.coordinator_binary = kBin + "/transaxx-coordinator";
    options.multipliers_dir = kEvo;
    options.model_dir = kDemoModel;
    options.model_id = kModel;
    options.root = dir;
    options.evaluators = evaluators;
    auto cluster = transaxx::testing::SearchCluster::Start(options);
    if (!cluster.ok()) Die(std::string(cluster.status().message()));
    cluster_ = *std::move(cluster);
    stub_ = v1::SearchCoordinator::NewStub(Channel(cluster_->coordinator().target()));
    evaluator_ = v1::Evaluator::NewStub(Channel(cluster_->evaluator(0).target()));
  }

  v1::SearchCoordinator::Stub& coordinator() { return *stub_; }
  v1::Evaluator::Stub& evaluator() { return *evaluator_; }

  double CoordinatorMetric(const std::string& name) {
    auto text = transaxx::testing::HttpGet(cluster_->coordinator().metrics_port(), "/metrics");
    if (!text.ok()) Die(std::string(text.status().message()));
    return transaxx::testing::MetricSum(text->body, name);
  }

 private:
  static std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
    rpc::ChannelOptions options;
    options.target = target;
    auto channel = rpc::ClientChannel::Create(options);
    if (!channel.ok()) Die(std::string(channel.status().message()));
    return channel->channel();
  }

  std::unique_ptr<transaxx::testing::SearchCluster> cluster_;
  std::unique_ptr<v1::SearchCoordinator::Stub> stub_;
  std::unique_ptr<v1::Evaluator::Stub> evaluator_;
};

v1::SearchSpec BaseSpec(int subset) {
  v1::SearchSpec spec;
  spec.mutable_model()->set_id(kModel);
  spec.mutable_search_subset()->mutable_dataset()->set_id("fashion-mnist");
  spec.mutable_search_subset()->set_split("test");
  spec.mutable_search_subset()->mutable_range()->set_limit(subset);
  spec.mutable_calibration()->mutable_subset()->mutable_dataset()->set_id("fashion-mnist");
  spec.mutable_calibration()->mutable_subset()->set_split("train");
  spec.mutable_calibration()->mutable_subset()->mutable_stratified()->set_size(512);
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_candidates), ',')) {
    spec.add_candidate_multipliers(std::string(c));
  }
  for (const std::string& g : kGroups) {
    v1::LayerGroup* group = spec.add_layer_groups();
    group->set_name(g.substr(0, g.size() - 2));
    group->add_layers(g);
  }
  spec.mutable_objective()->set_max_accuracy_drop_pp(absl::GetFlag(FLAGS_threshold_pp));
  spec.set_batch_size(64);
  return spec;
}

// Submits `spec`, waits for the end; returns the finished job.
v1::SearchJob RunJob(Cluster& cluster, const v1::SearchSpec& spec) {
  v1::SubmitSearchRequest submit;
  *submit.mutable_spec() = spec;
  v1::SubmitSearchResponse submitted;
  grpc::Status s = cluster.coordinator().SubmitSearch(Call().get(), submit, &submitted);
  if (!s.ok()) Die("submit: " + s.error_message());
  int64_t last = -1;
  for (;;) {
    v1::GetSearchRequest get;
    get.set_job_id(submitted.job_id());
    v1::GetSearchResponse job;
    s = cluster.coordinator().GetSearch(Call().get(), get, &job);
    if (!s.ok()) Die("get: " + s.error_message());
    const v1::JobState state = job.job().state();
    if (state == v1::JOB_STATE_SUCCEEDED) return job.job();
    if (state == v1::JOB_STATE_FAILED || state == v1::JOB_STATE_CANCELLED) {
      Die("job ended " + v1::JobState_Name(state) + ": " + job.job().error_message());
    }
    int64_t done = job.job().counts().evaluations_completed();
    if (done / 50 != last / 50) {
      Progress(absl::StrCat(done, " evaluations"));
      last = done;
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

// The enumerated space: accuracy and power of every assignment.
struct Table {
  std::vector<std::string> candidates;  // ids, in decision-candidate order
  search::SearchSpace space;
  std::map<search::Assignment, search::Outcome> outcomes;
  std::map<search::Assignment, double> accuracy;
};

Table Enumerate(Cluster& cluster, int subset) {
  v1::SearchSpec spec = BaseSpec(subset);
  spec.set_strategy(v1::STRATEGY_EXHAUSTIVE);
  spec.mutable_budget()->set_max_evaluations(1024);
  v1::SearchJob job = RunJob(cluster, spec);
  v1::GetResultsRequest request;
  request.set_job_id(job.job_id());
  request.set_include_all_points(true);
  request.set_page_size(10000);
  v1::GetResultsResponse results;
  grpc::Status s = cluster.coordinator().GetResults(Call().get(), request, &results);
  if (!s.ok()) Die("results: " + s.error_message());

  if (job.candidates_size() != 4) {
    Die(absl::StrCat("--candidates gives ", job.candidates_size() - 1,
                     " approximate multipliers; the space needs 3"));
  }
  std::map<std::string, int> candidate;
  Table t;
  for (int c = 0; c < job.candidates_size(); ++c) {
    candidate[job.candidates(c).id()] = c;
    t.candidates.push_back(job.candidates(c).id());
  }
  v1::DescribeModelRequest describe;
  describe.mutable_model()->set_id(kModel);
  v1::DescribeModelResponse model;
  s = cluster.evaluator().DescribeModel(Call().get(), describe, &model);
  if (!s.ok()) Die("describe: " + s.error_message());
  // Decision of each layer: the group its name starts with.
  auto decision_of = [](const std::string& layer) {
    for (size_t d = 0; d < kGroups.size(); ++d) {
      if (absl::StartsWith(layer, kGroups[d].substr(0, kGroups[d].size() - 1))) {
        return static_cast<int>(d);
      }
    }
    return -1;
  };
  int64_t total = 0;
  std::vector<double> macs(kGroups.size(), 0);
  for (const auto& l : model.layers()) {
    if (l.kind() != v1::LAYER_KIND_LINEAR && l.kind() != v1::LAYER_KIND_CONV2D) continue;
    total += l.macs_per_image();
    if (int d = decision_of(l.name()); d >= 0) macs[d] += static_cast<double>(l.macs_per_image());
  }
  for (double m : macs) t.space.mac_fraction.push_back(m / static_cast<double>(total));

  auto add = [&](const v1::SearchPoint& p, double baseline_top1) {
    search::Assignment a(kGroups.size(), 0);
    for (const auto& la : p.configuration().assignments()) {
      if (int d = decision_of(la.layer()); d >= 0) a[d] = candidate.at(la.multiplier().id());
    }
    t.outcomes[a] = {100.0 * (baseline_top1 - p.accuracy().top1()), p.power().relative_power()};
    t.accuracy[a] = p.accuracy().top1();
  };
  const double base = results.baseline().accuracy().top1();
  v1::SearchPoint exact;
  *exact.mutable_configuration() = results.baseline().configuration();
  *exact.mutable_accuracy() = results.baseline().accuracy();
  exact.mutable_power()->set_relative_power(1.0);
  add(exact, base);
  for (const auto& p : results.points()) add(p, base);
  if (t.outcomes.size() != 1024) Die(absl::StrCat("enumerated ", t.outcomes.size(), " of 1024"));
  // saving[d][c] from the single-decision configurations (power is linear).
  t.space.saving.assign(kGroups.size(), std::vector<double>(job.candidates_size(), 0));
  for (size_t d = 0; d < kGroups.size(); ++d) {
    for (int c = 1; c < job.candidates_size(); ++c) {
      search::Assignment a(kGroups.size(), 0);
      a[d] = c;
      t.space.saving[d][c] = 1 - t.outcomes.at(a).relative_power;
    }
  }
  return t;
}

// The table as text: "c ID0 ID1 …", "w W0 W1 …", one "s D S0 S1 …" per
// decision, one "p KEY ACCURACY DROP POWER" per assignment.
void SaveTable(const Table& t, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) Die("cannot write " + path);
  std::fprintf(f, "c %s\n", absl::StrJoin(t.candidates, " ").c_str());
  std::fprintf(f, "w");
  for (double w : t.space.mac_fraction) std::fprintf(f, " %.17g", w);
  std::fprintf(f, "\n");
  for (size_t d = 0; d < t.space.saving.size(); ++d) {
    std::fprintf(f, "s %zu", d);
    for (double v : t.space.saving[d]) std::fprintf(f, " %.17g", v);
    std::fprintf(f, "\n");
  }
  for (const auto& [a, o] : t.outcomes) {
    std::fprintf(f, "p %s %.17g %.17g %.17g\n", search::AssignmentKey(a).c_str(), t.accuracy.at(a),
                 o.accuracy_drop_pp, o.relative_power);
  }
  std::fclose(f);
}

Table LoadTable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) Die("cannot read " + path);
  Table t;
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), f) != nullptr) {
    std::vector<std::string> words = absl::StrSplit(absl::StripAsciiWhitespace(buffer), ' ');
    std::vector<double> values;
    for (size_t i = 1; i < words.size(); ++i) {
      double v = 0;
      if (absl::SimpleAtod(words[i], &v)) values.push_back(v);
    }
    if (words[0] == "c") {
      t.candidates.assign(words.begin() + 1, words.end());
    } else if (words[0] == "w") {
      t.space.mac_fraction = values;
    } else if (words[0] == "s" && !values.empty()) {
      t.space.saving.emplace_back(values.begin() + 1, values.end());
    } else if (words[0] == "p" && words.size() == 5) {
      search::Assignment a;
      for (absl::string_view part : absl::StrSplit(words[1], '.')) {
        int c = 0;
        if (!absl::SimpleAtoi(part, &c)) Die("bad assignment in " + path);
        a.push_back(c);
      }
      if (values.size() != 3) Die("bad line in " + path);
      t.accuracy[a] = values[0];
      t.outcomes[a] = {values[1], values[2]};
    }
  }
  std::fclose(f);
  return t;
}

struct Replay {
  std::vector<search::Assignment> seen;  // evaluated, the all-exact baseline included
  double best_saving = 0;                // within the threshold; 0 when none
};

std::vector<search::ParetoPoint> Points(const Table& t,
                                        const std::vector<search::Assignment>& seen) {
  std::vector<search::ParetoPoint> out;
  for (const auto& a : seen) {
    out.push_back({search::AssignmentKey(a), t.accuracy.at(a), t.outcomes.at(a).relative_power});
  }
  return out;
}

// Drives `strategy` for `budget` evaluations with `parallel` in flight,
// completing first in, first out; appends what it evaluated to `seen`.
void Drive(search::Strategy& strategy, const Table& t, int64_t budget, int parallel,
           std::vector<search::Assignment>* seen) {
  std::deque<search::Assignment> in_flight;
  int64_t done = 0;
  while (done < budget) {
    int want = static_cast<int>(std::min<int64_t>(parallel - static_cast<int>(in_flight.size()),
                                                  budget - done - static_cast<int64_t>(in_flight.size())));
    if (want > 0) {
      for (auto& a : strategy.Propose(want)) in_flight.push_back(a);
    }
    if (in_flight.empty()) break;
    search::Assignment a = in_flight.front();
    in_flight.pop_front();
    strategy.Observe(a, t.outcomes.at(a));
    seen->push_back(a);
    ++done;
  }
}

Replay RunReplay(const Table& t, search::StrategyKind kind, uint64_t seed, int64_t budget) {
  const double threshold = absl::GetFlag(FLAGS_threshold_pp);
  const int parallel = absl::GetFlag(FLAGS_parallel);
  const search::Assignment exact = t.space.Exact();
  std::vector<search::Assignment> seen;
  search::StrategyOptions options;
  options.kind = kind;
  options.seed = seed;
  options.max_accuracy_drop_pp = threshold;
  if (kind == search::StrategyKind::kMcts || kind == search::StrategyKind::kGreedy) {
    std::vector<int> all;
    for (int c = 1; c < t.space.candidates(); ++c) all.push_back(c);
    search::SensitivityAnalysis analysis(t.space, all, 0);
    Drive(analysis, t, budget, parallel, &seen);
    options.sensitivity = analysis.table();
  }
  auto strategy = search::MakeStrategy(t.space, options);
  if (!strategy.ok()) Die(std::string(strategy.status().message()));
  (*strategy)->Observe(exact, t.outcomes.at(exact));
  for (const auto& a : seen) (*strategy)->Observe(a, t.outcomes.at(a));
  Drive(**strategy, t, budget - static_cast<int64_t>(seen.size()), parallel, &seen);
  seen.push_back(exact);
  Replay r;
  for (const auto& a : seen) {
    const search::Outcome& o = t.outcomes.at(a);
    if (o.accuracy_drop_pp <= threshold) r.best_saving = std::max(r.best_saving, 1 - o.relative_power);
  }
  r.seen = std::move(seen);
  return r;
}

const char* Name(search::StrategyKind k) {
  switch (k) {
    case search::StrategyKind::kMcts: return "MCTS";
    case search::StrategyKind::kRandom: return "random";
    case search::StrategyKind::kGreedy: return "greedy";
    case search::StrategyKind::kNsga2: return "NSGA-II";
    case search::StrategyKind::kExhaustive: return "exhaustive";
  }
  return "?";
}

constexpr double kFractions[] = {0.02, 0.05, 0.10};
const search::StrategyKind kKinds[] = {search::StrategyKind::kMcts, search::StrategyKind::kNsga2,
                                       search::StrategyKind::kRandom, search::StrategyKind::kGreedy};

// replays[kind][fraction] holds one replay per seed.
using Replays = std::map<search::StrategyKind, std::vector<std::vector<Replay>>>;

// The hypervolume fractions of the replays (mean [min, max] per budget) with
// accuracy counted from `reference_accuracy` up, and the best savings.
void PrintHypervolumeTable(const Table& t, const Replays& replays,
                           const std::vector<search::ParetoPoint>& true_front,
                           double reference_accuracy, double true_best) {
  const double true_hv = search::Hypervolume(true_front, reference_accuracy, 1.0);
  std::printf("| strategy | 2%% of the space | 5%% | 10%% | best saving at 5%% | at 10%% |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (search::StrategyKind kind : kKinds) {
    std::printf("| %s |", Name(kind));
    std::vector<double> best_at;
    for (const std::vector<Replay>& per_seed : replays.at(kind)) {
      std::vector<double> hv;
      double best = 0;
      for (const Replay& r : per_seed) {
        hv.push_back(search::Hypervolume(search::NonDominated(Points(t, r.seen)),
                                         reference_accuracy, 1.0) /
                     true_hv);
        best += r.best_saving / static_cast<double>(per_seed.size());
      }
      best_at.push_back(true_best > 0 ? best / true_best : 0);
      double mean = std::accumulate(hv.begin(), hv.end(), 0.0) / static_cast<double>(hv.size());
      std::printf(" %.3f [%.3f, %.3f] |", mean, *std::min_element(hv.begin(), hv.end()),
                  *std::max_element(hv.begin(), hv.end()));
    }
    std::printf(" %.3f | %.3f |\n", best_at[1], best_at[2]);
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace transaxx

int main(int argc, char** argv) {
  using namespace transaxx;
  absl::ParseCommandLine(argc, argv);
  std::string work = absl::GetFlag(FLAGS_work_dir);
  if (work.empty()) work = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                        "/transaxx_search_quality_", getpid());
  std::filesystem::remove_all(work);
  const int subset = absl::GetFlag(FLAGS_subset);
  const int seeds = absl::GetFlag(FLAGS_seeds);

  Progress("enumerating the space on a cluster of 2 evaluators");
  absl::Time start = absl::Now();
  Table table;
  std::string table_file;
  if (const std::string dir = absl::GetFlag(FLAGS_table_dir); !dir.empty()) {
    std::string space = absl::StrCat(absl::GetFlag(FLAGS_candidates), "-", subset);
    for (char& c : space) {
      if (!absl::ascii_isalnum(c) && c != '-') c = '_';
    }
    std::filesystem::create_directories(dir);
    table_file = absl::StrCat(dir, "/space-", space, ".txt");
  }
  if (!table_file.empty() && std::filesystem::exists(table_file)) {
    table = LoadTable(table_file);
  } else {
    Cluster cluster(work + "/enumerate", 2);
    table = Enumerate(cluster, subset);
    if (!table_file.empty()) SaveTable(table, table_file);
  }
  const double enumerate_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<search::Assignment> all;
  double reference_accuracy = 1;
  for (const auto& [a, acc] : table.accuracy) {
    all.push_back(a);
    reference_accuracy = std::min(reference_accuracy, acc);
  }
  const auto true_front = search::NonDominated(Points(table, all));
  const double baseline = table.accuracy.at(table.space.Exact());
  double true_best = 0;
  for (const auto& [a, o] : table.outcomes) {
    if (o.accuracy_drop_pp <= absl::GetFlag(FLAGS_threshold_pp)) {
      true_best = std::max(true_best, 1 - o.relative_power);
    }
  }

  std::printf("# %s\n\n", absl::GetFlag(FLAGS_heading).c_str());
  std::printf("Reproduce: `./run bench search` (this machine: %d cores). Space: the demo model's "
              "layers in %zu groups (%s) × %d multipliers (%s) = "
              "%zu configurations, each evaluated on the first %d images of the Fashion-MNIST "
              "test split (int8, calibration: 512 stratified training images). Enumerated by an "
              "EXHAUSTIVE job on 2 evaluators in %.0f s. True Pareto front: %zu points; "
              "all-exact baseline accuracy %.4f, the space's lowest %.4f. Hypervolume reference "
              "power: 1. Best saving within %.1f pp: %.4f.\n\n",
              static_cast<int>(std::thread::hardware_concurrency()), kGroups.size(),
              "patch_embed, blocks.0 … blocks.3", table.space.candidates(),
              absl::StrJoin(table.candidates, ", ").c_str(), all.size(), subset,
              enumerate_seconds, true_front.size(), baseline, reference_accuracy,
              absl::GetFlag(FLAGS_threshold_pp), true_best);
  Replays replays;
  for (search::StrategyKind kind : kKinds) {
    for (double fraction : kFractions) {
      const int64_t budget = static_cast<int64_t>(std::lround(fraction * all.size()));
      std::vector<Replay> per_seed;
      for (int seed = 0; seed < seeds; ++seed) {
        per_seed.push_back(RunReplay(table, kind, seed, budget));
      }
      replays[kind].push_back(std::move(per_seed));
    }
  }
  std::printf("## Hypervolume fraction of the true front\n\n");
  std::printf("Each strategy replayed against the enumerated results as the coordinator drives "
              "it (%d evaluations in flight; the sensitivity analysis, 15 evaluations, counted "
              "in the budget of MCTS and greedy), %d seeds; mean [min, max]. Best saving: mean "
              "best saving within the threshold found, as a fraction of the true best.\n\n",
              absl::GetFlag(FLAGS_parallel), seeds);
  std::printf("### The whole space (reference: its lowest accuracy, %.4f)\n\n",
              reference_accuracy);
  PrintHypervolumeTable(table, replays, true_front, reference_accuracy, true_best);
  const double useful = absl::GetFlag(FLAGS_useful_drop_pp);
  const double useful_reference = std::max(reference_accuracy, baseline - useful / 100);
  std::printf("\n### The useful region (reference: %.1f pp below the all-exact baseline, "
              "accuracy %.4f)\n\n",
              useful, useful_reference);
  PrintHypervolumeTable(table, replays, true_front, useful_reference, true_best);
  std::printf("\n");

  if (absl::GetFlag(FLAGS_scaling_evaluators).empty()) {
    std::filesystem::remove_all(work);
    return 0;
  }
  std::printf("\n## Wall time and evaluator utilization\n\n");
  const int budget = absl::GetFlag(FLAGS_scaling_budget);
  std::printf("One MCTS job of %d evaluations (default parameters, seed 0, %d images each) on "
              "a fresh cluster (cold cache) of N evaluators, each with 1 compute thread and 1 "
              "concurrent evaluation. Utilization = time in successful Evaluate calls / (wall "
              "time × N), from the coordinator's metrics; baseline = the 1-evaluator run.\n\n",
              budget, subset);
  std::printf("| evaluators | wall time (s) | evaluations/s | speed-up vs 1 | utilization |\n");
  std::printf("|---|---|---|---|---|\n");
  double one = 0;
  for (absl::string_view n_text : absl::StrSplit(absl::GetFlag(FLAGS_scaling_evaluators), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(n_text, &n) || n < 1) Die("bad --scaling_evaluators");
    Progress(absl::StrCat("scaling run with ", n, " evaluators"));
    Cluster cluster(absl::StrCat(work, "/scaling", n), n);
    v1::SearchSpec spec = BaseSpec(subset);
    spec.mutable_budget()->set_max_evaluations(budget);
    const double busy_before = cluster.CoordinatorMetric("transaxx_coordinator_evaluation_seconds_sum");
    v1::SearchJob job = RunJob(cluster, spec);
    const double busy = cluster.CoordinatorMetric("transaxx_coordinator_evaluation_seconds_sum") - busy_before;
    const double wall = static_cast<double>(job.end_time().seconds() - job.start_time().seconds()) +
                        (job.end_time().nanos() - job.start_time().nanos()) * 1e-9;
    if (one == 0) one = wall;
    std::printf("| %d | %.1f | %.2f | %.2f | %.2f |\n", n, wall, budget / wall, one / wall,
                busy / (wall * n));
    std::fflush(stdout);
  }
  std::filesystem::remove_all(work);
  return 0;
}
