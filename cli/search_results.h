// How `transaxx search results` presents a job's results (a
// GetResultsResponse, proto/transaxx/v1/search.proto): a readable table of
// the Pareto front with the baseline and the best configuration within the
// threshold, a JSON document, CSV rows (one per point, one column per
// layer), and the data of the accuracy-vs-power plot.
//
// Thread-safety: plain functions of their arguments.
#ifndef TRANSAXX_CLI_SEARCH_RESULTS_H_
#define TRANSAXX_CLI_SEARCH_RESULTS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/pareto_plot.h"
#include "transaxx/v1/search.pb.h"

namespace transaxx::cli {

// The front points by relative power, ascending: the order (1-based) in
// which the front table numbers them and `finetune --point` picks them.
std::vector<const v1::SearchPoint*> SortedFront(const v1::GetResultsResponse& r);

// The front by relative power (point #, relative power, saving, top-1 with
// its 95% interval, drop, validation top-1/drop when present, feasible
// mark), then the baseline, the threshold, the best configuration within it
// with its per-layer assignment, and the sensitivity table when the job ran
// one. With `all`, every evaluated point too (r.points, in evaluation order).
std::string ResultsTable(const v1::GetResultsResponse& r, bool all);

// {"job_id", "state", "max_accuracy_drop_pp", "threshold_top1", "baseline",
//  "front": [point...], "best": point|null, "sensitivity", "total_points",
//  and with `all` "points": [point...]}; a point carries config_hash,
// relative_power, power_saving, top1, top5, samples, top1_ci95, drop_pp,
// validation_top1 / validation_drop_pp when set, feasible, on_front,
// evaluation_index, cached, power_mw / energy_pj_per_inference when known,
// and "assignment": {layer: multiplier id}.
nlohmann::json ResultsJson(const v1::GetResultsResponse& r, bool all);

// Header "config_hash,relative_power,top1,drop_pp,validation_top1,
// validation_drop_pp,on_front,feasible,LAYER..." (layers in the baseline's
// order), then one row per front point, or per evaluated point with `all`.
// Accuracies are fractions; empty cells for values not set.
std::string ResultsCsv(const v1::GetResultsResponse& r, bool all);

// The plot of r.points (fetched with include_all_points), the front, the
// baseline and the threshold; `subtitle` names the job.
ParetoPlot PlotOf(const v1::GetResultsResponse& r, const std::string& subtitle);

// One line about a point: "relative power 0.7312 (saving 26.9%), top-1
// 84.38% [80.9, 87.3] (drop 0.62 pp), feasible".
std::string PointLine(const v1::SearchPoint& p);

// "SUCCEEDED" for JOB_STATE_SUCCEEDED.
std::string StateName(v1::JobState s);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_SEARCH_RESULTS_H_
