#include "libs/nn/approximable_layers.h"

#include "absl/strings/str_cat.h"

namespace transaxx::nn {
namespace {

ApproximableLayer Linear(std::string name, int64_t tokens, int64_t in, int64_t out) {
  return {std::move(name), LayerKind::kLinear, {tokens, in}, {out, in}, {tokens, out},
          tokens * in * out, false};
}

}  // namespace

std::vector<ApproximableLayer> ApproximableLayers(const VitConfig& c,
                                                  bool include_attention_matmuls) {
  std::vector<ApproximableLayer> layers;
  const int64_t p = c.patch_size, d = c.embed_dim, t = c.num_tokens(), g = c.grid();
  layers.push_back({"patch_embed.proj", LayerKind::kConv2d, {c.in_chans, c.img_size, c.img_size},
                    {d, c.in_chans, p, p}, {d, g, g}, c.num_patches() * d * c.in_chans * p * p,
                    false});
  const int64_t heads = c.num_heads, hd = c.head_dim();
  for (int64_t b = 0; b < c.depth; ++b) {
    const std::string block = absl::StrCat("blocks.", b, ".");
    layers.push_back(Linear(block + "attn.qkv", t, d, 3 * d));
    if (include_attention_matmuls) {
      layers.push_back({block + "attn.qk", LayerKind::kAttentionQk, {heads, t, hd}, {heads, hd, t},
                        {heads, t, t}, heads * t * t * hd, false});
      layers.push_back({block + "attn.av", LayerKind::kAttentionAv, {heads, t, t}, {heads, t, hd},
                        {heads, t, hd}, heads * t * t * hd, false});
    }
    layers.push_back(Linear(block + "attn.proj", t, d, d));
    layers.push_back(Linear(block + "mlp.fc1", t, d, c.mlp_hidden()));
    layers.push_back(Linear(block + "mlp.fc2", t, c.mlp_hidden(), d));
  }
  layers.push_back(Linear("head", 1, d, c.num_classes));
  layers.back().exact_by_default = true;
  if (c.distilled) {
    layers.push_back(Linear("head_dist", 1, d, c.num_classes));
    layers.back().exact_by_default = true;
  }
  return layers;
}

const char* LayerKindName(LayerKind kind) {
  switch (kind) {
    case LayerKind::kLinear:
      return "linear";
    case LayerKind::kConv2d:
      return "conv2d";
    case LayerKind::kAttentionQk:
      return "attention_qk";
    case LayerKind::kAttentionAv:
      return "attention_av";
    case LayerKind::kUnspecified:
      break;
  }
  return "unspecified";
}

}  // namespace transaxx::nn
