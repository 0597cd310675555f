// The approximable layers of a Vision Transformer, computed from its
// architecture alone: every Conv2d and Linear in model order
// (patch_embed.proj; per block attn.qkv, attn.proj, mlp.fc1, mlp.fc2; head,
// head_dist) and, when asked, the two attention matmuls of every block
// (blocks.N.attn.qk = Q·Kᵀ and blocks.N.attn.av = attn·V, placed after
// attn.qkv), with the shapes of their operands for one image and their
// multiply-accumulates per image.
//
// Shapes are per image: a Linear's input is [tokens, in] and its weight
// [out, in]; the patch convolution's input is [in_chans, img, img]; an
// attention matmul's operands are [heads, tokens, head_dim] and
// [heads, head_dim, tokens] (Q·Kᵀ) or [heads, tokens, tokens] and
// [heads, tokens, head_dim] (attn·V). The heads see one token each.
//
// The classifier heads are exact by default, as in the TransAxx paper.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_NN_APPROXIMABLE_LAYERS_H_
#define TRANSAXX_LIBS_NN_APPROXIMABLE_LAYERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "libs/approx/config_power.h"
#include "libs/nn/vit_config.h"

namespace transaxx::nn {

using approx::LayerKind;

struct ApproximableLayer {
  std::string name;
  LayerKind kind = LayerKind::kUnspecified;
  std::vector<int64_t> input_shape;   // operand A
  std::vector<int64_t> weight_shape;  // operand B
  std::vector<int64_t> output_shape;
  int64_t macs_per_image = 0;
  bool exact_by_default = false;
};

// REQUIRES: ValidateVitConfig(config) is OK.
std::vector<ApproximableLayer> ApproximableLayers(const VitConfig& config,
                                                  bool include_attention_matmuls);

// "linear", "conv2d", "attention_qk", "attention_av".
const char* LayerKindName(LayerKind kind);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_APPROXIMABLE_LAYERS_H_
