#include "libs/nn/evaluate.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "libs/nn/image_batch.h"

namespace transaxx::nn {

Interval Wilson95(int64_t successes, int64_t n) {
  if (n <= 0) return {0.0, 1.0};
  constexpr double z = 1.959964;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double denominator = 1 + z * z / nn;
  const double center = (p + z * z / (2 * nn)) / denominator;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denominator;
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

nlohmann::json EvalResultToJson(const EvalResult& r) {
  return {{"top1", r.top1},
          {"top5", r.top5},
          {"n", r.n},
          {"ci95", {r.top1_ci95.low, r.top1_ci95.high}},
          {"mean_loss", r.mean_loss},
          {"seconds", r.seconds},
          {"images_per_second", r.images_per_second}};
}

absl::StatusOr<EvalResult> Evaluate(LoadedModel& model, const data::ImageSet& images,
                                    std::span<const int64_t> indices, const EvalRun& run) {
  if (indices.empty()) return absl::InvalidArgumentError("evaluation needs at least one image");
  if (run.batch_size < 1) return absl::InvalidArgumentError("evaluation batch size must be >= 1");
  if (absl::Status s = CheckImagesFitModel(images, model.description); !s.ok()) return s;
  const auto start = std::chrono::steady_clock::now();
  EvalResult result;
  double loss_sum = 0;
  const int64_t k = std::min<int64_t>(5, model.description.architecture.num_classes);
  const at::Device device = ModelDevice(model);
  try {
    torch::NoGradGuard no_grad;
    for (size_t begin = 0; begin < indices.size(); begin += static_cast<size_t>(run.batch_size)) {
      if (run.cancelled && run.cancelled()) return absl::CancelledError("evaluation cancelled");
      const auto batch = indices.subspan(
          begin, std::min(indices.size() - begin, static_cast<size_t>(run.batch_size)));
      const at::Tensor logits =
          model.module->forward(ImageBatch(images, batch, model.description).to(device));
      const at::Tensor labels = LabelBatch(images, batch).to(device);
      loss_sum += at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
      const at::Tensor topk = std::get<1>(logits.topk(k, 1));
      const at::Tensor hits = topk.eq(labels.unsqueeze(1));
      result.top1_correct += hits.select(1, 0).sum().item<int64_t>();
      result.top5_correct += hits.any(1).sum().item<int64_t>();
      result.n += static_cast<int64_t>(batch.size());
      if (run.progress) run.progress(result.n, static_cast<int64_t>(indices.size()));
    }
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(e.what_without_backtrace());
  }
  result.top1 = static_cast<double>(result.top1_correct) / static_cast<double>(result.n);
  result.top5 = static_cast<double>(result.top5_correct) / static_cast<double>(result.n);
  result.top1_ci95 = Wilson95(result.top1_correct, result.n);
  result.mean_loss = loss_sum / static_cast<double>(result.n);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.images_per_second = result.seconds > 0 ? result.n / result.seconds : 0;
  return result;
}

}  // namespace transaxx::nn
