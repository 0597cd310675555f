// One approximable operation of a model (a Linear, the patch Conv2d or an
// attention matmul, see approximable_layers.h) and how it currently runs:
// in float32 (the default), or quantized to int8 with a multiplier and
// calibrated activation ranges (libs/approx/torch/approx_ops.h). While
// recording, it also adds the absolute values of its activation operands to
// histograms, from which calibration chooses the ranges.
//
// Thread-safety: not thread-safe; a model instance (and so its sites) serves
// one forward pass at a time.
#ifndef TRANSAXX_LIBS_NN_APPROX_SITE_H_
#define TRANSAXX_LIBS_NN_APPROX_SITE_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libs/approx/calibration.h"
#include "libs/approx/config_power.h"
#include "libs/approx/multiplier.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/approx/torch/table_gradient.h"

namespace transaxx::nn {

// How a site runs when quantized.
struct SiteQuantization {
  approx::Multiplier multiplier;
  // Clipping range of each activation operand: one for Linear and Conv2d
  // (the input), two for a matmul (both factors).
  std::vector<float> activation_amax;
  approx::WeightQuantization weight_quantization = approx::WeightQuantization::kPerChannel;
  // The multiplier's table-aware gradient (table_gradient.h); null:
  // straight-through.
  std::shared_ptr<const approx::TableGradient> gradient;
};

class ApproxSite {
 public:
  ApproxSite(std::string name, approx::LayerKind kind) : name_(std::move(name)), kind_(kind) {}

  const std::string& name() const { return name_; }
  approx::LayerKind kind() const { return kind_; }
  // Activation operands: 2 for attention matmuls, else 1.
  int num_activation_operands() const;

  // nullopt: float32. REQUIRES: quantization->activation_amax has
  // num_activation_operands() entries, each finite and >= 0.
  void set_quantization(std::optional<SiteQuantization> quantization);
  const std::optional<SiteQuantization>& quantization() const { return quantization_; }

  // Starts recording into fresh histograms of AbsHistogram::Create(bins),
  // one per activation operand, or stops (nullopt). REQUIRES: bins valid.
  void set_recording(std::optional<int> bins);
  // The histograms recorded so far; empty when not recording.
  const std::vector<approx::AbsHistogram>& histograms() const { return histograms_; }

  // The operation, in float or quantized as configured. Recording happens
  // first, on the float operands. Throws c10::Error on bad operands (and on
  // non-finite activations while recording).
  at::Tensor Linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);
  at::Tensor Conv2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                    int64_t stride);
  at::Tensor Matmul(const at::Tensor& a, const at::Tensor& b);

 private:
  void Record(int operand, const at::Tensor& x);

  std::string name_;
  approx::LayerKind kind_;
  std::optional<SiteQuantization> quantization_;
  std::vector<approx::AbsHistogram> histograms_;
};

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_APPROX_SITE_H_
