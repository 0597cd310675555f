// A process-wide cache of approximate layers' quantized weight operands,
// and of other values derived from a weight tensor's values.
//
// Every forward pass of an approximate linear or conv2d layer needs its
// weight as an int8 W operand with its scales. Inference calls a layer with
// the same weight again and again, and building the operand (max |w|, the
// elementwise quantization passes, a transposing copy) cost as much as the
// approximate GEMM itself at batch 1 (bench/results/gemm_paths.md). The
// cache hands back the operand built earlier for the same tensor (an entry
// holds a weak reference to the weight's TensorImpl, so a freed weight
// never matches a new one at the same address) and the same quantization,
// once the weight's values are found unchanged: its version counter must
// be the same and its bits equal to those of a copy kept in the entry.
// Comparing them costs one pass over the weight, against the several passes
// of quantizing it, and catches every write, also those that bypass the
// version counter (LibTorch's SGD steps through Tensor::data(), which does).
//
// Nothing is cached for inference tensors or in inference mode (autograd
// cannot save inference tensors for a later training step). At most
// kWeightOperandCacheCapacity entries are kept, the least recently used
// dropped first; entries of freed weights are dropped at the next lookup.
// An entry holds the operand and a copy of the weight (1.25 times the
// weight's size) on the weight's device.
//
// Thread-safety: thread-safe. The comparison and `make` run without the
// lock held; two threads that miss together both build the (identical)
// operand.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_
#define TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

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
// REQUIRES: make() builds the operand from the weight's values alone.
std::shared_ptr<const WeightOperand> CachedWeightOperand(
    const at::Tensor& weight, int quantization_kind, const std::function<WeightOperand()>& make);

// The same cache for any value derived from a tensor's values alone (the
// u8·s8 engine's prepared W operands, u8s8_gemm.h): the value make()
// returns for `tensor` and derivation `kind`, kept under the conditions
// above. Kinds name derivations; CachedWeightOperand's begin with "weight
// operand ".
std::shared_ptr<const void> CachedDerivedValue(
    const at::Tensor& tensor, const std::string& kind,
    const std::function<std::shared_ptr<const void>()>& make);

// Entries held now (for tests).
size_t WeightOperandCacheSize();

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_WEIGHT_OPERAND_CACHE_H_
