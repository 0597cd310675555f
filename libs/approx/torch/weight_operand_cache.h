// A process-wide cache of approximate layers' quantized weight operands.
//
// Every forward pass of an approximate linear or conv2d layer needs its
// weight as an int8 W operand with its scales. Inference calls a layer with
// the same weight again and again, and building the operand (max |w|, the
// elementwise quantization passes, a transposing copy) cost as much as the
// approximate GEMM itself at batch 1 (bench/results/gemm_paths.md). The
// cache hands back the operand built earlier when nothing can have changed
// the weight since:
// - the same tensor: an entry holds a weak reference to the weight's
//   TensorImpl, so a freed weight never matches a new one that happens to
//   live at the same address;
// - the same values: torch bumps a tensor's version counter on every
//   in-place write (optimizer steps, copy_, loading), and the version, the
//   data pointer, the sizes and the strides must all be those the operand
//   was built from;
// - the same quantization (per tensor or per channel).
// Writes that bypass torch (through a raw data pointer) are not seen; no
// part of transaxx writes weights that way. Inference tensors, which have
// no version counter, are never cached. At most kWeightOperandCacheCapacity
// entries are kept, the least recently used dropped first; entries of freed
// weights are dropped when the next operand is added.
//
// Thread-safety: thread-safe. `make` runs without the lock held, so two
// threads that miss together both build the (identical) operand.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_
#define TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <functional>
#include <memory>

#include "libs/approx/quantization.h"

namespace transaxx::approx {

// Enough for every layer of a ViT-B and a few models evaluated side by side.
constexpr size_t kWeightOperandCacheCapacity = 512;

// A weight [out, in...] as the GEMM operand W [in..., out] and the scales
// it was quantized with (one, or one per output channel).
struct WeightOperand {
  at::Tensor w;
  QuantParams params;
};

// The operand of `weight` quantized per `quantization_kind` (any integer
// naming the quantization; approx_ops passes its WeightQuantization): a
// cached one when the conditions above hold, else make()'s, then cached.
// Exceptions of make() propagate and cache nothing.
std::shared_ptr<const WeightOperand> CachedWeightOperand(
    const at::Tensor& weight, int quantization_kind, const std::function<WeightOperand()>& make);

// Entries held now (for tests).
size_t WeightOperandCacheSize();

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_
