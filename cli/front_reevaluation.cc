#include "cli/front_reevaluation.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/remote.h"
#include "cli/search_results.h"
#include "cli/text_table.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::cli {

absl::StatusOr<FrontReevaluation> ReevaluateFront(const v1::GetResultsResponse& results,
                                                  const v1::SearchSpec& spec,
                                                  const std::string& model,
                                                  const rpc::ClientChannel& channel,
                                                  const std::string& address) {
  const bool validation = spec.has_validation_subset();
  const v1::DatasetSubset& subset = validation ? spec.validation_subset() : spec.search_subset();
  auto stub = v1::Evaluator::NewStub(channel.channel());
  FrontReevaluation out;
  out.model = model;
  for (const v1::SearchPoint* p : SortedFront(results)) {
    v1::EvaluateRequest request;
    request.mutable_model()->set_id(model);
    *request.mutable_subset() = subset;
    *request.mutable_configuration() = p->configuration();
    request.set_include_attention_matmuls(spec.include_attention_matmuls());
    if (spec.has_calibration()) *request.mutable_calibration() = spec.calibration();
    request.set_batch_size(spec.batch_size());
    v1::EvaluateResponse response;
    // An evaluation of a large subset takes minutes.
    auto context = channel.NewCall(absl::Hours(24));
    if (absl::Status s = FromGrpcAt(stub->Evaluate(context.get(), request, &response), address,
                                    "evaluator");
        !s.ok()) {
      return s;
    }
    out.model_hash = response.model().content_hash();
    out.images = absl::StrCat(subset.dataset().id(), ":", subset.split(), ", ",
                              response.accuracy().sample_count(), " images");
    out.points.push_back(
        {p, validation ? p->validation_accuracy() : p->accuracy(), response.accuracy()});
  }
  return out;
}

std::string ReevaluationTable(const FrontReevaluation& r) {
  TextTable table({"#", "REL POWER", "TOP-1 (JOB)", absl::StrCat("TOP-1 (", r.model, ")"),
                   "CHANGE pp"});
  for (size_t i = 0; i < r.points.size(); ++i) {
    const ReevaluatedPoint& p = r.points[i];
    table.AddRow({absl::StrCat(i + 1), absl::StrFormat("%.4f", p.point->power().relative_power()),
                  absl::StrFormat("%.2f%%", 100 * p.job_accuracy.top1()),
                  absl::StrFormat("%.2f%%", 100 * p.accuracy.top1()),
                  absl::StrFormat("%+.2f", 100 * (p.accuracy.top1() - p.job_accuracy.top1()))});
  }
  return absl::StrCat("front re-evaluated on ", r.model, " (", r.model_hash.substr(0, 12), "), ",
                      r.images, ":\n", table.Render());
}

nlohmann::json ReevaluationJson(const FrontReevaluation& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const ReevaluatedPoint& p : r.points) {
    points.push_back({{"config_hash", p.point->config_hash()},
                      {"relative_power", p.point->power().relative_power()},
                      {"job_top1", p.job_accuracy.top1()},
                      {"top1", p.accuracy.top1()},
                      {"change_pp", 100 * (p.accuracy.top1() - p.job_accuracy.top1())}});
  }
  return {{"model", r.model}, {"model_hash", r.model_hash}, {"images", r.images},
          {"points", points}};
}

}  // namespace transaxx::cli
