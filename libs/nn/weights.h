// A module's weights as safetensors (safetensors.h): its parameters and
// buffers under their dotted names (timm's, for the ViT of vit.h).
//
// Loading is all or nothing: every tensor is checked before any is copied,
// and a file that does not fit the module (missing, unexpected or
// mis-shaped tensors, unsupported dtypes) is INVALID_ARGUMENT listing every
// offending name, with the module unchanged. Floating-point dtypes (F64,
// F32, F16, BF16) are converted to the module's float32.
//
// Thread-safety: not thread-safe with respect to the module; the
// Safetensors value is only read.
#ifndef TRANSAXX_LIBS_NN_WEIGHTS_H_
#define TRANSAXX_LIBS_NN_WEIGHTS_H_

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "libs/nn/safetensors.h"

namespace transaxx::nn {

// `source` names the file in error messages.
absl::Status LoadWeights(torch::nn::Module& module, const Safetensors& weights,
                         absl::string_view source);

// Every parameter and buffer as F32 (copied to the CPU).
Safetensors WeightsOf(const torch::nn::Module& module);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_WEIGHTS_H_
