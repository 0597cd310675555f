// LibTorch building blocks of approximate inference and fine-tuning: linear,
// conv2d and batched matmul in which every multiplication is a multiplier's
// table entry (reference_gemm.h).
//
// Each forward: quantize the activation operand per tensor with the given
// clipping range amax (from calibration, calibration.h), quantize the weight
// per tensor or per output channel with its own max |w| (weights are known,
// so max calibration loses nothing and follows the weights during
// fine-tuning), compute the approximate int32 sums (ApproxGemmInt8, equal
// to ApproxGemmReference), dequantize them with (activation scale x weight
// scale) in float, add the float bias. Quantization is symmetric int8,
// narrow range (quantization.h), done on the tensors' device
// (QuantizeInt8). A weight's quantized operand is reused while the weight
// is unchanged (weight_operand_cache.h).
//
// Backward is straight-through by default: the gradients are those of the
// exact float operation (torch::linear / conv2d / matmul) at the float
// inputs, as in the TransAxx paper, so the same ops serve
// approximation-aware fine-tuning. Given a TableGradient of the multiplier
// (table_gradient.h), backward uses the table's finite-difference partial
// derivatives at the quantized operands instead (still straight through the
// rounding and clipping); with an exact multiplier both agree.
// Gradients flow to every float tensor argument; amax is a constant.
//
// Operand roles: the activation is the table's operand A and the weight its
// operand B. For ApproxMatmul the left factor is A and the right one B
// (Q·Kᵀ: Q is A; attn·V: attn is A).
//
// Tensors: float32, all on one device, the CPU or a CUDA device; contiguity
// does not matter. The output is a new contiguous float32 tensor on that
// device. On the CPU the GEMM is structured_gemm.h or cpu/table_gemm.h, on a
// GPU cuda/gpu_gemm.h (a build with TRANSAXX_WITH_CUDA=OFF rejects CUDA
// tensors). Forward results are bit for bit the same on every device, since
// the int32 sums are exact and quantization and dequantization are
// elementwise IEEE float operations; gradients are torch's float ops and
// differ between devices by rounding.
// Errors: bad arguments (shapes, dtypes, devices, a negative or non-finite
// amax, an accumulation depth the multiplier's table could overflow) throw
// c10::Error with a message naming the problem, as LibTorch ops do; callers
// at a service boundary catch it.
//
// Thread-safety: the ops are reentrant. On a GPU they are queued on the
// current CUDA stream of the tensors' device, as torch ops are. Weight
// quantization copies the per-channel max |w| to the host, which waits for
// that stream. On the CPU their GEMM runs on OpenMP threads
// and at::set_num_threads sets how many: the wheel ships torch/lib/libgomp.so.1
// and we link Debian GCC 12's libgomp.so.1, but with one soname only one is
// loaded per process (the wheel's, found first through LibTorch's RUNPATH),
// so torch and our code share one runtime (approx_ops_test checks it). That
// copy exports GOMP symbols up to GOMP_5.0 only: OpenMP code that runs in a
// LibTorch process must not need newer ones (plain `parallel for` needs
// GOMP_4.0).
#ifndef TRANSAXX_LIBS_APPROX_TORCH_APPROX_OPS_H_
#define TRANSAXX_LIBS_APPROX_TORCH_APPROX_OPS_H_

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "libs/approx/multiplier.h"
#include "libs/approx/quantization.h"
#include "libs/approx/torch/table_gradient.h"

namespace transaxx::approx {

enum class WeightQuantization { kPerTensor, kPerChannel };

// The approximate torch::linear: input [..., in], weight [out, in], bias
// [out] or none; returns [..., out]. The GEMM computes input · weightᵀ, i.e.
// its K x N operand W is weightᵀ (K = in, N = out), and output channel
// n = row n of weight is what per-channel quantization scales.
at::Tensor ApproxLinear(const at::Tensor& input, const at::Tensor& weight,
                        const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                        float input_amax, WeightQuantization weight_quantization,
                        const TableGradient* gradient = nullptr);

// The approximate torch::conv2d with groups = 1 and dilation 1: input
// [batch, in, h, w], weight [out, in, kh, kw], bias [out] or none; returns
// [batch, out, h', w'] with h' = (h + 2 padding[0] - kh) / stride[0] + 1 (and
// alike for w'). Computed as im2col + GEMM: each output position's patch
// (in, kh, kw order, zero padded) is a row of A, weight reshaped to
// [out, in*kh*kw] and transposed is W. Padding taps are activations of 0
// and contribute T(0, w) like any other tap, as on an accelerator fed with
// im2col data (a table need not have T(0, w) == 0).
at::Tensor ApproxConv2d(const at::Tensor& input, const at::Tensor& weight,
                        const std::optional<at::Tensor>& bias, const Multiplier& multiplier,
                        float input_amax, WeightQuantization weight_quantization,
                        std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                        const TableGradient* gradient = nullptr);

// The approximate torch::matmul of two activations: a [..., M, K] and
// b [..., K, N] (batch dimensions broadcast as in torch::matmul; both at
// least 2-D) give [..., M, N]. a and b are each quantized per tensor.
at::Tensor ApproxMatmul(const at::Tensor& a, const at::Tensor& b, const Multiplier& multiplier,
                        float a_amax, float b_amax, const TableGradient* gradient = nullptr);

// The approximate int8 GEMM on tensors: a int8 [M, K], w int8 [K, N] (any
// strides, one device: the CPU or a CUDA device) give the int32 [M, N] sums
// of ApproxGemmReference on that device, bit for bit, by the fastest exact
// path the multiplier's structure allows (structure_cache.h). On the CPU:
// dense GEMMs for exact, masking and low-rank multipliers
// (structured_gemm.h), the SIMD table kernel otherwise (cpu/table_gemm.h)
// and also when the structured GEMM has no engine to run here
// (ChosenStructuredEngine).
// On a GPU: GpuMultiplier::best_kernel of cuda/gpu_gemm.h, its kernel data
// kept per multiplier and device (cuda/gpu_multiplier_cache.h).
at::Tensor ApproxGemmInt8(const Multiplier& multiplier, const at::Tensor& a, const at::Tensor& w);

// What ApproxGemmInt8 runs for `multiplier` on this machine's CPU now, for
// people: "u8·s8 GEMM (FBGEMM)", "float32 GEMM" (structured_gemm.h) or
// "table kernel (avx512, int16 entries)" (cpu/table_gemm.h).
// c10::Error when the structure analysis fails.
std::string CpuGemmKernel(const Multiplier& multiplier);

// Quantize (quantization.h) on x's device: a float32 tensor x on the CPU or
// a CUDA device gives a new int8 tensor of its shape on its device, equal
// bit for bit to Quantize of x's values (rounding half to even: the
// intra-op threads that share the work on the CPU round in their own
// rounding mode, which is the default one); on the CPU by QuantizeSlice in
// one pass on LibTorch's intra-op threads, on a GPU by torch ops. params
// holds one scale, or one per slice x[c] along the first dimension (the
// output channels of a weight).
// c10::Error when the scales do not fit x or one is not finite and > 0.
at::Tensor QuantizeInt8(const at::Tensor& x, const QuantParams& params);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_APPROX_OPS_H_
