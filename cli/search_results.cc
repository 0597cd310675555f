#include "cli/search_results.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/search_spec_flags.h"
#include "cli/text_table.h"

namespace transaxx::cli {

std::vector<const v1::SearchPoint*> SortedFront(const v1::GetResultsResponse& r) {
  std::vector<const v1::SearchPoint*> front;
  for (const v1::SearchPoint& p : r.pareto_front()) front.push_back(&p);
  std::stable_sort(front.begin(), front.end(), [](const auto* a, const auto* b) {
    return a->power().relative_power() < b->power().relative_power();
  });
  return front;
}

namespace {

using nlohmann::json;

std::string Pct(double fraction, int decimals = 2) {
  return absl::StrFormat("%.*f%%", decimals, 100 * fraction);
}

// "[80.9, 87.3]": the 95% interval of top-1 in percent; "" when unknown.
std::string Interval(const v1::Accuracy& a) {
  if (!a.has_top1_interval()) return "";
  return absl::StrFormat("[%.1f, %.1f]", 100 * a.top1_interval().low(),
                         100 * a.top1_interval().high());
}

// "84.38% [80.9, 87.3] on 32 images".
std::string AccuracyText(const v1::Accuracy& a) {
  return absl::StrCat(Pct(a.top1()), " ", Interval(a), " on ", a.sample_count(), " images");
}

// The layers of the job in model order: the baseline's covered layers, else
// those of the first point.
std::vector<std::string> LayerOrder(const v1::GetResultsResponse& r) {
  const v1::Configuration* c = &r.baseline().configuration();
  if (c->assignments().empty() && !r.pareto_front().empty()) {
    c = &r.pareto_front(0).configuration();
  }
  std::vector<std::string> layers;
  for (const v1::LayerAssignment& a : c->assignments()) layers.push_back(a.layer());
  return layers;
}

std::map<std::string, std::string> Assignment(const v1::Configuration& c) {
  std::map<std::string, std::string> out;
  for (const v1::LayerAssignment& a : c.assignments()) out[a.layer()] = a.multiplier().id();
  return out;
}

// The multiplier of `layer` in `assignment` (the default for unlisted ones).
std::string MultiplierOf(const std::map<std::string, std::string>& assignment,
                         const v1::Configuration& c, const std::string& layer) {
  auto it = assignment.find(layer);
  return it != assignment.end() ? it->second : c.default_multiplier().id();
}

json AccuracyJson(const v1::Accuracy& a) {
  json j = {{"top1", a.top1()}, {"top5", a.top5()}, {"samples", a.sample_count()}};
  if (a.has_top1_interval()) j["top1_ci95"] = {a.top1_interval().low(), a.top1_interval().high()};
  return j;
}

json PointJson(const v1::SearchPoint& p) {
  json j = {{"config_hash", p.config_hash()},
            {"relative_power", p.power().relative_power()},
            {"power_saving", 1 - p.power().relative_power()},
            {"top1", p.accuracy().top1()},
            {"top5", p.accuracy().top5()},
            {"samples", p.accuracy().sample_count()},
            {"drop_pp", p.accuracy_drop_pp()},
            {"feasible", p.feasible()},
            {"on_front", p.on_front()},
            {"evaluation_index", p.evaluation_index()},
            {"cached", p.cached()}};
  if (p.accuracy().has_top1_interval()) {
    j["top1_ci95"] = {p.accuracy().top1_interval().low(), p.accuracy().top1_interval().high()};
  }
  if (p.has_validation_accuracy()) {
    j["validation_top1"] = p.validation_accuracy().top1();
    j["validation_samples"] = p.validation_accuracy().sample_count();
  }
  if (p.has_validation_accuracy_drop_pp())
    j["validation_drop_pp"] = p.validation_accuracy_drop_pp();
  if (p.power().has_power_mw()) j["power_mw"] = p.power().power_mw();
  if (p.power().has_energy_pj_per_inference()) {
    j["energy_pj_per_inference"] = p.power().energy_pj_per_inference();
  }
  json assignment = json::object();
  for (const v1::LayerAssignment& a : p.configuration().assignments()) {
    assignment[a.layer()] = a.multiplier().id();
  }
  j["assignment"] = assignment;
  return j;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// The front table: one row per front point, by relative power.
std::string FrontTable(const v1::GetResultsResponse& r) {
  bool validation = false;
  for (const v1::SearchPoint& p : r.pareto_front()) validation |= p.has_validation_accuracy();
  std::vector<std::string> header = {"#", "REL POWER", "SAVING", "TOP-1", "95% CI", "DROP pp"};
  if (validation) header.insert(header.end(), {"VAL TOP-1", "VAL DROP pp"});
  header.insert(header.end(), {"FEASIBLE", "NOTE"});
  TextTable table(header);
  const std::vector<const v1::SearchPoint*> front = SortedFront(r);
  for (size_t i = 0; i < front.size(); ++i) {
    const v1::SearchPoint& p = *front[i];
    std::vector<std::string> row = {absl::StrCat(i + 1),
                                    absl::StrFormat("%.4f", p.power().relative_power()),
                                    Pct(1 - p.power().relative_power(), 1),
                                    Pct(p.accuracy().top1()),
                                    Interval(p.accuracy()),
                                    absl::StrFormat("%.2f", p.accuracy_drop_pp())};
    if (validation) {
      row.push_back(p.has_validation_accuracy() ? Pct(p.validation_accuracy().top1()) : "");
      row.push_back(p.has_validation_accuracy_drop_pp()
                        ? absl::StrFormat("%.2f", p.validation_accuracy_drop_pp())
                        : "");
    }
    std::string note;
    if (p.config_hash() == r.baseline().config_hash()) note = "all exact";
    if (r.has_best_within_threshold() &&
        p.config_hash() == r.best_within_threshold().config_hash()) {
      note = note.empty() ? "best" : note + ", best";
    }
    row.insert(row.end(), {p.feasible() ? "yes" : "no", note});
    table.AddRow(row);
  }
  return table.Render();
}

// Every evaluated point in evaluation order.
std::string PointsTable(const v1::GetResultsResponse& r) {
  TextTable table({"EVAL", "REL POWER", "TOP-1", "DROP pp", "FRONT", "FEASIBLE", "CACHED", "HASH"});
  for (const v1::SearchPoint& p : r.points()) {
    table.AddRow({absl::StrCat(p.evaluation_index()),
                  absl::StrFormat("%.4f", p.power().relative_power()), Pct(p.accuracy().top1()),
                  absl::StrFormat("%.2f", p.accuracy_drop_pp()), p.on_front() ? "yes" : "",
                  p.feasible() ? "yes" : "no", p.cached() ? "yes" : "",
                  p.config_hash().substr(0, 12)});
  }
  return table.Render();
}

// Rows: layers (or groups) in model order; columns: multipliers; cells: drop pp.
std::string SensitivityMatrix(const v1::SensitivityTable& t) {
  std::vector<std::string> rows, columns;
  std::map<std::pair<std::string, std::string>, double> drop;
  for (const v1::SensitivityEntry& e : t.entries()) {
    if (std::find(rows.begin(), rows.end(), e.layer()) == rows.end()) rows.push_back(e.layer());
    if (std::find(columns.begin(), columns.end(), e.multiplier().id()) == columns.end()) {
      columns.push_back(e.multiplier().id());
    }
    drop[{e.layer(), e.multiplier().id()}] = e.accuracy_drop_pp();
  }
  std::vector<std::string> header = {"LAYER"};
  header.insert(header.end(), columns.begin(), columns.end());
  TextTable table(header);
  for (const std::string& layer : rows) {
    std::vector<std::string> row = {layer};
    for (const std::string& m : columns) {
      auto it = drop.find({layer, m});
      row.push_back(it == drop.end() ? "-" : absl::StrFormat("%.2f", it->second));
    }
    table.AddRow(row);
  }
  return absl::StrCat("sensitivity: top-1 drop in pp with only that layer approximated, on ",
                      t.baseline_accuracy().sample_count(), " images (",
                      t.complete() ? "complete" : "partial: cut short by its bound or the budget",
                      "):\n", table.Render());
}

double ThresholdTop1(const v1::GetResultsResponse& r) {
  return r.baseline().accuracy().top1() - r.max_accuracy_drop_pp() / 100;
}

}  // namespace

std::string StateName(v1::JobState s) {
  const std::string name = v1::JobState_Name(s);
  return name.rfind("JOB_STATE_", 0) == 0 ? name.substr(10) : name;
}

std::string PointLine(const v1::SearchPoint& p) {
  std::string line =
      absl::StrFormat("relative power %.4f (saving %.1f%%), top-1 %s %s (drop %.2f pp)",
                      p.power().relative_power(), 100 * (1 - p.power().relative_power()),
                      Pct(p.accuracy().top1()), Interval(p.accuracy()), p.accuracy_drop_pp());
  if (p.has_validation_accuracy()) {
    absl::StrAppend(&line, ", validation ", Pct(p.validation_accuracy().top1()));
    if (p.has_validation_accuracy_drop_pp()) {
      absl::StrAppend(&line, absl::StrFormat(" (drop %.2f pp)", p.validation_accuracy_drop_pp()));
    }
  }
  return absl::StrCat(line, p.feasible() ? ", feasible" : ", infeasible");
}

std::string ResultsTable(const v1::GetResultsResponse& r, bool all) {
  std::string out =
      absl::StrFormat("job %s %s: %d evaluated points, Pareto front of %d\n\n", r.job_id(),
                      StateName(r.state()), r.total_points(), r.pareto_front_size());
  if (r.pareto_front().empty() && r.sensitivity().entries().empty()) {
    return out + "no results yet; watch it with: transaxx search watch " + r.job_id() + "\n";
  }
  if (!r.pareto_front().empty()) absl::StrAppend(&out, FrontTable(r), "\n");
  const v1::BaselineResult& b = r.baseline();
  if (b.has_accuracy()) {
    absl::StrAppend(&out, "baseline (", BaselineName(b.kind()), "):  top-1 ",
                    AccuracyText(b.accuracy()));
    if (b.has_validation_accuracy()) {
      absl::StrAppend(&out, "; validation ", AccuracyText(b.validation_accuracy()));
    }
    absl::StrAppend(&out, "\n",
                    absl::StrFormat("threshold:        drop <= %.2f pp (top-1 >= %s)\n",
                                    r.max_accuracy_drop_pp(), Pct(ThresholdTop1(r))));
  }
  if (r.has_best_within_threshold()) {
    const v1::SearchPoint& best = r.best_within_threshold();
    absl::StrAppend(&out, "best within threshold: ", PointLine(best), "\n  config hash ",
                    best.config_hash(), "\n");
    TextTable layers({"LAYER", "MULTIPLIER"});
    const std::map<std::string, std::string> assignment = Assignment(best.configuration());
    for (const std::string& layer : LayerOrder(r)) {
      layers.AddRow({layer, MultiplierOf(assignment, best.configuration(), layer)});
    }
    absl::StrAppend(&out, layers.Render());
  } else if (!r.pareto_front().empty()) {
    const bool final = r.state() == v1::JOB_STATE_SUCCEEDED || r.state() == v1::JOB_STATE_FAILED ||
                       r.state() == v1::JOB_STATE_CANCELLED;
    absl::StrAppend(
        &out, "no configuration within the threshold", final ? "" : " yet",
        r.baseline().has_validation_accuracy() ? " (judged on the validation drop)" : "", "\n");
  }
  if (!r.sensitivity().entries().empty()) {
    absl::StrAppend(&out, "\n", SensitivityMatrix(r.sensitivity()));
  }
  if (all) absl::StrAppend(&out, "\nall evaluated points:\n", PointsTable(r));
  return out;
}

json ResultsJson(const v1::GetResultsResponse& r, bool all) {
  const v1::BaselineResult& b = r.baseline();
  json baseline = {{"kind", BaselineName(b.kind())},
                   {"config_hash", b.config_hash()},
                   {"relative_power", b.power().relative_power()},
                   {"accuracy", AccuracyJson(b.accuracy())}};
  if (b.has_validation_accuracy())
    baseline["validation_accuracy"] = AccuracyJson(b.validation_accuracy());
  json out = {{"job_id", r.job_id()},
              {"state", StateName(r.state())},
              {"max_accuracy_drop_pp", r.max_accuracy_drop_pp()},
              {"threshold_top1", ThresholdTop1(r)},
              {"baseline", baseline},
              {"total_points", r.total_points()},
              {"front", json::array()},
              {"best", nullptr}};
  for (const v1::SearchPoint& p : r.pareto_front()) out["front"].push_back(PointJson(p));
  if (r.has_best_within_threshold()) out["best"] = PointJson(r.best_within_threshold());
  if (!r.sensitivity().entries().empty()) {
    json entries = json::array();
    for (const v1::SensitivityEntry& e : r.sensitivity().entries()) {
      entries.push_back({{"layer", e.layer()},
                         {"multiplier", e.multiplier().id()},
                         {"top1", e.accuracy().top1()},
                         {"drop_pp", e.accuracy_drop_pp()},
                         {"relative_power", e.relative_power()},
                         {"config_hash", e.config_hash()}});
    }
    out["sensitivity"] = {{"complete", r.sensitivity().complete()},
                          {"baseline_top1", r.sensitivity().baseline_accuracy().top1()},
                          {"samples", r.sensitivity().baseline_accuracy().sample_count()},
                          {"entries", entries}};
  }
  if (all) {
    out["points"] = json::array();
    for (const v1::SearchPoint& p : r.points()) out["points"].push_back(PointJson(p));
  }
  return out;
}

std::string ResultsCsv(const v1::GetResultsResponse& r, bool all) {
  const std::vector<std::string> layers = LayerOrder(r);
  std::string out =
      "config_hash,relative_power,top1,drop_pp,validation_top1,validation_drop_pp,"
      "on_front,feasible";
  for (const std::string& l : layers) absl::StrAppend(&out, ",", CsvCell(l));
  out += "\n";
  for (const v1::SearchPoint& p : all ? r.points() : r.pareto_front()) {
    absl::StrAppend(
        &out, p.config_hash(), ",", absl::StrFormat("%.6f", p.power().relative_power()), ",",
        absl::StrFormat("%.6f", p.accuracy().top1()), ",",
        absl::StrFormat("%.4f", p.accuracy_drop_pp()), ",",
        p.has_validation_accuracy() ? absl::StrFormat("%.6f", p.validation_accuracy().top1()) : "",
        ",",
        p.has_validation_accuracy_drop_pp()
            ? absl::StrFormat("%.4f", p.validation_accuracy_drop_pp())
            : "",
        ",", p.on_front() ? "true" : "false", ",", p.feasible() ? "true" : "false");
    const std::map<std::string, std::string> assignment = Assignment(p.configuration());
    for (const std::string& l : layers) {
      absl::StrAppend(&out, ",", CsvCell(MultiplierOf(assignment, p.configuration(), l)));
    }
    out += "\n";
  }
  return out;
}

ParetoPlot PlotOf(const v1::GetResultsResponse& r, const std::string& subtitle) {
  ParetoPlot plot;
  plot.subtitle = subtitle;
  auto xy = [](const v1::SearchPoint& p) {
    return PlotPoint{p.power().relative_power(), 100 * p.accuracy().top1()};
  };
  for (const v1::SearchPoint& p : r.points()) plot.points.push_back(xy(p));
  for (const v1::SearchPoint& p : r.pareto_front()) plot.front.push_back(xy(p));
  if (r.baseline().has_accuracy()) {
    plot.baseline =
        PlotPoint{r.baseline().power().relative_power(), 100 * r.baseline().accuracy().top1()};
    if (plot.baseline->relative_power <= 0) plot.baseline->relative_power = 1;
    plot.baseline_label = absl::StrCat("baseline (", BaselineName(r.baseline().kind()), ")");
    plot.threshold_pct = 100 * ThresholdTop1(r);
    plot.threshold_label = absl::StrFormat("threshold: top-1 \u2265 %.2f%%", *plot.threshold_pct);
  }
  if (r.has_best_within_threshold()) plot.best = xy(r.best_within_threshold());
  return plot;
}

}  // namespace transaxx::cli
