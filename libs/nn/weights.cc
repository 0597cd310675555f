#include "libs/nn/weights.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace transaxx::nn {
namespace {

std::map<std::string, at::Tensor> NamedTensors(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) out[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) out[item.key()] = item.value();
  return out;
}

std::optional<at::ScalarType> FloatType(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return at::kDouble;
    case DType::kF32:
      return at::kFloat;
    case DType::kF16:
      return at::kHalf;
    case DType::kBF16:
      return at::kBFloat16;
    default:
      return std::nullopt;
  }
}

std::string Shape(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

}  // namespace

absl::Status LoadWeights(torch::nn::Module& module, const Safetensors& weights,
                         absl::string_view source) {
  const std::map<std::string, at::Tensor> targets = NamedTensors(module);
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, tensor] : targets) {
    auto it = weights.tensors.find(name);
    if (it == weights.tensors.end()) {
      missing.push_back(name);
      continue;
    }
    const std::vector<int64_t> expected(tensor.sizes().begin(), tensor.sizes().end());
    if (it->second.shape != expected) {
      mismatched.push_back(absl::StrCat(name, " is ", Shape(it->second.shape), ", expected ",
                                        Shape(expected)));
    } else if (!FloatType(it->second.dtype)) {
      mismatched.push_back(absl::StrCat(name, " has dtype ", DTypeName(it->second.dtype),
                                        ", expected a floating-point one"));
    }
  }
  for (const auto& [name, data] : weights.tensors) {
    if (!targets.count(name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back(absl::StrCat("missing: ", absl::StrJoin(missing, ", ")));
    if (!unexpected.empty()) {
      parts.push_back(absl::StrCat("unexpected: ", absl::StrJoin(unexpected, ", ")));
    }
    if (!mismatched.empty()) {
      parts.push_back(absl::StrCat("mismatched: ", absl::StrJoin(mismatched, "; ")));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        source, " does not fit the model (", absl::StrJoin(parts, ". "), ")"));
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : targets) {
    const TensorData& data = weights.tensors.at(name);
    // from_blob does not copy; the copy_ below does, converting the dtype.
    const at::Tensor source_tensor = at::from_blob(
        const_cast<char*>(data.bytes.data()), data.shape, at::TensorOptions(*FloatType(data.dtype)));
    tensor.copy_(source_tensor);
  }
  return absl::OkStatus();
}

Safetensors WeightsOf(const torch::nn::Module& module) {
  Safetensors out;
  for (const auto& [name, tensor] : NamedTensors(module)) {
    const at::Tensor cpu = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
    TensorData data;
    data.dtype = DType::kF32;
    data.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    data.bytes.assign(static_cast<const char*>(cpu.data_ptr()), cpu.numel() * sizeof(float));
    out.tensors[name] = std::move(data);
  }
  return out;
}

}  // namespace transaxx::nn
