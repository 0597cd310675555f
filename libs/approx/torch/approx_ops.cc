#include "libs/approx/torch/approx_ops.h"

#include <ATen/ATen.h>
#include <ATen/ExpandUtils.h>
#include <ATen/Parallel.h>
#include <c10/util/accumulate.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "libs/approx/cpu/table_gemm.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/structure_cache.h"
#include "libs/approx/torch/structured_gemm.h"
#include "libs/approx/torch/table_gradient.h"
#include "libs/approx/torch/weight_operand_cache.h"

#if TRANSAXX_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "libs/approx/cuda/gpu_gemm.h"
#include "libs/approx/cuda/gpu_multiplier_cache.h"
#endif

namespace transaxx::approx {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void CheckOk(const absl::Status& status) { TORCH_CHECK(status.ok(), status.ToString()); }

template <typename T>
T ValueOrThrow(absl::StatusOr<T> value) {
  CheckOk(value.status());
  return *std::move(value);
}

void CheckFloat(const at::Tensor& t, const char* name) {
  TORCH_CHECK(t.defined(), name, " is undefined");
  TORCH_CHECK(t.scalar_type() == at::kFloat, name, " must be float32, got ", t.scalar_type());
  TORCH_CHECK(t.is_cpu() || t.is_cuda(), name, " must be on the CPU or a CUDA device, got ",
              t.device());
}

// CheckFloat, and `t` on the device of the op's first tensor argument.
void CheckFloatBeside(const at::Tensor& t, const char* name, const at::Tensor& first,
                      const char* first_name) {
  CheckFloat(t, name);
  TORCH_CHECK(t.device() == first.device(), "tensor arguments must be on one device: ", first_name,
              " is on ", first.device(), ", ", name, " on ", t.device());
}

bool Defined(const std::optional<at::Tensor>& t) { return t.has_value() && t->defined(); }

void CheckBias(const std::optional<at::Tensor>& bias, int64_t out_features,
               const at::Tensor& input) {
  if (!Defined(bias)) return;
  CheckFloatBeside(*bias, "bias", input, "input");
  TORCH_CHECK(bias->dim() == 1 && bias->size(0) == out_features, "bias must have shape [",
              out_features, "], got ", bias->sizes());
}

// Per-tensor params of an activation clipped to [-amax, amax].
QuantParams ActivationParams(float amax) {
  return ValueOrThrow(QuantParamsFromAmax(std::span<const float>(&amax, 1)));
}

// Max-calibrated params of a weight whose first dimension is the output
// channel. Only the max |w| of each channel travels to the host.
QuantParams WeightParams(const at::Tensor& weight, WeightQuantization quantization) {
  const bool per_channel = quantization == WeightQuantization::kPerChannel;
  const at::Tensor rows = per_channel ? weight.flatten(1) : weight.flatten().unsqueeze(0);
  // torch refuses to reduce an empty dimension; an empty slice has max 0.
  const at::Tensor amax =
      (rows.size(1) == 0 ? at::zeros({rows.size(0)}) : rows.abs().amax(1)).cpu();
  const std::span<const float> host(amax.data_ptr<float>(), static_cast<size_t>(amax.numel()));
  for (size_t c = 0; c < host.size(); ++c) {
    // amax propagates NaN, so NaN and infinities all show here.
    TORCH_CHECK(std::isfinite(host[c]), "weight holds a non-finite value: max |w| ",
                per_channel ? "of output channel " + std::to_string(c) : std::string("overall"),
                " is ", host[c]);
  }
  return ValueOrThrow(QuantParamsFromAmax(host));
}

// The argument checks of ApproxGemmInt8 (approx_ops.h).
void CheckGemmOperands(const Multiplier& multiplier, const at::Tensor& a, const at::Tensor& w) {
  TORCH_CHECK(a.defined() && w.defined(), "GEMM operands must be defined");
  TORCH_CHECK(a.scalar_type() == at::kChar && w.scalar_type() == at::kChar,
              "GEMM operands must be int8, got ", a.scalar_type(), " and ", w.scalar_type());
  TORCH_CHECK(a.device() == w.device(), "GEMM operands must be on one device, got ", a.device(),
              " and ", w.device());
  TORCH_CHECK(a.dim() == 2 && w.dim() == 2 && a.size(1) == w.size(0),
              "GEMM operands must be [M, K] and [K, N], got ", a.sizes(), " and ", w.sizes());
  TORCH_CHECK(a.size(1) <= MaxAccumulationDepth(multiplier), "GEMM depth K = ", a.size(1),
              " could overflow the int32 sums of ", multiplier.id(), " (at most ",
              MaxAccumulationDepth(multiplier), ")");
}

// ApproxGemmInt8(multiplier, a, w).to(at::kFloat), bit for bit: the
// dequantization's input, taken from the structured GEMM's float sums
// without an int32 round trip where it has them.
at::Tensor ApproxSumsAsFloat(const Multiplier& multiplier, const at::Tensor& a,
                             const at::Tensor& w) {
  if (a.is_cpu() && w.is_cpu()) {
    CheckGemmOperands(multiplier, a, w);
    const std::shared_ptr<const Structure> structure = ValueOrThrow(CachedStructure(multiplier));
    if (const std::optional<StructuredEngine> engine = ChosenStructuredEngine(*structure)) {
      return StructuredGemmFloat(*structure, a, w, engine);
    }
  }
  return ApproxGemmInt8(multiplier, a, w).to(at::kFloat);
}

// The float result of the sums [M, N] (as float32, ApproxSumsAsFloat),
// in place: sums * (activation scale x weight scale of column n) + bias[n].
at::Tensor DequantizeSums(at::Tensor sums, float activation_scale,
                          const std::vector<float>& weight_scales,
                          const std::optional<at::Tensor>& bias) {
  const int64_t n = sums.size(1);
  std::vector<float> scales(static_cast<size_t>(n));
  for (size_t j = 0; j < scales.size(); ++j) {
    scales[j] = activation_scale * weight_scales[weight_scales.size() == 1 ? 0 : j];
  }
  sums.mul_(at::tensor(scales).to(sums.device()));
  if (Defined(bias)) sums.add_(*bias);
  return sums;
}

// W operand [in, out] of a weight [out, in...]: the weight's rows quantized
// (per tensor or per row), flattened and transposed; cached while the weight
// is unchanged (weight_operand_cache.h).
std::shared_ptr<const WeightOperand> WeightOperandOf(const at::Tensor& weight,
                                                     WeightQuantization quantization) {
  return CachedWeightOperand(weight, static_cast<int>(quantization), [&] {
    QuantParams params = WeightParams(weight, quantization);
    at::Tensor w = QuantizeInt8(weight, params).reshape({weight.size(0), -1}).t().contiguous();
    return WeightOperand{std::move(w), std::move(params)};
  });
}

// Table-aware gradients (table_gradient.h) of the approximate product
// c = a·b of a [..., M, K] and b [..., K, N] (batch dimensions broadcast),
// given their quantized values qa and qb (int8, shaped alike), the scale sa
// of a and sb of b (a scalar, or one per column n of b):
//   dL/da[m,k] = Σ_n g[m,n] · sb[n] · DA(qa[m,k], qb[k,n])
//   dL/db[k,n] = Σ_m g[m,n] · sa · DB(qa[m,k], qb[k,n]).
// With DA = b + Σ_r u_r(a) v_r(b), the b term is the straight-through
// gradient g·bᵀ (the float operand standing for sb·qb), and each residual
// term is one GEMM; DB alike. `factors` are da_u, da_v, db_p, db_q on the
// operands' device.
std::pair<at::Tensor, at::Tensor> TableAwareGrads(const at::Tensor& grad, const at::Tensor& a,
                                                  const at::Tensor& b, const at::Tensor& qa,
                                                  const at::Tensor& qb, double sa,
                                                  const at::Tensor& sb,
                                                  const std::vector<at::Tensor>& factors,
                                                  bool need_a, bool need_b) {
  const at::Tensor ia = qa.to(at::kLong).add_(128);
  const at::Tensor ib = qb.to(at::kLong).add_(128);
  auto lookup = [](const at::Tensor& factor, int64_t r, const at::Tensor& index) {
    return factor[r].take(index);
  };
  at::Tensor grad_a, grad_b;
  if (need_a) {
    at::Tensor sum = grad.matmul(b.transpose(-2, -1));
    const at::Tensor scaled = grad * sb;
    for (int64_t r = 0; r < factors[0].size(0); ++r) {
      sum = sum + lookup(factors[0], r, ia) *
                      scaled.matmul(lookup(factors[1], r, ib).transpose(-2, -1));
    }
    grad_a = at::sum_to(sum, a.sizes());
  }
  if (need_b) {
    at::Tensor sum = a.transpose(-2, -1).matmul(grad);
    for (int64_t r = 0; r < factors[2].size(0); ++r) {
      sum = sum + lookup(factors[3], r, ib) *
                      lookup(factors[2], r, ia).transpose(-2, -1).matmul(grad).mul_(sa);
    }
    grad_b = at::sum_to(sum, b.sizes());
  }
  return {grad_a, grad_b};
}

// The factors of `gradient` on `device`, in TableAwareGrads' order.
std::vector<at::Tensor> FactorsOn(const TableGradient& gradient, const at::Device& device) {
  return {gradient.da_u.to(device), gradient.da_v.to(device), gradient.db_p.to(device),
          gradient.db_q.to(device)};
}

// Saved tensors of a table-aware op: its float operands, their quantized
// values, then the four factors.
void SaveForBackward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& y,
                     const at::Tensor& qx, const at::Tensor& qy, const TableGradient* gradient) {
  ctx->saved_data["table_aware"] = gradient != nullptr;
  if (gradient == nullptr) {
    ctx->save_for_backward({x, y});
    return;
  }
  std::vector<at::Tensor> saved = {x, y, qx, qy};
  for (at::Tensor& f : FactorsOn(*gradient, x.device())) saved.push_back(std::move(f));
  ctx->save_for_backward(saved);
}

// The scales of weight output channels as a tensor on `device`.
at::Tensor ScalesTensor(const std::vector<double>& scales, const at::Device& device) {
  return at::tensor(scales, at::kDouble).to(at::kFloat).to(device);
}

std::vector<double> AsDoubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                            float input_amax, WeightQuantization weight_quantization,
                            const TableGradient* gradient) {
    CheckFloat(input, "input");
    CheckFloatBeside(weight, "weight", input, "input");
    TORCH_CHECK(weight.dim() == 2, "linear weight must be [out, in], got ", weight.sizes());
    TORCH_CHECK(input.dim() >= 1 && input.size(-1) == weight.size(1), "linear input must be [..., ",
                weight.size(1), "], got ", input.sizes());
    CheckBias(bias, weight.size(0), input);
    const QuantParams input_params = ActivationParams(input_amax);
    const std::shared_ptr<const WeightOperand> weight_operand =
        WeightOperandOf(weight, weight_quantization);
    const QuantParams& weight_params = weight_operand->params;

    // Rows counted explicitly: reshape cannot infer -1 for empty tensors.
    const int64_t rows = c10::multiply_integers(input.sizes().slice(0, input.dim() - 1));
    const at::Tensor a = QuantizeInt8(input, input_params).reshape({rows, weight.size(1)});
    const at::Tensor& w = weight_operand->w;
    at::Tensor out = DequantizeSums(ApproxSumsAsFloat(multiplier, a, w), input_params.scales[0],
                                    weight_params.scales, bias);
    std::vector<int64_t> out_shape(input.sizes().begin(), input.sizes().end());
    out_shape.back() = weight.size(0);

    SaveForBackward(ctx, input, weight, a, w, gradient);
    ctx->saved_data["has_bias"] = Defined(bias);
    ctx->saved_data["input_scale"] = static_cast<double>(input_params.scales[0]);
    ctx->saved_data["weight_scales"] = AsDoubles(weight_params.scales);
    return out.reshape(out_shape);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& input = saved[0];
    const at::Tensor& weight = saved[1];
    const at::Tensor& grad = grad_outputs[0];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const int64_t rows = c10::multiply_integers(input.sizes().slice(0, input.dim() - 1));
    const at::Tensor grad_2d = grad.reshape({rows, weight.size(0)});
    const at::Tensor input_2d = input.reshape({rows, weight.size(1)});
    at::Tensor grad_input, grad_weight, grad_bias;
    if (ctx->saved_data["table_aware"].toBool()) {
      auto [ga, gb] = TableAwareGrads(
          grad_2d, input_2d, weight.t(), saved[2], saved[3],
          ctx->saved_data["input_scale"].toDouble(),
          ScalesTensor(ctx->saved_data["weight_scales"].toDoubleVector(), input.device()),
          {saved.begin() + 4, saved.end()}, ctx->needs_input_grad(0), ctx->needs_input_grad(1));
      if (ga.defined()) grad_input = ga.reshape(input.sizes());
      if (gb.defined()) grad_weight = gb.t();
    } else {
      if (ctx->needs_input_grad(0)) grad_input = grad.matmul(weight);
      if (ctx->needs_input_grad(1)) grad_weight = grad_2d.t().mm(input_2d);
    }
    if (has_bias && ctx->needs_input_grad(2)) grad_bias = grad_2d.sum(0);
    return {grad_input,   grad_weight,  grad_bias,   at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class Conv2dFunction : public torch::autograd::Function<Conv2dFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& input, const at::Tensor& weight,
                            const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                            float input_amax, WeightQuantization weight_quantization,
                            std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                            const TableGradient* gradient) {
    CheckFloat(input, "input");
    CheckFloatBeside(weight, "weight", input, "input");
    TORCH_CHECK(weight.dim() == 4, "conv2d weight must be [out, in, kh, kw], got ", weight.sizes());
    TORCH_CHECK(input.dim() == 4 && input.size(1) == weight.size(1),
                "conv2d input must be [batch, ", weight.size(1), ", h, w], got ", input.sizes());
    CheckBias(bias, weight.size(0), input);
    TORCH_CHECK(stride[0] >= 1 && stride[1] >= 1, "conv2d stride must be >= 1, got ",
                at::IntArrayRef(stride));
    TORCH_CHECK(padding[0] >= 0 && padding[1] >= 0, "conv2d padding must be >= 0, got ",
                at::IntArrayRef(padding));
    const int64_t batch = input.size(0), out_channels = weight.size(0);
    const int64_t kh = weight.size(2), kw = weight.size(3);
    const int64_t padded_h = input.size(2) + 2 * padding[0];
    const int64_t padded_w = input.size(3) + 2 * padding[1];
    TORCH_CHECK(padded_h >= kh && padded_w >= kw, "conv2d kernel ", kh, "x", kw,
                " is larger than the padded input ", padded_h, "x", padded_w);
    const int64_t out_h = (padded_h - kh) / stride[0] + 1;
    const int64_t out_w = (padded_w - kw) / stride[1] + 1;

    const QuantParams input_params = ActivationParams(input_amax);
    const std::shared_ptr<const WeightOperand> weight_operand =
        WeightOperandOf(weight, weight_quantization);
    const QuantParams& weight_params = weight_operand->params;
    // Padding zeros quantize to 0, so patches of the float input quantized
    // afterwards equal patches of the quantized input.
    const at::Tensor patches = at::im2col(input, {kh, kw}, {1, 1}, padding, stride)
                                   .transpose(1, 2)
                                   .reshape({batch * out_h * out_w, weight[0].numel()});
    const at::Tensor a = QuantizeInt8(patches, input_params);
    const at::Tensor& w = weight_operand->w;
    const at::Tensor out = DequantizeSums(ApproxSumsAsFloat(multiplier, a, w), input_params.scales[0],
                                          weight_params.scales, bias);

    SaveForBackward(ctx, input, weight, a, w, gradient);
    ctx->saved_data["has_bias"] = Defined(bias);
    ctx->saved_data["input_scale"] = static_cast<double>(input_params.scales[0]);
    ctx->saved_data["weight_scales"] = AsDoubles(weight_params.scales);
    ctx->saved_data["stride"] = std::vector<int64_t>(stride.begin(), stride.end());
    ctx->saved_data["padding"] = std::vector<int64_t>(padding.begin(), padding.end());
    return out.reshape({batch, out_h, out_w, out_channels}).permute({0, 3, 1, 2}).contiguous();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& input = saved[0];
    const at::Tensor& weight = saved[1];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const std::vector<int64_t> stride = ctx->saved_data["stride"].toIntVector();
    const std::vector<int64_t> padding = ctx->saved_data["padding"].toIntVector();
    if (ctx->saved_data["table_aware"].toBool()) return TableAwareBackward(ctx, grad_outputs[0]);
    const std::vector<int64_t> bias_sizes = {weight.size(0)};
    auto [grad_input, grad_weight, grad_bias] = at::convolution_backward(
        grad_outputs[0], input, weight,
        has_bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(), stride, padding,
        /*dilation=*/{1, 1}, /*transposed=*/false, /*output_padding=*/{0, 0},
        /*groups=*/1,
        {ctx->needs_input_grad(0), ctx->needs_input_grad(1), has_bias && ctx->needs_input_grad(2)});
    return {grad_input,   grad_weight,  grad_bias,    at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }

 private:
  // The GEMM form of the forward pass: the gradients of the patches (the
  // GEMM's A) fold back onto the input with col2im, where overlapping
  // patches add up.
  static variable_list TableAwareBackward(AutogradContext* ctx, const at::Tensor& grad) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& input = saved[0];
    const at::Tensor& weight = saved[1];
    const std::vector<int64_t> stride = ctx->saved_data["stride"].toIntVector();
    const std::vector<int64_t> padding = ctx->saved_data["padding"].toIntVector();
    const int64_t batch = input.size(0), out_channels = weight.size(0);
    const int64_t kh = weight.size(2), kw = weight.size(3);
    const at::Tensor columns = at::im2col(input, {kh, kw}, {1, 1}, padding, stride);
    const int64_t positions = columns.size(2), depth = columns.size(1);
    const at::Tensor patches = columns.transpose(1, 2).reshape({batch * positions, depth});
    const at::Tensor grad_2d = grad.permute({0, 2, 3, 1}).reshape({batch * positions, out_channels});
    auto [grad_patches, grad_w] = TableAwareGrads(
        grad_2d, patches, weight.reshape({out_channels, depth}).t(), saved[2], saved[3],
        ctx->saved_data["input_scale"].toDouble(),
        ScalesTensor(ctx->saved_data["weight_scales"].toDoubleVector(), input.device()),
        {saved.begin() + 4, saved.end()}, ctx->needs_input_grad(0), ctx->needs_input_grad(1));
    at::Tensor grad_input, grad_weight, grad_bias;
    if (grad_patches.defined()) {
      grad_input = at::col2im(grad_patches.reshape({batch, positions, depth}).transpose(1, 2),
                              {input.size(2), input.size(3)}, {kh, kw}, {1, 1}, padding, stride);
    }
    if (grad_w.defined()) grad_weight = grad_w.t().reshape(weight.sizes());
    if (ctx->saved_data["has_bias"].toBool() && ctx->needs_input_grad(2)) {
      grad_bias = grad_2d.sum(0);
    }
    return {grad_input,   grad_weight,  grad_bias,    at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class MatmulFunction : public torch::autograd::Function<MatmulFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b,
                            const Multiplier& multiplier, float a_amax, float b_amax,
                            const TableGradient* gradient) {
    CheckFloat(a, "a");
    CheckFloatBeside(b, "b", a, "a");
    TORCH_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul operands must be at least 2-D, got ",
                a.sizes(), " and ", b.sizes());
    const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    TORCH_CHECK(b.size(-2) == k, "matmul operands do not fit: ", a.sizes(), " x ", b.sizes());
    std::vector<int64_t> batch =
        at::infer_size(a.sizes().slice(0, a.dim() - 2), b.sizes().slice(0, b.dim() - 2));
    const QuantParams a_params = ActivationParams(a_amax);
    const QuantParams b_params = ActivationParams(b_amax);

    const int64_t batch_count = c10::multiply_integers(batch);
    auto expand = [&batch, batch_count](const at::Tensor& q, int64_t rows, int64_t cols) {
      std::vector<int64_t> shape = batch;
      shape.insert(shape.end(), {rows, cols});
      return q.expand(shape).reshape({batch_count, rows, cols}).contiguous();
    };
    const at::Tensor a_int8 = QuantizeInt8(a, a_params);
    const at::Tensor b_int8 = QuantizeInt8(b, b_params);
    const at::Tensor qa = expand(a_int8, m, k);
    const at::Tensor qb = expand(b_int8, k, n);
    at::Tensor sums = at::empty({batch_count, m, n}, qa.options().dtype(at::kFloat));
    for (int64_t i = 0; i < batch_count; ++i) {
      sums[i].copy_(ApproxSumsAsFloat(multiplier, qa[i], qb[i]));
    }
    const at::Tensor out = sums.mul_(a_params.scales[0] * b_params.scales[0]);

    SaveForBackward(ctx, a, b, a_int8, b_int8, gradient);
    ctx->saved_data["a_scale"] = static_cast<double>(a_params.scales[0]);
    ctx->saved_data["b_scale"] = static_cast<double>(b_params.scales[0]);
    batch.insert(batch.end(), {m, n});
    return out.reshape(batch);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& a = saved[0];
    const at::Tensor& b = saved[1];
    const at::Tensor& grad = grad_outputs[0];
    // Broadcast batch dimensions get the sum of their gradients.
    at::Tensor grad_a, grad_b;
    if (ctx->saved_data["table_aware"].toBool()) {
      const at::Tensor b_scale =
          at::scalar_tensor(ctx->saved_data["b_scale"].toDouble(), a.options());
      std::tie(grad_a, grad_b) = TableAwareGrads(
          grad, a, b, saved[2], saved[3], ctx->saved_data["a_scale"].toDouble(), b_scale,
          {saved.begin() + 4, saved.end()}, ctx->needs_input_grad(0), ctx->needs_input_grad(1));
    } else {
      if (ctx->needs_input_grad(0)) {
        grad_a = at::sum_to(grad.matmul(b.transpose(-2, -1)), a.sizes());
      }
      if (ctx->needs_input_grad(1)) {
        grad_b = at::sum_to(a.transpose(-2, -1).matmul(grad), b.sizes());
      }
    }
    return {grad_a, grad_b, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// QuantizeInt8 of a CPU tensor by QuantizeSlice, in one pass over x on
// LibTorch's intra-op threads: torch's elementwise ops take five passes and
// a float temporary of x's size, which cost as much as the GEMM of a
// batch-64 ViT layer.
at::Tensor QuantizeOnCpu(const at::Tensor& x, const QuantParams& params) {
  const at::Tensor in = x.contiguous();
  at::Tensor out = at::empty(in.sizes(), in.options().dtype(at::kChar));
  const int64_t n = in.numel();
  if (n == 0) return out;
  const int64_t slice = n / static_cast<int64_t>(params.scales.size());
  const float* from = in.data_ptr<float>();
  int8_t* to = out.data_ptr<int8_t>();
  at::parallel_for(0, n, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      const int64_t channel = i / slice;
      const int64_t stop = std::min(end, (channel + 1) * slice);
      const size_t count = static_cast<size_t>(stop - i);
      QuantizeSlice({from + i, count}, params.scales[static_cast<size_t>(channel)],
                    {to + i, count});
      i = stop;
    }
  });
  return out;
}

#if TRANSAXX_WITH_CUDA
// The GPU GEMM (gpu_gemm.h) of CUDA operands, queued on the current stream of
// their device like any torch op.
at::Tensor GpuGemmInt8(const Multiplier& multiplier, const at::Tensor& a, const at::Tensor& w) {
  // The current stream and cuBLAS handle below are those of the operands'
  // device only while it is the current one.
  const c10::cuda::CUDAGuard guard(a.device());
  const std::shared_ptr<const GpuMultiplier> gpu =
      ValueOrThrow(CachedGpuMultiplier(multiplier, a.get_device()));
  const GpuKernel kernel = gpu->best_kernel();
  const int64_t m = a.size(0), k = a.size(1), n = w.size(1);
  const at::Tensor a_contiguous = a.contiguous();
  const at::Tensor w_contiguous = w.contiguous();
  at::Tensor c = at::empty({m, n}, a.options().dtype(at::kInt));
  // From the caching allocator, whose blocks are 512-byte aligned (Gemm
  // needs 256). Freed on return, it is reused only by work queued on this
  // stream after the GEMM.
  const size_t bytes = gpu->WorkspaceBytes(kernel, m, k, n);
  const at::Tensor workspace =
      at::empty({static_cast<int64_t>(bytes)}, a.options().dtype(at::kByte));
  CheckOk(gpu->Gemm(kernel, a_contiguous.data_ptr<int8_t>(), w_contiguous.data_ptr<int8_t>(),
                    c.data_ptr<int32_t>(), m, k, n, workspace.data_ptr(), bytes,
                    at::cuda::getCurrentCUDAStream(), at::cuda::getCurrentCUDABlasHandle()));
  return c;
}
#endif

}  // namespace

at::Tensor QuantizeInt8(const at::Tensor& x, const QuantParams& params) {
  CheckFloat(x, "x");
  const int64_t channels = static_cast<int64_t>(params.scales.size());
  TORCH_CHECK(channels == 1 || (x.dim() >= 1 && x.size(0) == channels), channels,
              " quantization scales do not fit a tensor of shape ", x.sizes());
  std::vector<float> inverse;
  for (float scale : params.scales) {
    TORCH_CHECK(std::isfinite(scale) && scale > 0, "quantization scale ", scale,
                " is not a finite positive number");
    inverse.push_back(1.0f / scale);  // in float on the host, as Quantize does
  }
  if (x.is_cpu()) return QuantizeOnCpu(x, params);
  // One inverse scale per slice x[c] (or one for all), broadcast over the
  // rest. round is half-to-even as std::nearbyint; clamp keeps NaN, which
  // then becomes 0; every step is exact IEEE float on CUDA.
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  if (!shape.empty()) shape[0] = channels;
  const at::Tensor inverse_scales = at::tensor(inverse).view(shape).to(x.device());
  return x.mul(inverse_scales)
      .round_()
      .clamp_(-kQuantMax, kQuantMax)
      .nan_to_num_(0.0)
      .to(at::kChar);
}

at::Tensor ApproxGemmInt8(const Multiplier& multiplier, const at::Tensor& a, const at::Tensor& w) {
  CheckGemmOperands(multiplier, a, w);
  if (a.is_cuda()) {
#if TRANSAXX_WITH_CUDA
    return GpuGemmInt8(multiplier, a, w);
#else
    TORCH_CHECK(false, "this transaxx was built without CUDA (TRANSAXX_WITH_CUDA=OFF): ",
                "the approximate GEMM cannot run on ", a.device());
#endif
  }
  TORCH_CHECK(a.is_cpu(), "GEMM operands must be on the CPU or a CUDA device, got ", a.device());
  const std::shared_ptr<const Structure> structure = ValueOrThrow(CachedStructure(multiplier));
  if (const std::optional<StructuredEngine> engine = ChosenStructuredEngine(*structure)) {
    return StructuredGemmInt8(*structure, a, w, engine);
  }

  const at::Tensor a_contiguous = a.contiguous();
  const at::Tensor w_contiguous = w.contiguous();
  at::Tensor c = at::empty({a.size(0), w.size(1)}, a.options().dtype(at::kInt));
  CheckOk(ApproxGemmTable(multiplier, a_contiguous.data_ptr<int8_t>(),
                          w_contiguous.data_ptr<int8_t>(), c.data_ptr<int32_t>(), a.size(0),
                          a.size(1), w.size(1)));
  return c;
}

std::string CpuGemmKernel(const Multiplier& multiplier) {
  const std::shared_ptr<const Structure> structure = ValueOrThrow(CachedStructure(multiplier));
  if (const std::optional<StructuredEngine> engine = ChosenStructuredEngine(*structure)) {
    return StructuredEngineName(*engine);
  }
  // Only the expanded kernels store the table's entries at a width.
  const TableKernel kernel = TableKernelFor(multiplier, BestTableKernel());
  if (kernel == TableKernel::kScalar) return "table kernel (scalar)";
  return std::string("table kernel (") + TableKernelName(kernel) + ", int" +
         std::to_string(ExpandedEntryBits(multiplier)) + " entries)";
}

at::Tensor ApproxLinear(const at::Tensor& input, const at::Tensor& weight,
                        const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                        float input_amax, WeightQuantization weight_quantization,
                        const TableGradient* gradient) {
  return LinearFunction::apply(input, weight, bias, multiplier, input_amax, weight_quantization,
                               gradient);
}

at::Tensor ApproxConv2d(const at::Tensor& input, const at::Tensor& weight,
                        const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                        float input_amax, WeightQuantization weight_quantization,
                        std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                        const TableGradient* gradient) {
  return Conv2dFunction::apply(input, weight, bias, multiplier, input_amax, weight_quantization,
                               stride, padding, gradient);
}

at::Tensor ApproxMatmul(const at::Tensor& a, const at::Tensor& b, const Multiplier& multiplier,
                        float a_amax, float b_amax, const TableGradient* gradient) {
  return MatmulFunction::apply(a, b, multiplier, a_amax, b_amax, gradient);
}

}  // namespace transaxx::approx
