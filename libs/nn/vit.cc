#include "libs/nn/vit.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace transaxx::nn {
namespace {

// timm initializes Linear weights and the embeddings with
// trunc_normal_(std=0.02), truncated at +-2 in absolute terms: at this std
// the truncation never triggers, so it is a plain normal.
constexpr double kInitStd = 0.02;

torch::nn::Linear MakeLinear(int64_t in, int64_t out, bool bias) {
  torch::nn::Linear linear(torch::nn::LinearOptions(in, out).bias(bias));
  torch::NoGradGuard no_grad;
  linear->weight.normal_(0.0, kInitStd);
  if (bias) linear->bias.zero_();
  return linear;
}

torch::nn::LayerNorm MakeNorm(const VitConfig& config) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({config.embed_dim}).eps(config.norm_eps));
}

// A parameterless parent, so that children get timm's dotted names
// (attn.qkv, mlp.fc1, patch_embed.proj).
std::shared_ptr<torch::nn::Module> Group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

}  // namespace

VitBlockImpl::VitBlockImpl(const VitConfig& config, int64_t index)
    : num_heads_(config.num_heads),
      scale_(1.0 / std::sqrt(static_cast<double>(config.head_dim()))),
      qkv_site_(absl::StrCat("blocks.", index, ".attn.qkv"), approx::LayerKind::kLinear),
      qk_site_(absl::StrCat("blocks.", index, ".attn.qk"), approx::LayerKind::kAttentionQk),
      av_site_(absl::StrCat("blocks.", index, ".attn.av"), approx::LayerKind::kAttentionAv),
      proj_site_(absl::StrCat("blocks.", index, ".attn.proj"), approx::LayerKind::kLinear),
      fc1_site_(absl::StrCat("blocks.", index, ".mlp.fc1"), approx::LayerKind::kLinear),
      fc2_site_(absl::StrCat("blocks.", index, ".mlp.fc2"), approx::LayerKind::kLinear) {
  const int64_t d = config.embed_dim;
  norm1_ = register_module("norm1", MakeNorm(config));
  auto attn = Group(*this, "attn");
  qkv_ = attn->register_module("qkv", MakeLinear(d, 3 * d, config.qkv_bias));
  proj_ = attn->register_module("proj", MakeLinear(d, d, true));
  norm2_ = register_module("norm2", MakeNorm(config));
  auto mlp = Group(*this, "mlp");
  fc1_ = mlp->register_module("fc1", MakeLinear(d, config.mlp_hidden(), true));
  fc2_ = mlp->register_module("fc2", MakeLinear(config.mlp_hidden(), d, true));
}

at::Tensor VitBlockImpl::forward(const at::Tensor& x) {
  const int64_t batch = x.size(0), tokens = x.size(1), dim = x.size(2);
  const at::Tensor qkv = qkv_site_.Linear(norm1_(x), qkv_->weight, qkv_->bias)
                             .reshape({batch, tokens, 3, num_heads_, dim / num_heads_})
                             .permute({2, 0, 3, 1, 4});
  const at::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
  const at::Tensor attn = (qk_site_.Matmul(q, k.transpose(-2, -1)) * scale_).softmax(-1);
  const at::Tensor heads = av_site_.Matmul(attn, v).transpose(1, 2).reshape({batch, tokens, dim});
  const at::Tensor y = x + proj_site_.Linear(heads, proj_->weight, proj_->bias);
  const at::Tensor hidden = at::gelu(fc1_site_.Linear(norm2_(y), fc1_->weight, fc1_->bias));
  return y + fc2_site_.Linear(hidden, fc2_->weight, fc2_->bias);
}

std::vector<ApproxSite*> VitBlockImpl::sites() {
  return {&qkv_site_, &qk_site_, &av_site_, &proj_site_, &fc1_site_, &fc2_site_};
}

VisionTransformerImpl::VisionTransformerImpl(const VitConfig& config)
    : config_(config),
      patch_site_("patch_embed.proj", approx::LayerKind::kConv2d),
      head_site_("head", approx::LayerKind::kLinear),
      head_dist_site_("head_dist", approx::LayerKind::kLinear) {
  const int64_t d = config.embed_dim;
  torch::NoGradGuard no_grad;
  cls_token_ = register_parameter("cls_token", torch::empty({1, 1, d}).normal_(0.0, 1e-6));
  pos_embed_ =
      register_parameter("pos_embed", torch::empty({1, config.num_tokens(), d}).normal_(0.0, kInitStd));
  if (config.distilled) {
    dist_token_ = register_parameter("dist_token", torch::empty({1, 1, d}).normal_(0.0, kInitStd));
  }
  patch_proj_ = Group(*this, "patch_embed")
                    ->register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                  config.in_chans, d, config.patch_size)
                                                                    .stride(config.patch_size)));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) blocks_->push_back(VitBlock(config, i));
  norm_ = register_module("norm", MakeNorm(config));
  head_ = register_module("head", MakeLinear(d, config.num_classes, true));
  if (config.distilled) head_dist_ = register_module("head_dist", MakeLinear(d, config.num_classes, true));
}

at::Tensor VisionTransformerImpl::forward(const at::Tensor& images) {
  const VitConfig& c = config_;
  TORCH_CHECK(images.dim() == 4 && images.size(1) == c.in_chans && images.size(2) == c.img_size &&
                  images.size(3) == c.img_size,
              "images must be [batch, ", c.in_chans, ", ", c.img_size, ", ", c.img_size,
              "], got ", images.sizes());
  const int64_t batch = images.size(0);
  at::Tensor x = patch_site_.Conv2d(images, patch_proj_->weight, patch_proj_->bias, c.patch_size)
                     .flatten(2)
                     .transpose(1, 2);
  std::vector<at::Tensor> tokens = {cls_token_.expand({batch, -1, -1})};
  if (c.distilled) tokens.push_back(dist_token_.expand({batch, -1, -1}));
  tokens.push_back(x);
  x = at::cat(tokens, 1) + pos_embed_;
  for (const auto& block : *blocks_) x = block->as<VitBlock>()->forward(x);
  x = norm_(x);
  const at::Tensor logits = head_site_.Linear(x.select(1, 0), head_->weight, head_->bias);
  if (!c.distilled) return logits;
  return (logits + head_dist_site_.Linear(x.select(1, 1), head_dist_->weight, head_dist_->bias)) / 2;
}

std::vector<ApproxSite*> VisionTransformerImpl::sites() {
  std::vector<ApproxSite*> out = {&patch_site_};
  for (const auto& block : *blocks_) {
    for (ApproxSite* s : block->as<VitBlock>()->sites()) out.push_back(s);
  }
  out.push_back(&head_site_);
  if (config_.distilled) out.push_back(&head_dist_site_);
  return out;
}

ApproxSite* VisionTransformerImpl::site(const std::string& name) {
  for (ApproxSite* s : sites()) {
    if (s->name() == name) return s;
  }
  return nullptr;
}

}  // namespace transaxx::nn
