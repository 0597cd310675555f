// A Vision Transformer (vit_config.h) as a LibTorch module whose parameter
// names are timm's (cls_token, pos_embed, dist_token, patch_embed.proj.*,
// blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}.*, norm.*,
// head.*, head_dist.*), so a timm state dict loads into it directly
// (weights.h). Every approximable operation goes through an ApproxSite
// (approx_site.h) named as in approximable_layers.h, so any subset of them
// can run on approximate multipliers.
//
// forward(images [batch, in_chans, img, img] float32) -> logits
// [batch, num_classes]; a distilled model returns the mean of both heads,
// as timm does at inference.
//
// Thread-safety: as any torch::nn::Module: one forward pass at a time per
// instance (the sites hold per-call state while calibrating).
#ifndef TRANSAXX_LIBS_NN_VIT_H_
#define TRANSAXX_LIBS_NN_VIT_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libs/nn/approx_site.h"
#include "libs/nn/vit_config.h"

namespace transaxx::nn {

class VitBlockImpl : public torch::nn::Module {
 public:
  VitBlockImpl(const VitConfig& config, int64_t index);
  at::Tensor forward(const at::Tensor& x);
  std::vector<ApproxSite*> sites();

 private:
  int64_t num_heads_;
  double scale_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  ApproxSite qkv_site_, qk_site_, av_site_, proj_site_, fc1_site_, fc2_site_;
};
TORCH_MODULE(VitBlock);

class VisionTransformerImpl : public torch::nn::Module {
 public:
  // REQUIRES: ValidateVitConfig(config) is OK. Parameters are initialized
  // as timm does for training from scratch (truncated normal, std 0.02, for
  // weights and embeddings; zero biases; unit LayerNorm scales).
  explicit VisionTransformerImpl(const VitConfig& config);

  at::Tensor forward(const at::Tensor& images);

  const VitConfig& config() const { return config_; }
  // Every site, attention matmuls included, in model order.
  std::vector<ApproxSite*> sites();
  // The site called `name`, or nullptr.
  ApproxSite* site(const std::string& name);

 private:
  VitConfig config_;
  torch::Tensor cls_token_, dist_token_, pos_embed_;
  torch::nn::Conv2d patch_proj_{nullptr};
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr}, head_dist_{nullptr};
  ApproxSite patch_site_, head_site_, head_dist_site_;
};
TORCH_MODULE(VisionTransformer);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_VIT_H_
