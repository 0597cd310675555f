#include "cli/search_command.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "cli/front_reevaluation.h"
#include "cli/local_flags.h"
#include "cli/pareto_plot.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "cli/search_results.h"
#include "cli/search_spec_flags.h"
#include "cli/search_watch.h"
#include "cli/text_table.h"
#include "libs/rpc/client_channel.h"
#include "transaxx/v1/search.grpc.pb.h"

namespace transaxx::cli {
namespace {

const char kClientFlagsHelp[] = R"(
Client flags (every search command):
  --server HOST:PORT    the coordinator (default $TRANSAXX_SERVER)
  --tls_ca FILE, --tls_cert FILE, --tls_key FILE
                        TLS / mutual TLS (default $TRANSAXX_TLS_CA,
                        $TRANSAXX_TLS_CERT, $TRANSAXX_TLS_KEY)
  --auth_token_file FILE  bearer token (default $TRANSAXX_AUTH_TOKEN_FILE)
  --timeout DURATION    deadline of each call (default 30s; watching, and
                        submit --wait, have none unless --timeout is given)
)";

const char kSearchHelp[] = R"(Usage: transaxx search COMMAND [FLAGS]

Search jobs on a search coordinator (transaxx-coordinator): a search for the
per-layer assignment of approximate multipliers that saves the most power
within an accuracy threshold, with the whole Pareto front of top-1 accuracy vs
relative power (1 = all exact).

Commands:
  submit       submit a job; prints its id (--wait: follow it, then print
               its results)
  list         the coordinator's jobs, newest first
  get JOB      one job: spec, state, progress, counts, best point so far
  watch JOB    follow a job live until it ends (Ctrl-C stops watching, not
               the job)
  cancel JOB   cancel a queued or running job (partial results stay)
  results JOB  baseline, Pareto front and the best configuration within the
               threshold: table, JSON or CSV, and an SVG plot

Run 'transaxx search COMMAND --help' for the flags of a command.
Exit codes: 0 success, 1 the operation failed (server error, job FAILED or
CANCELLED), 2 usage error.

Example:
  export TRANSAXX_SERVER=127.0.0.1:50051
  transaxx search submit --model fashion-vit --multipliers 'evo:mul8s_*' \
      --stratified 512 --max_evaluations 200 --max_drop 1.0 --wait
)";

const char kSubmitHelp[] = R"(Usage: transaxx search submit --model ID --multipliers LIST
                              (--max_evaluations N | --max_time DURATION) [FLAGS]

Submits a search job and prints its id on stdout. With --wait it then follows
the job like 'search watch' (events and progress on stderr) and prints its
results on stdout like 'search results'.

What to search:
  --model ID              model id on the evaluators (required)
  --multipliers LIST      candidate multiplier ids or globs, comma-separated
                          (required), e.g. 'evo:mul8s_1L2*,drum:k=6';
                          `exact` is always a candidate
  --layers LIST           layer names or globs to search (default: every
                          Linear/Conv2d layer but the head); others stay exact
  --group NAME=GLOB[,GLOB]  layers sharing one multiplier (repeatable)
  --attention             approximate the attention matmuls too
  --kind search|sensitivity  a search, or only the per-layer sensitivity
                          analysis (default search)

Images (of --dataset; evaluators' dataset ids):
  --dataset ID            (default fashion-mnist)
  --split NAME            split searched on (default test)
  --subset N              the first N images of the split (default: all)
  --stratified N          or a class-stratified sample of N images
  --subset_seed S         seed of the --stratified sample (default 0)
  --validation_split NAME  re-evaluate the baseline and the front on this
                          split (default: --split) ...
  --validation_offset N   ... from image N (default 0) ...
  --validation_subset N   ... N images (default: to the end of the split)
  --calibration_split NAME  quantization calibration split (default train)
  --calibration_subset N  stratified calibration images (default 1024)
  --batch_size N          images per batch on the evaluators (default:
                          theirs)

Objective and budget:
  --max_drop PP           largest acceptable top-1 drop in percentage points
                          (default 1.0)
  --baseline int8|fp32    what the drop is measured against (default int8,
                          the all-exact int8 model)
  --max_evaluations N     stop after N evaluated configurations
  --max_time DURATION     stop after this wall time (e.g. 30m, 2h)
                          (at least one of the two is required)

Strategy:
  --strategy mcts|random|greedy|nsga2|exhaustive  (default mcts)
  --seed S                seed of every random choice (default 0)
  --parallel N            evaluations in flight at once (default: the
                          evaluators' capacity)
  MCTS: --exploration C (UCT constant, default 1.4142), --prior_weight W
        (sensitivity/power prior, default 1; 0: none), --parallel_selection
        wu_uct|virtual_loss (default wu_uct), --virtual_loss X (default 1),
        --rollouts N (per expansion, default 1), --parallel_leaves N
  NSGA-II: --population N (>= 4, default 32), --crossover P (default 0.9),
        --mutation P (per decision, default 1/decisions)
  --sensitivity_evaluations N  bound on the sensitivity analysis (default:
                          layers x candidates)
  --sensitivity_subset N  its images: a stratified sample of the search split
                          (default 512)
  --sensitivity_multipliers LIST  candidates tried per layer (default all)

Submission:
  --name TEXT             shown in listings
  --request_id KEY        idempotency key: resubmitting it with the same spec
                          returns the existing job
  --wait                  follow the job to its end, then print its results
                          (exit 1 if it FAILED or was CANCELLED; Ctrl-C stops
                          waiting, not the job)
  --output, --all, --plot FILE.svg  with --wait: as for 'search results'
)";

const char kListHelp[] = R"(Usage: transaxx search list [--state S[,S]] [--kind K] [--page_size N]
                            [--page_token T] [--output table|json]

The coordinator's jobs, newest first: id, name, state, progress (evaluations
done/budget), best power saving within the threshold, creation time.

  --state S[,S]         only jobs in these states: queued, running,
                        succeeded, failed, cancelled
  --kind K              only jobs of this kind: search, sensitivity
  --page_size N         one page of at most N jobs (default: every job);
                        the token of the next page is printed on stderr
  --page_token T        the page after the one that printed T
  --output table|json   (default table; json: the jobs as the API gives them)
)";

const char kGetHelp[] = R"(Usage: transaxx search get JOB [--output table|json]

One job: name, kind, state (and the error of a FAILED job), times, model,
images, candidates, layers, objective, budget, strategy, progress, counters,
baseline accuracy and the best point within the threshold so far.

  --output table|json   (default table; json: the job as the API gives it)
)";

const char kWatchHelp[] = R"(Usage: transaxx search watch JOB [--logs]

Follows a job until it ends: on stderr a progress line (evaluations
done/total, best feasible power saving so far, ETA); on stdout one line per
state change and per new Pareto point (the stream opens with the current
state and front). Exit code 0 when the job SUCCEEDED, 1 when it FAILED or was
CANCELLED (with its message). Ctrl-C stops watching, not the job (exit 0).

  --logs                also print the job's log lines (retries, ejected
                        evaluators)
)";

const char kCancelHelp[] = R"(Usage: transaxx search cancel JOB

Cancels a QUEUED or RUNNING job: it becomes CANCELLED, evaluations in flight
are abandoned, completed ones and partial results stay queryable. A job that
already SUCCEEDED or FAILED cannot be cancelled (exit 1).
)";

const char kResultsHelp[] = R"(Usage: transaxx search results JOB [--all] [--output table|json|csv]
                               [--plot FILE.svg] [--model ID --evaluator HOST:PORT]

The results of a job (partial while it runs): the Pareto front of top-1
accuracy vs relative power (1 = all exact), the baseline, the threshold, the
best configuration within it with its per-layer assignment, and the
sensitivity table when the job ran one.

  --all                 also every evaluated point (table, JSON "points",
                        CSV rows)
  --output table|json|csv
                        table (default): the front by relative power with
                        saving, top-1 and its 95% interval, drop, validation
                        top-1/drop, feasibility;
                        json: one document with job id, state, threshold,
                        baseline, front, best, sensitivity (and points);
                        csv: one row per front point (every point with
                        --all): config_hash, relative_power, top1, drop_pp,
                        validation_top1, validation_drop_pp, on_front,
                        feasible, then one column per layer (multiplier id)
  --plot FILE.svg       also write an SVG plot: every evaluated point, the
                        front, the baseline and the threshold
  --model ID --evaluator HOST:PORT
                        also re-evaluate every front configuration on model
                        ID of that evaluator (e.g. one made by `transaxx
                        finetune`), with the job's calibration and images
                        (its validation subset, else its search subset):
                        table and json output (json key "reevaluated")
)";

namespace v1 = transaxx::v1;

struct Coordinator {
  rpc::ClientChannel channel;
  std::unique_ptr<v1::SearchCoordinator::Stub> stub;

  // One unary call with the default deadline; errors carry the server's
  // address, or say that the coordinator cannot be reached.
  absl::Status Call(const Args& args,
                    const std::function<grpc::Status(grpc::ClientContext*)>& call) const {
    auto context = channel.NewCall();
    return FromGrpc(call(context.get()), args, "coordinator");
  }
};

absl::StatusOr<Coordinator> Connect(const Args& args) {
  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return channel.status();
  auto stub = v1::SearchCoordinator::NewStub(channel->channel());
  return Coordinator{*std::move(channel), std::move(stub)};
}

// Prints the error; INVALID_ARGUMENT from the client flags is a usage error.
int ConnectError(const absl::Status& s) {
  return ReportError(s, s.code() == absl::StatusCode::kInvalidArgument);
}

// --output among `allowed` (the first is the default).
absl::StatusOr<std::string> OutputFlag(const Args& args, const std::vector<std::string>& allowed) {
  const std::string output = args.Value("output").value_or(allowed.front());
  if (std::find(allowed.begin(), allowed.end(), output) == allowed.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--output must be ", absl::StrJoin(allowed, ", ", absl::StreamFormatter()),
                     ", got '", output, "'"));
  }
  return output;
}

// The one positional argument JOB.
absl::StatusOr<std::string> JobArg(const Args& args, const std::string& command) {
  if (args.positional().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("JOB is required: transaxx search ", command,
                                                   " JOB (job ids: transaxx search list)"));
  }
  if (args.positional().size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", args.positional()[1],
                                                   "'; see transaxx search ", command, " --help"));
  }
  return args.positional()[0];
}

// The unary call `rpc` on the job named by JOB: prints a usage, connection or
// server error and returns its exit code, else kExitOk with `response` set.
template <typename Request, typename Response>
int CallOnJob(const Args& args, const std::string& command,
              grpc::Status (v1::SearchCoordinator::Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                               Response*),
              Response* response) {
  absl::StatusOr<std::string> job = JobArg(args, command);
  if (!job.ok()) return ReportError(job.status(), true);
  absl::StatusOr<Coordinator> c = Connect(args);
  if (!c.ok()) return ConnectError(c.status());
  Request request;
  request.set_job_id(*job);
  const absl::Status s =
      c->Call(args, [&](auto* ctx) { return ((*c->stub).*rpc)(ctx, request, response); });
  return s.ok() ? kExitOk : ReportError(s);
}

// The watch deadline: --timeout when given, else none.
std::optional<absl::Duration> WatchDeadline(const Args& args) {
  absl::Duration d;
  if (auto t = args.Value("timeout"); t && absl::ParseDuration(*t, &d)) return d;
  return std::nullopt;
}

std::string ProtoJson(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}";
  return out;
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixSeconds(t.seconds()),
                          absl::LocalTimeZone());
}

double Seconds(const google::protobuf::Duration& d) {
  return static_cast<double>(d.seconds()) + 1e-9 * d.nanos();
}

// ---------------------------------------------------------------------------
// results
// ---------------------------------------------------------------------------

// GetResults, with every page of points when `all_points`.
absl::StatusOr<v1::GetResultsResponse> FetchResults(const Coordinator& c, const Args& args,
                                                    const std::string& job_id, bool all_points) {
  v1::GetResultsRequest request;
  request.set_job_id(job_id);
  request.set_include_all_points(all_points);
  v1::GetResultsResponse results;
  if (absl::Status s =
          c.Call(args, [&](auto* ctx) { return c.stub->GetResults(ctx, request, &results); });
      !s.ok()) {
    return s;
  }
  request.set_page_token(results.next_page_token());
  while (all_points && !request.page_token().empty()) {
    v1::GetResultsResponse page;
    if (absl::Status s =
            c.Call(args, [&](auto* ctx) { return c.stub->GetResults(ctx, request, &page); });
        !s.ok()) {
      return s;
    }
    for (v1::SearchPoint& p : *page.mutable_points()) *results.add_points() = std::move(p);
    request.set_page_token(page.next_page_token());
  }
  results.clear_next_page_token();
  return results;
}

// The plot's subtitle: the job, its model and name.
std::string PlotSubtitle(const Coordinator& c, const Args& args, const std::string& job_id) {
  v1::GetSearchRequest request;
  request.set_job_id(job_id);
  v1::GetSearchResponse response;
  std::string title = absl::StrCat("search job ", job_id);
  if (c.Call(args, [&](auto* ctx) { return c.stub->GetSearch(ctx, request, &response); }).ok()) {
    const v1::SearchSpec& spec = response.job().spec();
    absl::StrAppend(&title, ": ", spec.model().id());
    if (!spec.display_name().empty()) absl::StrAppend(&title, " (", spec.display_name(), ")");
  }
  return title;
}

// Prints the results of `job_id` as --output, --all and --plot ask.
int PrintResults(const Coordinator& c, const Args& args, const std::string& job_id) {
  absl::StatusOr<std::string> output = OutputFlag(args, {"table", "json", "csv"});
  if (!output.ok()) return ReportError(output.status(), true);
  const bool all = args.Has("all");
  const std::optional<std::string> plot = args.Value("plot");
  // `results --model ID --evaluator HOST:PORT` (Results checked the pair;
  // `submit --wait` has a --model of its own but no --evaluator).
  const std::string evaluator = args.Value("evaluator").value_or("");
  const std::optional<std::string> model =
      evaluator.empty() ? std::nullopt : args.Value("model");
  absl::StatusOr<v1::GetResultsResponse> r = FetchResults(c, args, job_id, all || plot);
  if (!r.ok()) return ReportError(r.status());
  std::optional<FrontReevaluation> reevaluation;
  if (model) {
    v1::GetSearchRequest get;
    get.set_job_id(job_id);
    v1::GetSearchResponse job;
    if (absl::Status s =
            c.Call(args, [&](auto* ctx) { return c.stub->GetSearch(ctx, get, &job); });
        !s.ok()) {
      return ReportError(s);
    }
    absl::StatusOr<rpc::ClientChannel> channel = ConnectTo(args, evaluator);
    if (!channel.ok()) return ReportError(channel.status(), true);
    std::fprintf(stderr, "re-evaluating %d front points on %s at %s\n", r->pareto_front_size(),
                 model->c_str(), evaluator.c_str());
    absl::StatusOr<FrontReevaluation> done =
        ReevaluateFront(*r, job.job().spec(), *model, *channel, evaluator);
    if (!done.ok()) return ReportError(done.status());
    reevaluation = *std::move(done);
  }
  if (plot) {
    std::ofstream out(*plot);
    out << RenderParetoSvg(PlotOf(*r, PlotSubtitle(c, args, job_id)));
    out.close();
    if (!out) {
      return ReportError(absl::PermissionDeniedError(absl::StrCat("--plot: cannot write ", *plot)));
    }
    std::fprintf(stderr, "wrote the plot to %s\n", plot->c_str());
  }
  if (*output == "json") {
    nlohmann::json document = ResultsJson(*r, all);
    if (reevaluation) document["reevaluated"] = ReevaluationJson(*reevaluation);
    std::printf("%s\n", document.dump(2).c_str());
  } else if (*output == "csv") {
    std::printf("%s", ResultsCsv(*r, all).c_str());
  } else {
    std::printf("%s", ResultsTable(*r, all).c_str());
    if (reevaluation) std::printf("\n%s", ReevaluationTable(*reevaluation).c_str());
  }
  return kExitOk;
}

int Results(const Args& args) {
  absl::StatusOr<std::string> job = JobArg(args, "results");
  if (!job.ok()) return ReportError(job.status(), true);
  if (absl::StatusOr<std::string> o = OutputFlag(args, {"table", "json", "csv"}); !o.ok()) {
    return ReportError(o.status(), true);
  }
  if (args.Value("model").has_value() != args.Value("evaluator").has_value()) {
    return ReportError(absl::InvalidArgumentError("--model and --evaluator go together"), true);
  }
  if (args.Value("model") && args.Value("output") == "csv") {
    return ReportError(absl::InvalidArgumentError("--model goes with table or json output"), true);
  }
  absl::StatusOr<Coordinator> c = Connect(args);
  if (!c.ok()) return ConnectError(c.status());
  return PrintResults(*c, args, *job);
}

// ---------------------------------------------------------------------------
// submit, watch, cancel
// ---------------------------------------------------------------------------

int Submit(const Args& args) {
  if (absl::Status s = args.ExpectNoPositionals("search submit"); !s.ok())
    return ReportError(s, true);
  absl::StatusOr<v1::SearchSpec> spec = SpecFromFlags(args);
  if (!spec.ok()) return ReportError(spec.status(), true);
  const bool wait = args.Has("wait");
  if (!wait) {
    for (const char* flag : {"output", "all", "plot"}) {
      if (args.Has(flag)) {
        return ReportError(absl::InvalidArgumentError(absl::StrCat(
                               "--", flag, " goes with --wait (or use transaxx search results)")),
                           true);
      }
    }
  } else if (absl::StatusOr<std::string> o = OutputFlag(args, {"table", "json", "csv"}); !o.ok()) {
    return ReportError(o.status(), true);
  }
  absl::StatusOr<Coordinator> c = Connect(args);
  if (!c.ok()) return ConnectError(c.status());
  v1::SubmitSearchRequest request;
  *request.mutable_spec() = *std::move(spec);
  request.set_request_id(args.Value("request_id").value_or(""));
  v1::SubmitSearchResponse response;
  if (absl::Status s =
          c->Call(args, [&](auto* ctx) { return c->stub->SubmitSearch(ctx, request, &response); });
      !s.ok()) {
    return ReportError(s);
  }
  const std::string& job_id = response.job_id();
  if (!wait) {
    std::printf("%s\n", job_id.c_str());
    return kExitOk;
  }
  std::fprintf(stderr, "submitted job %s\n", job_id.c_str());
  WatchOutcome outcome = WatchJob(*c->stub, args, job_id, stderr, false, WatchDeadline(args));
  if (outcome.end != WatchOutcome::End::kTerminal || outcome.state != v1::JOB_STATE_SUCCEEDED) {
    return WatchExitCode(outcome, job_id);
  }
  return PrintResults(*c, args, job_id);
}

int Watch(const Args& args) {
  absl::StatusOr<std::string> job = JobArg(args, "watch");
  if (!job.ok()) return ReportError(job.status(), true);
  absl::StatusOr<Coordinator> c = Connect(args);
  if (!c.ok()) return ConnectError(c.status());
  return WatchExitCode(
      WatchJob(*c->stub, args, *job, stdout, args.Has("logs"), WatchDeadline(args)), *job);
}

int Cancel(const Args& args) {
  v1::CancelSearchResponse response;
  if (int code = CallOnJob(args, "cancel", &v1::SearchCoordinator::Stub::CancelSearch, &response);
      code != kExitOk) {
    return code;
  }
  const std::string& job = response.job().job_id();
  std::printf("job %s %s; partial results: transaxx search results %s\n", job.c_str(),
              StateName(response.job().state()).c_str(), job.c_str());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// list, get
// ---------------------------------------------------------------------------

absl::StatusOr<std::vector<v1::JobState>> StatesFlag(const Args& args) {
  std::vector<v1::JobState> states;
  const std::optional<std::string> text = args.Value("state");
  if (!text) return states;
  for (absl::string_view name : absl::StrSplit(*text, ',', absl::SkipWhitespace())) {
    v1::JobState state;
    if (!v1::JobState_Parse(absl::StrCat("JOB_STATE_", absl::AsciiStrToUpper(name)), &state) ||
        state == v1::JOB_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("--state: unknown state '", name,
                       "'; one of queued, running, succeeded, failed, cancelled"));
    }
    states.push_back(state);
  }
  return states;
}

absl::StatusOr<v1::JobKind> KindFlag(const Args& args) {
  const std::optional<std::string> text = args.Value("kind");
  if (!text) return v1::JOB_KIND_UNSPECIFIED;
  for (v1::JobKind k : {v1::JOB_KIND_SEARCH, v1::JOB_KIND_SENSITIVITY}) {
    if (JobKindName(k) == *text) return k;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--kind: unknown kind '", *text, "'; one of search, sensitivity"));
}

// "done/total" evaluations (a stored job's progress may lag its counters).
std::string ProgressText(const v1::SearchJob& job) {
  const int64_t done = std::max(job.progress().done(), job.counts().evaluations_completed());
  const int64_t total = std::max(job.progress().total(), job.spec().budget().max_evaluations());
  return total > 0 ? absl::StrCat(done, "/", total) : absl::StrCat(done);
}

// Time since the job started (to its end when it ended).
double ElapsedSeconds(const v1::SearchJob& job) {
  if (job.progress().elapsed().seconds() > 0 || !job.has_start_time()) {
    return Seconds(job.progress().elapsed());
  }
  const int64_t end =
      job.has_end_time() ? job.end_time().seconds() : absl::ToUnixSeconds(absl::Now());
  return static_cast<double>(end - job.start_time().seconds());
}

std::string BestSaving(const v1::SearchJob& job) {
  if (!job.has_best_within_threshold()) return "-";
  return absl::StrFormat("%.1f%%",
                         100 * (1 - job.best_within_threshold().power().relative_power()));
}

int List(const Args& args) {
  if (absl::Status s = args.ExpectNoPositionals("search list"); !s.ok())
    return ReportError(s, true);
  absl::StatusOr<std::string> output = OutputFlag(args, {"table", "json"});
  if (!output.ok()) return ReportError(output.status(), true);
  v1::ListSearchesRequest request;
  absl::StatusOr<std::vector<v1::JobState>> states = StatesFlag(args);
  if (!states.ok()) return ReportError(states.status(), true);
  for (v1::JobState s : *states) request.add_states(s);
  absl::StatusOr<v1::JobKind> kind = KindFlag(args);
  if (!kind.ok()) return ReportError(kind.status(), true);
  request.set_kind(*kind);
  absl::StatusOr<int64_t> page_size = IntFlag(args, "page_size", 0, 1);
  if (!page_size.ok()) return ReportError(page_size.status(), true);
  const bool one_page = args.Value("page_size").has_value();
  request.set_page_size(one_page ? static_cast<int32_t>(std::min<int64_t>(*page_size, 1000))
                                 : 1000);
  request.set_page_token(args.Value("page_token").value_or(""));
  absl::StatusOr<Coordinator> c = Connect(args);
  if (!c.ok()) return ConnectError(c.status());
  std::vector<v1::SearchJob> jobs;
  std::string next;
  do {
    v1::ListSearchesResponse response;
    if (absl::Status s = c->Call(
            args, [&](auto* ctx) { return c->stub->ListSearches(ctx, request, &response); });
        !s.ok()) {
      return ReportError(s);
    }
    for (v1::SearchJob& j : *response.mutable_jobs()) jobs.push_back(std::move(j));
    next = response.next_page_token();
    request.set_page_token(next);
  } while (!one_page && !next.empty());
  if (*output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const v1::SearchJob& j : jobs) out.push_back(nlohmann::json::parse(ProtoJson(j)));
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    TextTable table({"ID", "NAME", "STATE", "PROGRESS", "BEST SAVING", "CREATED"});
    for (const v1::SearchJob& j : jobs) {
      table.AddRow({j.job_id(), j.spec().display_name(), StateName(j.state()), ProgressText(j),
                    BestSaving(j), Time(j.create_time())});
    }
    std::printf("%s", table.Render().c_str());
  }
  if (one_page && !next.empty()) {
    std::fprintf(stderr, "more jobs: transaxx search list --page_size %lld --page_token %s\n",
                 static_cast<long long>(*page_size), next.c_str());
  }
  return kExitOk;
}

// "fashion-mnist:test, the first 32 images".
std::string SubsetText(const v1::DatasetSubset& s) {
  std::string out = absl::StrCat(s.dataset().id(), ":", s.split(), ", ");
  if (s.has_stratified()) {
    return absl::StrCat(out, "a stratified sample of ", s.stratified().size(), " images (seed ",
                        s.stratified().seed(), ")");
  }
  if (s.has_range() && s.range().limit() > 0) {
    return absl::StrCat(out, s.range().limit(), " images from #", s.range().offset());
  }
  if (s.has_range() && s.range().offset() > 0) {
    return absl::StrCat(out, "images from #", s.range().offset(), " to the end");
  }
  return out + "the whole split";
}

std::string StrategyText(const v1::SearchSpec& spec) {
  std::string out = StrategyName(spec.strategy());
  std::vector<std::string> params;
  if (spec.has_mcts()) {
    const v1::MctsParams& m = spec.mcts();
    if (m.has_exploration_constant())
      params.push_back(absl::StrCat("exploration ", m.exploration_constant()));
    if (m.has_prior_weight()) params.push_back(absl::StrCat("prior weight ", m.prior_weight()));
    if (m.parallel_selection() == v1::PARALLEL_SELECTION_VIRTUAL_LOSS)
      params.push_back("virtual loss");
  }
  if (spec.has_nsga2() && spec.nsga2().population_size() > 0) {
    params.push_back(absl::StrCat("population ", spec.nsga2().population_size()));
  }
  if (!params.empty()) absl::StrAppend(&out, " (", absl::StrJoin(params, ", "), ")");
  return absl::StrCat(out, ", seed ", spec.seed());
}

std::string BudgetText(const v1::Budget& b) {
  std::vector<std::string> parts;
  if (b.max_evaluations() > 0) parts.push_back(absl::StrCat(b.max_evaluations(), " evaluations"));
  if (b.max_wall_time().seconds() > 0) {
    parts.push_back(FormatDuration(Seconds(b.max_wall_time())) + " of wall time");
  }
  return absl::StrJoin(parts, ", whichever comes first: ");
}

// The readable summary of `search get`: aligned "key  value" lines.
std::string JobSummary(const v1::SearchJob& job) {
  const v1::SearchSpec& spec = job.spec();
  const v1::SearchCounts& n = job.counts();
  std::vector<std::pair<std::string, std::string>> rows = {{"job", job.job_id()},
                                                           {"name", spec.display_name()},
                                                           {"kind", JobKindName(spec.kind())},
                                                           {"state", StateName(job.state())}};
  if (!job.error_message().empty()) rows.push_back({"error", job.error_message()});
  rows.push_back({"created", Time(job.create_time())});
  if (job.has_start_time()) rows.push_back({"started", Time(job.start_time())});
  if (job.has_end_time()) rows.push_back({"ended", Time(job.end_time())});
  if (job.resume_count() > 0)
    rows.push_back({"resumed", absl::StrCat(job.resume_count(), " times")});
  rows.push_back({"model", spec.model().id()});
  rows.push_back({"search images", SubsetText(spec.search_subset())});
  if (spec.has_validation_subset())
    rows.push_back({"validation", SubsetText(spec.validation_subset())});
  std::vector<std::string> candidates;
  for (const v1::MultiplierRef& m : job.candidates()) candidates.push_back(m.id());
  rows.push_back({"candidates", candidates.empty()
                                    ? absl::StrJoin(spec.candidate_multipliers(), ", ")
                                    : absl::StrCat(absl::StrJoin(candidates, ", "), " (",
                                                   candidates.size(), ")")});
  if (!job.layers().empty()) {
    rows.push_back({"layers", absl::StrCat(job.layers_size(), " searched: ", job.layers(0), " ... ",
                                           job.layers(job.layers_size() - 1))});
  }
  for (const v1::LayerGroup& g : spec.layer_groups()) {
    rows.push_back({"group", absl::StrCat(g.name(), " = ", absl::StrJoin(g.layers(), ", "))});
  }
  if (spec.include_attention_matmuls()) rows.push_back({"attention", "matmuls approximated too"});
  rows.push_back({"objective", absl::StrFormat("top-1 drop <= %.2f pp against the %s baseline",
                                               spec.objective().max_accuracy_drop_pp(),
                                               BaselineName(spec.objective().baseline()))});
  rows.push_back({"budget", BudgetText(spec.budget())});
  rows.push_back({"strategy", StrategyText(spec)});
  std::string progress = absl::StrCat(ProgressText(job), " evaluations, elapsed ",
                                      FormatDuration(ElapsedSeconds(job)));
  if (job.progress().has_eta())
    absl::StrAppend(&progress, ", ETA ", FormatDuration(Seconds(job.progress().eta())));
  rows.push_back({"progress", progress});
  rows.push_back(
      {"counts", absl::StrFormat("%d evaluated (%d cached), %d failed, %d retried, %d in flight; "
                                 "front %d, feasible %d; search space %.4g configurations",
                                 n.evaluations_completed(), n.cache_hits(), n.evaluations_failed(),
                                 n.evaluations_retried(), n.evaluations_in_flight(),
                                 n.pareto_size(), n.feasible_count(), n.search_space_size())});
  if (job.has_baseline_accuracy()) {
    const v1::Accuracy& a = job.baseline_accuracy();
    rows.push_back({"baseline", absl::StrFormat("top-1 %.2f%% on %d images", 100 * a.top1(),
                                                a.sample_count())});
  }
  rows.push_back({"best", job.has_best_within_threshold() ? PointLine(job.best_within_threshold())
                                                          : "none within the threshold yet"});
  std::string out;
  for (const auto& [key, value] : rows)
    absl::StrAppend(&out, absl::StrFormat("%-14s %s\n", key, value));
  return out;
}

int Get(const Args& args) {
  absl::StatusOr<std::string> output = OutputFlag(args, {"table", "json"});
  if (!output.ok()) return ReportError(output.status(), true);
  v1::GetSearchResponse response;
  if (int code = CallOnJob(args, "get", &v1::SearchCoordinator::Stub::GetSearch, &response);
      code != kExitOk) {
    return code;
  }
  std::printf("%s", *output == "json" ? (ProtoJson(response.job()) + "\n").c_str()
                                      : JobSummary(response.job()).c_str());
  return kExitOk;
}

// ---------------------------------------------------------------------------
// dispatch
// ---------------------------------------------------------------------------

struct Subcommand {
  const char* help;
  std::set<std::string> value_flags, bool_flags, repeatable_flags;
  std::function<int(const Args&)> run;
};

const std::map<std::string, Subcommand>& Subcommands() {
  static const std::map<std::string, Subcommand> commands = [] {
    std::set<std::string> submit_values = SpecValueFlags();
    submit_values.insert({"request_id", "output", "plot"});
    std::set<std::string> submit_bools = SpecBoolFlags();
    submit_bools.insert({"wait", "all"});
    return std::map<std::string, Subcommand>{
        {"submit", {kSubmitHelp, submit_values, submit_bools, SpecRepeatableFlags(), Submit}},
        {"list", {kListHelp, {"state", "kind", "page_size", "page_token", "output"}, {}, {}, List}},
        {"get", {kGetHelp, {"output"}, {}, {}, Get}},
        {"watch", {kWatchHelp, {}, {"logs"}, {}, Watch}},
        {"cancel", {kCancelHelp, {}, {}, {}, Cancel}},
        {"results", {kResultsHelp, {"output", "plot", "model", "evaluator"}, {"all"}, {}, Results}},
    };
  }();
  return commands;
}

bool IsHelp(const std::string& word) { return word == "--help" || word == "-h" || word == "help"; }

}  // namespace

int RunSearchCommand(const std::vector<std::string>& words) {
  if (words.empty() || IsHelp(words[0])) {
    std::printf("%s%s", kSearchHelp, kClientFlagsHelp);
    return words.empty() ? kExitUsage : kExitOk;
  }
  auto it = Subcommands().find(words[0]);
  if (it == Subcommands().end()) {
    return ReportError(absl::InvalidArgumentError("unknown command 'search " + words[0] +
                                                  "'; see transaxx search --help"),
                       true);
  }
  const Subcommand& command = it->second;
  std::set<std::string> value_flags = command.value_flags;
  value_flags.insert(ClientFlags().begin(), ClientFlags().end());
  std::set<std::string> bool_flags = command.bool_flags;
  bool_flags.insert("help");
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  absl::StatusOr<Args> args = Args::Parse(rest, value_flags, bool_flags, command.repeatable_flags);
  if (!args.ok()) return ReportError(args.status(), true);
  const std::vector<std::string>& positional = args->positional();
  if (args->Has("help") ||
      std::find(positional.begin(), positional.end(), "-h") != positional.end()) {
    std::printf("%s%s", command.help, kClientFlagsHelp);
    return kExitOk;
  }
  return command.run(*args);
}

}  // namespace transaxx::cli
