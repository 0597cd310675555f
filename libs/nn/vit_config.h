// The architecture of a Vision Transformer (ViT / DeiT, as timm builds them):
// patch embedding by a strided convolution, a class token (and a
// distillation token for distilled DeiT), learned position embeddings over
// all tokens, `depth` pre-norm blocks (LayerNorm, multi-head self-attention
// with a fused qkv projection, LayerNorm, MLP with exact GELU), a final
// LayerNorm and a linear head on the class token (averaged with a second
// head on the distillation token when distilled).
//
// Named configurations reproduce timm's: vit_{tiny,small,base}_patch16_224,
// deit_{tiny,small,base}_patch16_224 (the same networks as the ViTs, trained
// differently), deit_{tiny,small,base}_distilled_patch16_224, and small
// ones for 28x28 grayscale images (vit_fm_{micro,mini}_patch4_28).
//
// Thread-safety: plain values and pure functions.
#ifndef TRANSAXX_LIBS_NN_VIT_CONFIG_H_
#define TRANSAXX_LIBS_NN_VIT_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace transaxx::nn {

struct VitConfig {
  // The named configuration this one started from ("" for a custom one).
  std::string name;
  int64_t img_size = 224;
  int64_t patch_size = 16;
  int64_t in_chans = 3;
  int64_t num_classes = 1000;
  int64_t embed_dim = 192;
  int64_t depth = 12;
  int64_t num_heads = 3;
  // MLP hidden width = embed_dim * mlp_ratio (rounded down, as timm does).
  double mlp_ratio = 4.0;
  bool qkv_bias = true;
  bool distilled = false;
  double norm_eps = 1e-6;

  int64_t grid() const { return img_size / patch_size; }
  int64_t num_patches() const { return grid() * grid(); }
  // Class token, distillation token if any.
  int64_t num_prefix_tokens() const { return distilled ? 2 : 1; }
  int64_t num_tokens() const { return num_patches() + num_prefix_tokens(); }
  int64_t head_dim() const { return embed_dim / num_heads; }
  int64_t mlp_hidden() const { return static_cast<int64_t>(embed_dim * mlp_ratio); }
};

// OK when every field is usable: sizes >= 1, img_size a multiple of
// patch_size, embed_dim a multiple of num_heads, mlp_hidden() >= 1,
// norm_eps > 0. INVALID_ARGUMENT naming the first field that is not.
absl::Status ValidateVitConfig(const VitConfig& config);

// The named configuration, NOT_FOUND listing the known names otherwise.
absl::StatusOr<VitConfig> NamedVitConfig(absl::string_view name);
std::vector<std::string> NamedVitConfigNames();

// JSON object with every field; VitConfigFromJson fills missing fields
// from the named configuration `name` when it is given, and rejects unknown
// keys, wrong types and invalid values with INVALID_ARGUMENT.
nlohmann::json VitConfigToJson(const VitConfig& config);
absl::StatusOr<VitConfig> VitConfigFromJson(const nlohmann::json& json);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_VIT_CONFIG_H_
