#include "libs/nn/approximable_layers.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/nn/approx_config.h"
#include "libs/nn/vit_config.h"

namespace transaxx::nn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

VitConfig Named(const char* name) {
  absl::StatusOr<VitConfig> c = NamedVitConfig(name);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(ApproximableLayersTest, VitSmallByHand) {
  // vit_small_patch16_224: D = 384, 12 blocks, 6 heads, MLP 1536,
  // 196 patches + class token = 197 tokens, 1000 classes.
  const std::vector<ApproximableLayer> layers =
      ApproximableLayers(Named("vit_small_patch16_224"), false);
  ASSERT_EQ(layers.size(), 1u + 12 * 4 + 1);
  std::map<std::string, int64_t> macs;
  for (const ApproximableLayer& l : layers) macs[l.name] = l.macs_per_image;

  const ApproximableLayer& patch = layers[0];
  EXPECT_EQ(patch.name, "patch_embed.proj");
  EXPECT_EQ(patch.kind, LayerKind::kConv2d);
  EXPECT_THAT(patch.input_shape, ElementsAre(3, 224, 224));
  EXPECT_THAT(patch.weight_shape, ElementsAre(384, 3, 16, 16));
  EXPECT_THAT(patch.output_shape, ElementsAre(384, 14, 14));
  EXPECT_EQ(patch.macs_per_image, 196LL * 384 * 3 * 16 * 16);  // 57,802,752

  EXPECT_EQ(layers[1].name, "blocks.0.attn.qkv");
  EXPECT_THAT(layers[1].input_shape, ElementsAre(197, 384));
  EXPECT_THAT(layers[1].weight_shape, ElementsAre(1152, 384));
  EXPECT_THAT(layers[1].output_shape, ElementsAre(197, 1152));
  EXPECT_EQ(macs["blocks.0.attn.qkv"], 87'146'496);   // 197 * 384 * 1152
  EXPECT_EQ(macs["blocks.5.attn.proj"], 29'048'832);  // 197 * 384 * 384
  EXPECT_EQ(macs["blocks.11.mlp.fc1"], 116'195'328);  // 197 * 384 * 1536
  EXPECT_EQ(macs["blocks.11.mlp.fc2"], 116'195'328);
  EXPECT_EQ(macs["head"], 384'000);
  EXPECT_EQ(layers.back().name, "head");
  EXPECT_TRUE(layers.back().exact_by_default);
  int64_t total = 0;
  for (const ApproximableLayer& l : layers) total += l.macs_per_image;
  // 57.8M + 12 x (87.1M + 29.0M + 2 x 116.2M) + 0.4M
  EXPECT_EQ(total, 57'802'752LL + 12 * (87'146'496LL + 29'048'832 + 2 * 116'195'328LL) + 384'000);
}

TEST(ApproximableLayersTest, AttentionMatmulsWhenAsked) {
  const std::vector<ApproximableLayer> layers =
      ApproximableLayers(Named("vit_small_patch16_224"), true);
  ASSERT_EQ(layers.size(), 1u + 12 * 6 + 1);
  EXPECT_EQ(layers[2].name, "blocks.0.attn.qk");
  EXPECT_EQ(layers[2].kind, LayerKind::kAttentionQk);
  EXPECT_THAT(layers[2].input_shape, ElementsAre(6, 197, 64));
  EXPECT_THAT(layers[2].weight_shape, ElementsAre(6, 64, 197));
  EXPECT_EQ(layers[2].macs_per_image, 6LL * 197 * 197 * 64);
  EXPECT_EQ(layers[3].name, "blocks.0.attn.av");
  EXPECT_THAT(layers[3].output_shape, ElementsAre(6, 197, 64));
  EXPECT_EQ(layers[4].name, "blocks.0.attn.proj");
}

TEST(ApproximableLayersTest, DistilledDeitHasTwoTokensAndTwoHeads) {
  const std::vector<ApproximableLayer> layers =
      ApproximableLayers(Named("deit_tiny_distilled_patch16_224"), false);
  EXPECT_THAT(layers[1].input_shape, ElementsAre(198, 192));
  EXPECT_EQ(layers[layers.size() - 2].name, "head");
  EXPECT_EQ(layers.back().name, "head_dist");
  EXPECT_TRUE(layers.back().exact_by_default);
}

TEST(VitConfigTest, NamedConfigurationsAreValidAndRoundTripThroughJson) {
  for (const std::string& name : NamedVitConfigNames()) {
    const VitConfig c = Named(name.c_str());
    EXPECT_TRUE(ValidateVitConfig(c).ok()) << name;
    absl::StatusOr<VitConfig> back = VitConfigFromJson(VitConfigToJson(c));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(VitConfigToJson(*back), VitConfigToJson(c));
  }
  EXPECT_EQ(Named("vit_base_patch16_224").embed_dim, 768);
  EXPECT_EQ(Named("deit_small_patch16_224").num_heads, 6);
  EXPECT_EQ(Named("vit_fm_micro_patch4_28").num_tokens(), 50);
}

TEST(VitConfigTest, RejectsBadFieldsByName) {
  EXPECT_THAT(NamedVitConfig("vit_huge").status().message(), HasSubstr("vit_tiny_patch16_224"));
  const std::pair<nlohmann::json, const char*> cases[] = {
      {{{"name", "vit_tiny_patch16_224"}, {"patch_size", 15}}, "img_size"},
      {{{"name", "vit_tiny_patch16_224"}, {"num_heads", 5}}, "embed_dim"},
      {{{"name", "vit_tiny_patch16_224"}, {"depth", 0}}, "depth"},
      {{{"name", "vit_tiny_patch16_224"}, {"depth", "12"}}, "depth"},
      {{{"name", "vit_tiny_patch16_224"}, {"norm_eps", 0}}, "norm_eps"},
      {{{"name", "vit_tiny_patch16_224"}, {"colour", true}}, "colour"},
      {nlohmann::json::array(), "object"},
  };
  for (const auto& [json, field] : cases) {
    absl::StatusOr<VitConfig> c = VitConfigFromJson(json);
    ASSERT_FALSE(c.ok()) << json;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr(field)) << json;
  }
}

TEST(ApproxConfigTest, UniformKeepsTheHeadExact) {
  const VitConfig c = Named("vit_fm_micro_patch4_28");
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> r =
      ResolveConfig(UniformConfig("evo:mul8s_1L2N", c), c);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u + 4 * 4 + 1);
  EXPECT_EQ(r->front(), std::make_pair(std::string("patch_embed.proj"), std::string("evo:mul8s_1L2N")));
  EXPECT_EQ(r->back(), std::make_pair(std::string("head"), std::string("exact")));
}

TEST(ApproxConfigTest, ParsesAndResolvesAFile) {
  const VitConfig c = Named("vit_fm_micro_patch4_28");
  absl::StatusOr<ApproxConfig> config = ParseApproxConfig(
      R"({"default": "exact", "layers": {"blocks.1.mlp.fc1": "drum:k=4", "blocks.1.attn.qk": "exact"},
          "include_attention_matmuls": true})",
      "config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> r = ResolveConfig(*config, c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 1u + 4 * 6 + 1);
  std::map<std::string, std::string> m(r->begin(), r->end());
  EXPECT_EQ(m["blocks.1.mlp.fc1"], "drum:k=4");
  EXPECT_EQ(m["blocks.3.attn.av"], "exact");
}

TEST(ApproxConfigTest, RejectsUnknownMissingAndMalformed) {
  const VitConfig c = Named("vit_fm_micro_patch4_28");
  ApproxConfig unknown;
  unknown.default_multiplier = "exact";
  unknown.layers["blocks.9.mlp.fc1"] = "exact";
  EXPECT_THAT(ResolveConfig(unknown, c).status().message(), HasSubstr("blocks.9.mlp.fc1"));
  ApproxConfig matmul;
  matmul.default_multiplier = "exact";
  matmul.layers["blocks.0.attn.qk"] = "exact";
  EXPECT_THAT(ResolveConfig(matmul, c).status().message(), HasSubstr("include_attention_matmuls"));
  ApproxConfig partial;
  partial.layers["head"] = "exact";
  absl::Status missing = ResolveConfig(partial, c).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.message(), HasSubstr("patch_embed.proj"));
  for (const char* bad : {"[]", "{\"default\": 3}", "{\"layers\": {\"head\": 1}}",
                          "{\"layer\": {}}", "{\"include_attention_matmuls\": \"yes\"}", "{"}) {
    absl::StatusOr<ApproxConfig> parsed = ParseApproxConfig(bad, "c.json");
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(parsed.status().message(), HasSubstr("c.json")) << bad;
  }
}

}  // namespace
}  // namespace transaxx::nn
