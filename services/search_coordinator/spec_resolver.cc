#include "services/search_coordinator/spec_resolver.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace transaxx::coordinator {
namespace {

absl::Status Invalid(const std::string& field, const std::string& problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

bool Glob(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// `s` with `field` in front, unknown-thing errors becoming INVALID_ARGUMENT.
absl::Status Named(const absl::Status& s, const std::string& field) {
  if (s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kInvalidArgument) {
    return Invalid(field, std::string(s.message()));
  }
  return absl::Status(s.code(), absl::StrCat(field, ": ", s.message()));
}

absl::Status CheckSubsetFields(const v1::DatasetSubset& subset, const std::string& field) {
  if (subset.dataset().id().empty()) return Invalid(field + ".dataset.id", "required");
  if (subset.split().empty()) return Invalid(field + ".split", "required");
  if (subset.has_range() && (subset.range().offset() < 0 || subset.range().limit() < 0)) {
    return Invalid(field + ".range", "offset and limit must be >= 0");
  }
  if (subset.has_stratified() && subset.stratified().size() < 1) {
    return Invalid(field + ".stratified.size", "must be >= 1");
  }
  return absl::OkStatus();
}

// Fills the dataset's content hash and checks the split and the subset's size.
absl::Status ResolveSubset(const v1::ListDatasetsResponse& datasets, v1::DatasetSubset* subset,
                           const std::string& field, int64_t* size_out) {
  for (const v1::DatasetInfo& d : datasets.datasets()) {
    if (d.ref().id() != subset->dataset().id()) continue;
    if (!subset->dataset().content_hash().empty() &&
        subset->dataset().content_hash() != d.ref().content_hash()) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ".dataset.content_hash: the evaluators hold dataset '", d.ref().id(),
                       "' with hash ", d.ref().content_hash()));
    }
    subset->mutable_dataset()->set_content_hash(d.ref().content_hash());
    for (const v1::DatasetSplit& split : d.splits()) {
      if (split.name() != subset->split()) continue;
      int64_t n = SubsetSize(*subset, split.size());
      bool too_large = subset->has_range()
                           ? subset->range().offset() + subset->range().limit() > split.size() ||
                                 subset->range().offset() >= split.size()
                           : n > split.size();
      if (too_large || n < 1) {
        return Invalid(field, absl::StrCat("selects beyond split '", split.name(), "' of ",
                                           split.size(), " images"));
      }
      if (size_out != nullptr) *size_out = n;
      return absl::OkStatus();
    }
    std::string names;
    for (const v1::DatasetSplit& split : d.splits()) absl::StrAppend(&names, " ", split.name());
    return Invalid(field + ".split",
                   absl::StrCat("dataset '", d.ref().id(), "' has no split '", subset->split(),
                                "' (it has:", names, ")"));
  }
  return Invalid(field + ".dataset.id",
                 absl::StrCat("unknown dataset '", subset->dataset().id(), "'"));
}

// The power model's multipliers matching `globs` (describing each costs the
// power model error figures and a structure analysis, so ask for no more).
absl::StatusOr<std::vector<v1::MultiplierInfo>> PowerCatalog(v1::PowerModel::Stub& power,
                                                             const std::vector<std::string>& globs) {
  std::vector<v1::MultiplierInfo> out;
  std::string token;
  do {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::ListMultipliersRequest request;
    for (const std::string& g : globs) request.mutable_filter()->add_id_globs(g);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListMultipliersResponse response;
    grpc::Status s = power.ListMultipliers(&context, request, &response);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          absl::StrCat("power model: ", s.error_message()));
    }
    for (const auto& m : response.multipliers()) out.push_back(m);
    token = response.next_page_token();
  } while (!token.empty());
  return out;
}

absl::Status ResolveCandidates(const v1::SearchSpec& spec, EvaluatorPool& pool,
                               v1::PowerModel::Stub& power, ResolvedSpec* out) {
  std::vector<std::string> globs(spec.candidate_multipliers().begin(),
                                 spec.candidate_multipliers().end());
  globs.push_back("exact");
  absl::StatusOr<std::vector<v1::MultiplierInfo>> catalog = PowerCatalog(power, globs);
  if (!catalog.ok()) {
    // The power model names its filter's field; the user wrote the spec's.
    return catalog.status().code() == absl::StatusCode::kInvalidArgument
               ? Invalid("spec.candidate_multipliers", std::string(catalog.status().message()))
               : catalog.status();
  }
  const v1::MultiplierInfo* exact = nullptr;
  for (const auto& m : *catalog) {
    if (m.ref().id() == "exact") exact = &m;
  }
  if (exact == nullptr) {
    return absl::FailedPreconditionError("the power model's catalog has no `exact` multiplier");
  }
  std::vector<const v1::MultiplierInfo*> chosen = {exact};
  std::set<std::string> hashes = {exact->ref().content_hash()};
  for (int i = 0; i < spec.candidate_multipliers_size(); ++i) {
    const std::string& pattern = spec.candidate_multipliers(i);
    const std::string field = absl::StrCat("spec.candidate_multipliers[", i, "]");
    bool any = false;
    for (const auto& m : *catalog) {
      if (!Glob(pattern, m.ref().id())) continue;
      any = true;
      // One candidate per distinct table: equal tables compute the same thing.
      if (hashes.insert(m.ref().content_hash()).second) chosen.push_back(&m);
    }
    if (!any) {
      return Invalid(field, absl::StrCat("'", pattern,
                                         "' matches no multiplier of the power model's catalog "
                                         "(see `transaxx multipliers list`)"));
    }
  }
  v1::ListEvaluatorMultipliersRequest evaluator_request;
  for (const v1::MultiplierInfo* m : chosen) {
    evaluator_request.mutable_filter()->add_id_globs(m->ref().id());
  }
  auto evaluator_catalog = pool.ListMultipliers(evaluator_request);
  if (!evaluator_catalog.ok()) return evaluator_catalog.status();
  std::map<std::string, std::string> evaluator_hash;
  for (const auto& m : evaluator_catalog->multipliers()) {
    evaluator_hash[m.ref().id()] = m.ref().content_hash();
  }
  for (const v1::MultiplierInfo* m : chosen) {
    auto it = evaluator_hash.find(m->ref().id());
    if (it == evaluator_hash.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "multiplier '", m->ref().id(), "' is in the power model's catalog but not the "
          "evaluators'; give the evaluators the same --multipliers_dir"));
    }
    if (it->second != m->ref().content_hash()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "multiplier '", m->ref().id(), "' has another table on the evaluators (", it->second,
          ") than in the power model (", m->ref().content_hash(), ")"));
    }
    double relative = 1;
    if (m != exact) {
      if (!m->hardware().has_relative_power() &&
          m->hardware().provenance() == v1::FIGURE_PROVENANCE_UNKNOWN &&
          absl::StrContains(m->hardware().source(), "pending")) {
        // Transient: the power model is synthesizing it right now.
        return absl::UnavailableError(absl::StrCat(
            "multiplier '", m->ref().id(),
            "': the power model is estimating its power by synthesis; retry shortly"));
      }
      if (!m->hardware().has_relative_power()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "multiplier '", m->ref().id(),
            "' has no power figure in the power model's catalog; it cannot be costed"));
      }
      relative = m->hardware().relative_power();
    }
    out->candidates.push_back(m->ref());
    out->candidate_relative_power.push_back(relative);
  }
  return absl::OkStatus();
}

absl::Status ResolveLayers(const v1::SearchSpec& spec, const v1::DescribeModelResponse& model,
                           ResolvedSpec* out) {
  auto covered = [&](const v1::ApproximableLayer& l) {
    return spec.include_attention_matmuls() || l.kind() == v1::LAYER_KIND_LINEAR ||
           l.kind() == v1::LAYER_KIND_CONV2D;
  };
  std::vector<const v1::ApproximableLayer*> layers;
  for (const auto& l : model.layers()) {
    if (!covered(l)) continue;
    layers.push_back(&l);
    v1::LayerMacs macs;
    macs.set_name(l.name());
    macs.set_macs_per_image(l.macs_per_image());
    macs.set_kind(l.kind());
    out->covered_layers.push_back(macs);
  }
  std::set<std::string> searched;
  if (spec.layers().empty()) {
    for (const auto* l : layers) {
      if (!l->exact_by_default()) searched.insert(l->name());
    }
  } else {
    for (int i = 0; i < spec.layers_size(); ++i) {
      bool any = false;
      for (const auto* l : layers) {
        if (Glob(spec.layers(i), l->name())) {
          any = true;
          searched.insert(l->name());
        }
      }
      if (!any) {
        return Invalid(absl::StrCat("spec.layers[", i, "]"),
                       absl::StrCat("'", spec.layers(i), "' matches no approximable layer of '",
                                    model.model().ref().id(),
                                    "' (see `transaxx models describe`)"));
      }
    }
  }
  if (searched.empty()) return Invalid("spec.layers", "no layer left to search");
  std::map<std::string, int> group_of;
  for (int g = 0; g < spec.layer_groups_size(); ++g) {
    const v1::LayerGroup& group = spec.layer_groups(g);
    for (int j = 0; j < group.layers_size(); ++j) {
      const std::string field = absl::StrCat("spec.layer_groups[", g, "].layers[", j, "]");
      bool any = false;
      for (const std::string& name : searched) {
        if (!Glob(group.layers(j), name)) continue;
        any = true;
        auto [it, inserted] = group_of.emplace(name, g);
        if (!inserted && it->second != g) {
          return Invalid(field, absl::StrCat("layer '", name, "' is already in group '",
                                             spec.layer_groups(it->second).name(), "'"));
        }
      }
      if (!any) {
        return Invalid(field, absl::StrCat("'", group.layers(j), "' matches no searched layer"));
      }
    }
  }
  // Decisions in model order of their first layer.
  std::map<int, int> decision_of_group;
  int64_t total_macs = 0;
  for (const auto& l : out->covered_layers) total_macs += l.macs_per_image();
  std::vector<double> fraction;
  for (const auto* l : layers) {
    if (searched.count(l->name()) == 0) continue;
    out->searched_layers.push_back(l->name());
    auto g = group_of.find(l->name());
    int d;
    if (g == group_of.end()) {
      d = static_cast<int>(out->decisions.size());
      out->decisions.push_back({l->name(), {}});
      fraction.push_back(0);
    } else if (auto it = decision_of_group.find(g->second); it != decision_of_group.end()) {
      d = it->second;
    } else {
      d = static_cast<int>(out->decisions.size());
      decision_of_group[g->second] = d;
      out->decisions.push_back({spec.layer_groups(g->second).name(), {}});
      fraction.push_back(0);
    }
    out->decisions[d].layers.push_back(l->name());
    fraction[d] += total_macs > 0 ? static_cast<double>(l->macs_per_image()) / total_macs : 0;
  }
  out->space.mac_fraction = fraction;
  for (double w : fraction) {
    std::vector<double> row;
    for (double p : out->candidate_relative_power) row.push_back(w * (1 - p));
    row[0] = 0;
    out->space.saving.push_back(row);
  }
  return absl::OkStatus();
}

}  // namespace

int64_t SubsetSize(const v1::DatasetSubset& subset, int64_t split_size) {
  if (subset.has_range()) {
    return subset.range().limit() > 0 ? subset.range().limit()
                                      : split_size - subset.range().offset();
  }
  if (subset.has_stratified()) return subset.stratified().size();
  return split_size;
}

absl::Status CheckSpecFields(const v1::SearchSpec& spec) {
  if (spec.display_name().size() > 200) {
    return Invalid("spec.display_name", "longer than 200 characters");
  }
  if (spec.model().id().empty()) return Invalid("spec.model.id", "required");
  if (!spec.has_search_subset()) return Invalid("spec.search_subset", "required");
  if (absl::Status s = CheckSubsetFields(spec.search_subset(), "spec.search_subset"); !s.ok()) {
    return s;
  }
  if (spec.has_validation_subset()) {
    if (absl::Status s = CheckSubsetFields(spec.validation_subset(), "spec.validation_subset");
        !s.ok()) {
      return s;
    }
  }
  if (spec.calibration().has_subset()) {
    if (absl::Status s = CheckSubsetFields(spec.calibration().subset(), "spec.calibration.subset");
        !s.ok()) {
      return s;
    }
  }
  if (spec.sensitivity().has_subset()) {
    if (absl::Status s =
            CheckSubsetFields(spec.sensitivity().subset(), "spec.sensitivity.subset");
        !s.ok()) {
      return s;
    }
  }
  if (spec.sensitivity().max_evaluations() < 0) {
    return Invalid("spec.sensitivity.max_evaluations", "must be >= 0");
  }
  if (spec.batch_size() < 0) return Invalid("spec.batch_size", "must be >= 0");
  if (spec.max_parallel_evaluations() < 0) {
    return Invalid("spec.max_parallel_evaluations", "must be >= 0");
  }
  if (spec.candidate_multipliers().empty()) {
    return Invalid("spec.candidate_multipliers", "give at least one multiplier id or glob");
  }
  for (int i = 0; i < spec.candidate_multipliers_size(); ++i) {
    if (spec.candidate_multipliers(i).empty()) {
      return Invalid(absl::StrCat("spec.candidate_multipliers[", i, "]"), "empty");
    }
  }
  std::set<std::string> group_names;
  for (int g = 0; g < spec.layer_groups_size(); ++g) {
    const std::string field = absl::StrCat("spec.layer_groups[", g, "]");
    if (spec.layer_groups(g).name().empty()) return Invalid(field + ".name", "required");
    if (!group_names.insert(spec.layer_groups(g).name()).second) {
      return Invalid(field + ".name", absl::StrCat("'", spec.layer_groups(g).name(),
                                                  "' names another group too"));
    }
    if (spec.layer_groups(g).layers().empty()) return Invalid(field + ".layers", "empty");
  }
  if (spec.objective().has_max_accuracy_drop_pp() &&
      !(spec.objective().max_accuracy_drop_pp() >= 0)) {
    return Invalid("spec.objective.max_accuracy_drop_pp", "must be >= 0");
  }
  const v1::Budget& budget = spec.budget();
  if (budget.max_evaluations() < 0) return Invalid("spec.budget.max_evaluations", "must be >= 0");
  if (budget.max_wall_time().seconds() < 0 || budget.max_wall_time().nanos() < 0) {
    return Invalid("spec.budget.max_wall_time", "must be >= 0");
  }
  bool has_time = budget.max_wall_time().seconds() > 0 || budget.max_wall_time().nanos() > 0;
  if (budget.max_evaluations() == 0 && !has_time) {
    return Invalid("spec.budget",
                   "set max_evaluations or max_wall_time (> 0): a job needs a limit");
  }
  v1::Strategy strategy = spec.strategy();
  auto params_for = [](v1::SearchSpec::StrategyParamsCase c) {
    switch (c) {
      case v1::SearchSpec::kMcts: return v1::STRATEGY_MCTS;
      case v1::SearchSpec::kRandom: return v1::STRATEGY_RANDOM;
      case v1::SearchSpec::kGreedy: return v1::STRATEGY_GREEDY;
      case v1::SearchSpec::kNsga2: return v1::STRATEGY_NSGA2;
      default: return v1::STRATEGY_UNSPECIFIED;
    }
  };
  v1::Strategy effective = strategy == v1::STRATEGY_UNSPECIFIED ? v1::STRATEGY_MCTS : strategy;
  if (spec.strategy_params_case() != v1::SearchSpec::STRATEGY_PARAMS_NOT_SET &&
      params_for(spec.strategy_params_case()) != effective) {
    return Invalid("spec.strategy_params", absl::StrCat("parameters for another strategy than ",
                                                        v1::Strategy_Name(effective)));
  }
  const v1::MctsParams& m = spec.mcts();
  if (m.has_exploration_constant() && !(m.exploration_constant() >= 0)) {
    return Invalid("spec.mcts.exploration_constant", "must be >= 0");
  }
  if (m.max_parallel_leaves() < 0) return Invalid("spec.mcts.max_parallel_leaves", "must be >= 0");
  if (m.has_virtual_loss() && !(m.virtual_loss() >= 0)) {
    return Invalid("spec.mcts.virtual_loss", "must be >= 0");
  }
  if (m.rollouts_per_expansion() < 0) {
    return Invalid("spec.mcts.rollouts_per_expansion", "must be >= 0");
  }
  if (m.has_prior_weight() && !(m.prior_weight() >= 0)) {
    return Invalid("spec.mcts.prior_weight", "must be >= 0");
  }
  const v1::Nsga2Params& n = spec.nsga2();
  if (n.population_size() != 0 && n.population_size() < 4) {
    return Invalid("spec.nsga2.population_size", "must be >= 4 (or 0 for the default 32)");
  }
  if (n.has_crossover_probability() &&
      !(n.crossover_probability() >= 0 && n.crossover_probability() <= 1)) {
    return Invalid("spec.nsga2.crossover_probability", "must be in [0, 1]");
  }
  if (n.has_mutation_probability() &&
      !(n.mutation_probability() >= 0 && n.mutation_probability() <= 1)) {
    return Invalid("spec.nsga2.mutation_probability", "must be in [0, 1]");
  }
  if (!v1::Strategy_IsValid(strategy)) return Invalid("spec.strategy", "unknown strategy");
  if (!v1::JobKind_IsValid(spec.kind())) return Invalid("spec.kind", "unknown kind");
  return absl::OkStatus();
}

absl::StatusOr<ResolvedSpec> ResolveSpec(const v1::SearchSpec& spec, EvaluatorPool& pool,
                                         v1::PowerModel::Stub& power) {
  if (absl::Status s = CheckSpecFields(spec); !s.ok()) return s;
  ResolvedSpec out;
  v1::DescribeModelRequest describe;
  *describe.mutable_model() = spec.model();
  absl::StatusOr<v1::DescribeModelResponse> model = pool.DescribeModel(describe);
  if (!model.ok()) return Named(model.status(), "spec.model.id");
  out.model = model->model().ref();

  absl::StatusOr<v1::ListDatasetsResponse> datasets = pool.ListDatasets();
  if (!datasets.ok()) return datasets.status();
  out.search_subset = spec.search_subset();
  int64_t search_size = 0;
  if (absl::Status s =
          ResolveSubset(*datasets, &out.search_subset, "spec.search_subset", &search_size);
      !s.ok()) {
    return s;
  }
  if (spec.has_validation_subset()) {
    out.has_validation = true;
    out.validation_subset = spec.validation_subset();
    if (absl::Status s = ResolveSubset(*datasets, &out.validation_subset,
                                       "spec.validation_subset", nullptr);
        !s.ok()) {
      return s;
    }
  }
  out.calibration = spec.calibration();
  if (out.calibration.has_subset()) {
    if (absl::Status s = ResolveSubset(*datasets, out.calibration.mutable_subset(),
                                       "spec.calibration.subset", nullptr);
        !s.ok()) {
      return s;
    }
  }
  if (spec.sensitivity().has_subset()) {
    out.sensitivity_subset = spec.sensitivity().subset();
    if (absl::Status s = ResolveSubset(*datasets, &out.sensitivity_subset,
                                       "spec.sensitivity.subset", nullptr);
        !s.ok()) {
      return s;
    }
  } else if (search_size <= 512) {
    out.sensitivity_subset = out.search_subset;
  } else {
    out.sensitivity_subset.mutable_dataset()->CopyFrom(out.search_subset.dataset());
    out.sensitivity_subset.set_split(out.search_subset.split());
    out.sensitivity_subset.mutable_stratified()->set_size(512);
    out.sensitivity_subset.mutable_stratified()->set_seed(spec.seed());
  }

  if (absl::Status s = ResolveCandidates(spec, pool, power, &out); !s.ok()) return s;
  if (absl::Status s = ResolveLayers(spec, *model, &out); !s.ok()) return s;
  if (spec.strategy() == v1::STRATEGY_EXHAUSTIVE && spec.budget().max_evaluations() > 0 &&
      out.space.size() > static_cast<double>(spec.budget().max_evaluations())) {
    return Invalid("spec.budget.max_evaluations",
                   absl::StrCat("EXHAUSTIVE needs the whole space of ", out.space.size(),
                                " configurations; raise the budget or use another strategy"));
  }
  return out;
}

v1::Configuration ConfigurationOf(const ResolvedSpec& resolved,
                                  const search::Assignment& assignment) {
  std::map<std::string, int> choice;
  for (size_t d = 0; d < resolved.decisions.size(); ++d) {
    for (const std::string& layer : resolved.decisions[d].layers) choice[layer] = assignment[d];
  }
  v1::Configuration config;
  for (const v1::LayerMacs& l : resolved.covered_layers) {
    v1::LayerAssignment* a = config.add_assignments();
    a->set_layer(l.name());
    auto it = choice.find(l.name());
    *a->mutable_multiplier() = resolved.candidates[it == choice.end() ? 0 : it->second];
  }
  return config;
}

search::StrategyOptions StrategyOptionsOf(const v1::SearchSpec& spec) {
  search::StrategyOptions o;
  switch (spec.strategy()) {
    case v1::STRATEGY_RANDOM: o.kind = search::StrategyKind::kRandom; break;
    case v1::STRATEGY_GREEDY: o.kind = search::StrategyKind::kGreedy; break;
    case v1::STRATEGY_NSGA2: o.kind = search::StrategyKind::kNsga2; break;
    case v1::STRATEGY_EXHAUSTIVE: o.kind = search::StrategyKind::kExhaustive; break;
    default: o.kind = search::StrategyKind::kMcts; break;
  }
  o.seed = spec.seed();
  o.max_accuracy_drop_pp =
      spec.objective().has_max_accuracy_drop_pp() ? spec.objective().max_accuracy_drop_pp() : 1.0;
  const v1::MctsParams& m = spec.mcts();
  if (m.has_exploration_constant()) o.mcts.exploration_constant = m.exploration_constant();
  o.mcts.use_virtual_loss = m.parallel_selection() == v1::PARALLEL_SELECTION_VIRTUAL_LOSS;
  if (m.has_virtual_loss()) o.mcts.virtual_loss = m.virtual_loss();
  o.mcts.rollouts_per_expansion = std::max(1, m.rollouts_per_expansion());
  if (m.has_prior_weight()) o.mcts.prior_weight = m.prior_weight();
  const v1::Nsga2Params& n = spec.nsga2();
  if (n.population_size() > 0) o.nsga2.population_size = n.population_size();
  if (n.has_crossover_probability()) o.nsga2.crossover_probability = n.crossover_probability();
  if (n.has_mutation_probability()) o.nsga2.mutation_probability = n.mutation_probability();
  return o;
}

}  // namespace transaxx::coordinator
