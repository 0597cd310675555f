// The C++ ViT and DeiT reproduce timm's logits from timm's own weights.
// The reference data come from timm_parity.py (a CTest fixture).
#include <ATen/ATen.h>
#include <torch/utils.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "libs/nn/model_dir.h"
#include "libs/nn/safetensors.h"

namespace transaxx::nn {
namespace {

at::Tensor FloatTensor(const TensorData& t) {
  EXPECT_EQ(t.dtype, DType::kF32);
  return at::from_blob(const_cast<char*>(t.bytes.data()), t.shape, at::kFloat).clone();
}

class TimmParityTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TimmParityTest, LogitsMatchTimm) {
  at::set_num_threads(2);
  const std::filesystem::path dir = std::filesystem::path(TRANSAXX_TIMM_PARITY_DIR) / GetParam();
  absl::StatusOr<LoadedModel> model = LoadModelDir(dir);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<Safetensors> reference = ReadSafetensors(dir / "reference.safetensors");
  ASSERT_TRUE(reference.ok()) << reference.status();
  const at::Tensor inputs = FloatTensor(reference->tensors.at("inputs"));
  const at::Tensor expected = FloatTensor(reference->tensors.at("logits"));
  torch::NoGradGuard no_grad;
  const at::Tensor logits = model->module->forward(inputs);
  const double relative =
      (logits - expected).norm().item<double>() / expected.norm().item<double>();
  EXPECT_LE(relative, 1e-4) << GetParam();
  EXPECT_LE((logits - expected).abs().max().item<double>(),
            1e-4 * expected.abs().max().item<double>());
}

INSTANTIATE_TEST_SUITE_P(Architectures, TimmParityTest,
                         ::testing::Values("vit_tiny_patch16_224",
                                           "deit_tiny_distilled_patch16_224"));

}  // namespace
}  // namespace transaxx::nn
