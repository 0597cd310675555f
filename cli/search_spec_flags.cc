#include "cli/search_spec_flags.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/local_flags.h"

namespace transaxx::cli {
namespace {

// Command-line names of an enum's values, in the order shown in messages.
template <typename E>
using Names = std::vector<std::pair<std::string, E>>;

const Names<v1::Strategy>& StrategyNames() {
  static const Names<v1::Strategy> names = {{"mcts", v1::STRATEGY_MCTS},
                                            {"random", v1::STRATEGY_RANDOM},
                                            {"greedy", v1::STRATEGY_GREEDY},
                                            {"nsga2", v1::STRATEGY_NSGA2},
                                            {"exhaustive", v1::STRATEGY_EXHAUSTIVE}};
  return names;
}
const Names<v1::JobKind>& JobKindNames() {
  static const Names<v1::JobKind> names = {{"search", v1::JOB_KIND_SEARCH},
                                           {"sensitivity", v1::JOB_KIND_SENSITIVITY}};
  return names;
}
const Names<v1::Baseline>& BaselineNames() {
  static const Names<v1::Baseline> names = {{"int8", v1::BASELINE_INT8_EXACT},
                                            {"fp32", v1::BASELINE_FP32}};
  return names;
}
const Names<v1::ParallelSelection>& SelectionNames() {
  static const Names<v1::ParallelSelection> names = {
      {"wu_uct", v1::PARALLEL_SELECTION_WU_UCT},
      {"virtual_loss", v1::PARALLEL_SELECTION_VIRTUAL_LOSS}};
  return names;
}

// --flag's value among `names`, or `fallback` when not given.
template <typename E>
absl::StatusOr<E> EnumFlag(const Args& args, const std::string& flag, const Names<E>& names,
                           E fallback) {
  const std::optional<std::string> text = args.Value(flag);
  if (!text) return fallback;
  std::vector<std::string> known;
  for (const auto& [name, value] : names) {
    if (name == *text) return value;
    known.push_back(name);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": unknown value '", *text,
                                                 "'; one of ", absl::StrJoin(known, ", ")));
}

template <typename E>
std::string NameOf(const Names<E>& names, E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return names.front().first;  // UNSPECIFIED means the first (the default)
}

// The flags of each strategy's parameters.
const std::vector<std::string> kMctsFlags = {"exploration",  "prior_weight", "parallel_selection",
                                             "virtual_loss", "rollouts",     "parallel_leaves"};
const std::vector<std::string> kNsga2Flags = {"population", "crossover", "mutation"};

// A value in [0, 1] for probabilities.
absl::StatusOr<double> ProbabilityFlag(const Args& args, const std::string& flag) {
  absl::StatusOr<double> p = NumberFlag(args, flag, 0, false);
  if (p.ok() && *p > 1) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be in [0, 1]"));
  }
  return p;
}

// Sets `set(value)` when --flag is given, checking it with NumberFlag.
template <typename Setter>
absl::Status SetNumber(const Args& args, const std::string& flag, Setter set) {
  if (!args.Value(flag)) return absl::OkStatus();
  absl::StatusOr<double> v = NumberFlag(args, flag, 0, false);
  if (!v.ok()) return v.status();
  set(*v);
  return absl::OkStatus();
}

// Sets `set(value)` when --flag is given, an integer >= min.
template <typename Setter>
absl::Status SetInt(const Args& args, const std::string& flag, int64_t min, Setter set) {
  if (!args.Value(flag)) return absl::OkStatus();
  absl::StatusOr<int64_t> v = IntFlag(args, flag, 0, min);
  if (!v.ok()) return v.status();
  set(*v);
  return absl::OkStatus();
}

absl::Status MctsParams(const Args& args, v1::MctsParams* m) {
  if (absl::Status s =
          SetNumber(args, "exploration", [&](double v) { m->set_exploration_constant(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetNumber(args, "prior_weight", [&](double v) { m->set_prior_weight(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetNumber(args, "virtual_loss", [&](double v) { m->set_virtual_loss(v); });
      !s.ok()) {
    return s;
  }
  absl::StatusOr<v1::ParallelSelection> selection =
      EnumFlag(args, "parallel_selection", SelectionNames(), v1::PARALLEL_SELECTION_UNSPECIFIED);
  if (!selection.ok()) return selection.status();
  m->set_parallel_selection(*selection);
  if (absl::Status s =
          SetInt(args, "rollouts", 1,
                 [&](int64_t v) { m->set_rollouts_per_expansion(static_cast<int32_t>(v)); });
      !s.ok()) {
    return s;
  }
  return SetInt(args, "parallel_leaves", 1,
                [&](int64_t v) { m->set_max_parallel_leaves(static_cast<int32_t>(v)); });
}

absl::Status Nsga2Params(const Args& args, v1::Nsga2Params* n) {
  if (absl::Status s = SetInt(args, "population", 4,
                              [&](int64_t v) { n->set_population_size(static_cast<int32_t>(v)); });
      !s.ok()) {
    return s;
  }
  for (const char* flag : {"crossover", "mutation"}) {
    if (!args.Value(flag)) continue;
    absl::StatusOr<double> p = ProbabilityFlag(args, flag);
    if (!p.ok()) return p.status();
    if (std::string(flag) == "crossover") {
      n->set_crossover_probability(*p);
    } else {
      n->set_mutation_probability(*p);
    }
  }
  return absl::OkStatus();
}

// The strategy and its parameters; a parameter of another strategy is refused.
absl::Status Strategy(const Args& args, v1::SearchSpec* spec) {
  absl::StatusOr<v1::Strategy> strategy =
      EnumFlag(args, "strategy", StrategyNames(), v1::STRATEGY_MCTS);
  if (!strategy.ok()) return strategy.status();
  spec->set_strategy(*strategy);
  auto refuse_others = [&](const std::vector<std::string>& flags,
                           const std::string& owner) -> absl::Status {
    for (const std::string& f : flags) {
      if (args.Value(f)) {
        return absl::InvalidArgumentError(absl::StrCat("--", f, " is a parameter of --strategy ",
                                                       owner, ", not of ",
                                                       StrategyName(*strategy)));
      }
    }
    return absl::OkStatus();
  };
  if (*strategy != v1::STRATEGY_MCTS) {
    if (absl::Status s = refuse_others(kMctsFlags, "mcts"); !s.ok()) return s;
  }
  if (*strategy != v1::STRATEGY_NSGA2) {
    if (absl::Status s = refuse_others(kNsga2Flags, "nsga2"); !s.ok()) return s;
  }
  if (*strategy == v1::STRATEGY_MCTS) return MctsParams(args, spec->mutable_mcts());
  if (*strategy == v1::STRATEGY_NSGA2) return Nsga2Params(args, spec->mutable_nsga2());
  return absl::OkStatus();
}

// The search subset: --dataset, --split, --subset N (the first N images) or
// --stratified N [--subset_seed S]; the whole split without either.
absl::Status SearchSubset(const Args& args, v1::DatasetSubset* subset) {
  subset->mutable_dataset()->set_id(args.Value("dataset").value_or("fashion-mnist"));
  subset->set_split(args.Value("split").value_or("test"));
  if (args.Value("subset") && args.Value("stratified")) {
    return absl::InvalidArgumentError(
        "--subset N (the first N images) and --stratified N (a class-stratified sample) "
        "exclude each other");
  }
  if (args.Value("subset_seed") && !args.Value("stratified")) {
    return absl::InvalidArgumentError("--subset_seed goes with --stratified N");
  }
  if (absl::Status s =
          SetInt(args, "subset", 1, [&](int64_t v) { subset->mutable_range()->set_limit(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetInt(args, "stratified", 1,
                              [&](int64_t v) { subset->mutable_stratified()->set_size(v); });
      !s.ok()) {
    return s;
  }
  return SetInt(args, "subset_seed", 0, [&](int64_t v) {
    subset->mutable_stratified()->set_seed(static_cast<uint64_t>(v));
  });
}

// --validation_split/--validation_offset/--validation_subset: a range of a
// split of the search dataset (default: the search split, to its end).
absl::Status ValidationSubset(const Args& args, v1::SearchSpec* spec) {
  if (!args.Value("validation_split") && !args.Value("validation_subset") &&
      !args.Value("validation_offset")) {
    return absl::OkStatus();
  }
  v1::DatasetSubset* v = spec->mutable_validation_subset();
  *v->mutable_dataset() = spec->search_subset().dataset();
  v->set_split(args.Value("validation_split").value_or(spec->search_subset().split()));
  if (absl::Status s = SetInt(args, "validation_offset", 0,
                              [&](int64_t n) { v->mutable_range()->set_offset(n); });
      !s.ok()) {
    return s;
  }
  return SetInt(args, "validation_subset", 1, [&](int64_t n) { v->mutable_range()->set_limit(n); });
}

// --calibration_split (default train) / --calibration_subset N: a
// class-stratified sample (seed 0) of that split of the search dataset.
absl::Status Calibration(const Args& args, v1::SearchSpec* spec) {
  if (!args.Value("calibration_split") && !args.Value("calibration_subset")) {
    return absl::OkStatus();
  }
  v1::DatasetSubset* c = spec->mutable_calibration()->mutable_subset();
  *c->mutable_dataset() = spec->search_subset().dataset();
  c->set_split(args.Value("calibration_split").value_or("train"));
  absl::StatusOr<int64_t> n = IntFlag(args, "calibration_subset", 1024, 1);
  if (!n.ok()) return n.status();
  c->mutable_stratified()->set_size(*n);
  return absl::OkStatus();
}

// --sensitivity_evaluations, --sensitivity_subset N (stratified on the search
// split with --seed), --sensitivity_multipliers LIST.
absl::Status Sensitivity(const Args& args, v1::SearchSpec* spec) {
  v1::SensitivityParams* p = spec->mutable_sensitivity();
  if (absl::Status s =
          SetInt(args, "sensitivity_evaluations", 0, [&](int64_t v) { p->set_max_evaluations(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetInt(args, "sensitivity_subset", 1,
                              [&](int64_t v) {
                                v1::DatasetSubset* sub = p->mutable_subset();
                                *sub->mutable_dataset() = spec->search_subset().dataset();
                                sub->set_split(spec->search_subset().split());
                                sub->mutable_stratified()->set_size(v);
                                sub->mutable_stratified()->set_seed(spec->seed());
                              });
      !s.ok()) {
    return s;
  }
  if (auto list = args.Value("sensitivity_multipliers")) {
    for (const std::string& m : SplitMultiplierList(*list)) p->add_multipliers(m);
  }
  return absl::OkStatus();
}

// --layers LIST and --group NAME=GLOB[,GLOB] (repeatable).
absl::Status Layers(const Args& args, v1::SearchSpec* spec) {
  if (auto layers = args.Value("layers")) {
    for (absl::string_view l : absl::StrSplit(*layers, ',', absl::SkipWhitespace())) {
      spec->add_layers(std::string(absl::StripAsciiWhitespace(l)));
    }
  }
  for (const std::string& g : args.Values("group")) {
    const size_t eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--group '", g, "': expected NAME=GLOB[,GLOB...], e.g. mlp=blocks.*.mlp.*"));
    }
    v1::LayerGroup* group = spec->add_layer_groups();
    group->set_name(g.substr(0, eq));
    for (absl::string_view l : absl::StrSplit(g.substr(eq + 1), ',', absl::SkipWhitespace())) {
      group->add_layers(std::string(absl::StripAsciiWhitespace(l)));
    }
  }
  return absl::OkStatus();
}

// --max_drop, --baseline, --max_evaluations, --max_time.
absl::Status ObjectiveAndBudget(const Args& args, v1::SearchSpec* spec) {
  absl::StatusOr<double> drop = NumberFlag(args, "max_drop", 1.0, false);
  if (!drop.ok()) return drop.status();
  spec->mutable_objective()->set_max_accuracy_drop_pp(*drop);
  absl::StatusOr<v1::Baseline> baseline =
      EnumFlag(args, "baseline", BaselineNames(), v1::BASELINE_INT8_EXACT);
  if (!baseline.ok()) return baseline.status();
  spec->mutable_objective()->set_baseline(*baseline);
  if (!args.Value("max_evaluations") && !args.Value("max_time")) {
    return absl::InvalidArgumentError(
        "a job needs a budget: --max_evaluations N and/or --max_time DURATION (e.g. 30m)");
  }
  absl::StatusOr<int64_t> evaluations = IntFlag(args, "max_evaluations", 0, 1);
  if (!evaluations.ok()) return evaluations.status();
  spec->mutable_budget()->set_max_evaluations(*evaluations);
  if (auto text = args.Value("max_time")) {
    absl::Duration d;
    if (!absl::ParseDuration(*text, &d) || d <= absl::ZeroDuration() ||
        d == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--max_time: '", *text, "' is not a positive duration like 90s, 30m or 2h"));
    }
    spec->mutable_budget()->mutable_max_wall_time()->set_seconds(absl::ToInt64Seconds(d));
    spec->mutable_budget()->mutable_max_wall_time()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(d - absl::Seconds(absl::ToInt64Seconds(d)))));
  }
  return absl::OkStatus();
}

}  // namespace

const std::set<std::string>& SpecValueFlags() {
  static const std::set<std::string> flags = [] {
    std::set<std::string> f = {"model",
                               "dataset",
                               "split",
                               "subset",
                               "stratified",
                               "subset_seed",
                               "validation_split",
                               "validation_subset",
                               "validation_offset",
                               "calibration_split",
                               "calibration_subset",
                               "multipliers",
                               "layers",
                               "group",
                               "max_drop",
                               "baseline",
                               "max_evaluations",
                               "max_time",
                               "strategy",
                               "sensitivity_evaluations",
                               "sensitivity_subset",
                               "sensitivity_multipliers",
                               "seed",
                               "parallel",
                               "batch_size",
                               "name",
                               "kind"};
    f.insert(kMctsFlags.begin(), kMctsFlags.end());
    f.insert(kNsga2Flags.begin(), kNsga2Flags.end());
    return f;
  }();
  return flags;
}

const std::set<std::string>& SpecBoolFlags() {
  static const std::set<std::string> flags = {"attention"};
  return flags;
}

const std::set<std::string>& SpecRepeatableFlags() {
  static const std::set<std::string> flags = {"group"};
  return flags;
}

absl::StatusOr<v1::SearchSpec> SpecFromFlags(const Args& args) {
  v1::SearchSpec spec;
  const std::optional<std::string> model = args.Value("model");
  if (!model || model->empty()) {
    return absl::InvalidArgumentError(
        "--model ID is required (the model id on the evaluators; "
        "see transaxx models list --server EVALUATOR)");
  }
  spec.mutable_model()->set_id(*model);
  const std::optional<std::string> multipliers = args.Value("multipliers");
  if (!multipliers || SplitMultiplierList(*multipliers).empty()) {
    return absl::InvalidArgumentError(
        "--multipliers LIST is required: candidate multiplier ids or globs, e.g. "
        "'evo:mul8s_*' or 'drum:k=4,drum:k=6' (see transaxx multipliers list)");
  }
  for (const std::string& m : SplitMultiplierList(*multipliers)) spec.add_candidate_multipliers(m);
  absl::StatusOr<v1::JobKind> kind = EnumFlag(args, "kind", JobKindNames(), v1::JOB_KIND_SEARCH);
  if (!kind.ok()) return kind.status();
  spec.set_kind(*kind);
  spec.set_display_name(args.Value("name").value_or(""));
  spec.set_include_attention_matmuls(args.Has("attention"));
  absl::StatusOr<int64_t> seed = IntFlag(args, "seed", 0, 0);
  if (!seed.ok()) return seed.status();
  spec.set_seed(static_cast<uint64_t>(*seed));
  for (const auto& [flag, setter] :
       std::vector<std::pair<std::string, void (v1::SearchSpec::*)(int32_t)>>{
           {"parallel", &v1::SearchSpec::set_max_parallel_evaluations},
           {"batch_size", &v1::SearchSpec::set_batch_size}}) {
    absl::StatusOr<int64_t> v = IntFlag(args, flag, 0, 1);
    if (!v.ok()) return v.status();
    if (args.Value(flag)) (spec.*setter)(static_cast<int32_t>(*v));
  }
  for (absl::Status s :
       {SearchSubset(args, spec.mutable_search_subset()), ValidationSubset(args, &spec),
        Calibration(args, &spec), Layers(args, &spec), ObjectiveAndBudget(args, &spec),
        Strategy(args, &spec), Sensitivity(args, &spec)}) {
    if (!s.ok()) return s;
  }
  return spec;
}

std::vector<std::string> SplitMultiplierList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view piece : absl::StrSplit(list, ',')) {
    piece = absl::StripAsciiWhitespace(piece);
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    const size_t colon = piece.find(':');
    const bool continues =
        eq != absl::string_view::npos && (colon == absl::string_view::npos || colon > eq);
    if (continues && !out.empty()) {
      absl::StrAppend(&out.back(), ",", piece);
    } else {
      out.emplace_back(piece);
    }
  }
  return out;
}

std::string StrategyName(v1::Strategy s) { return NameOf(StrategyNames(), s); }
std::string JobKindName(v1::JobKind k) { return NameOf(JobKindNames(), k); }
std::string BaselineName(v1::Baseline b) { return NameOf(BaselineNames(), b); }

}  // namespace transaxx::cli
