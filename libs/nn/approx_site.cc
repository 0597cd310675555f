#include "libs/nn/approx_site.h"

#include <ATen/ATen.h>

#include <span>

namespace transaxx::nn {

int ApproxSite::num_activation_operands() const {
  return kind_ == approx::LayerKind::kAttentionQk || kind_ == approx::LayerKind::kAttentionAv ? 2
                                                                                              : 1;
}

void ApproxSite::set_quantization(std::optional<SiteQuantization> quantization) {
  TORCH_CHECK(!quantization ||
                  static_cast<int>(quantization->activation_amax.size()) ==
                      num_activation_operands(),
              "layer ", name_, " needs ", num_activation_operands(), " activation ranges");
  quantization_ = std::move(quantization);
}

void ApproxSite::set_recording(std::optional<int> bins) {
  histograms_.clear();
  if (!bins) return;
  for (int i = 0; i < num_activation_operands(); ++i) {
    absl::StatusOr<approx::AbsHistogram> h = approx::AbsHistogram::Create(*bins);
    TORCH_CHECK(h.ok(), h.status().ToString());
    histograms_.push_back(*std::move(h));
  }
}

void ApproxSite::Record(int operand, const at::Tensor& x) {
  if (histograms_.empty()) return;
  const at::Tensor values = x.detach().to(at::kCPU, at::kFloat).contiguous();
  const absl::Status s = histograms_[operand].Add(
      std::span<const float>(values.data_ptr<float>(), static_cast<size_t>(values.numel())));
  TORCH_CHECK(s.ok(), "calibrating layer ", name_, ": ", s.ToString());
}

at::Tensor ApproxSite::Linear(const at::Tensor& x, const at::Tensor& weight,
                              const at::Tensor& bias) {
  Record(0, x);
  if (!quantization_) return at::linear(x, weight, bias);
  return approx::ApproxLinear(x, weight, bias, quantization_->multiplier,
                              quantization_->activation_amax[0],
                              quantization_->weight_quantization, quantization_->gradient.get());
}

at::Tensor ApproxSite::Conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              int64_t stride) {
  Record(0, x);
  if (!quantization_) return at::conv2d(x, weight, bias, {stride, stride});
  return approx::ApproxConv2d(x, weight, bias, quantization_->multiplier,
                              quantization_->activation_amax[0],
                              quantization_->weight_quantization, {stride, stride}, {0, 0},
                              quantization_->gradient.get());
}

at::Tensor ApproxSite::Matmul(const at::Tensor& a, const at::Tensor& b) {
  Record(0, a);
  Record(1, b);
  if (!quantization_) return at::matmul(a, b);
  return approx::ApproxMatmul(a, b, quantization_->multiplier, quantization_->activation_amax[0],
                              quantization_->activation_amax[1], quantization_->gradient.get());
}

}  // namespace transaxx::nn
