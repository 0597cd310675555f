#include "libs/nn/vit_config.h"

#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace transaxx::nn {
namespace {

struct Size {
  int64_t embed_dim, depth, num_heads;
};

VitConfig Make(std::string name, Size size, int64_t img_size, int64_t patch_size,
               int64_t in_chans, int64_t num_classes, double mlp_ratio, bool distilled) {
  VitConfig c;
  c.name = std::move(name);
  c.img_size = img_size;
  c.patch_size = patch_size;
  c.in_chans = in_chans;
  c.num_classes = num_classes;
  c.embed_dim = size.embed_dim;
  c.depth = size.depth;
  c.num_heads = size.num_heads;
  c.mlp_ratio = mlp_ratio;
  c.distilled = distilled;
  return c;
}

const std::map<std::string, VitConfig, std::less<>>& Named() {
  static const auto* named = [] {
    auto* m = new std::map<std::string, VitConfig, std::less<>>();
    const std::map<std::string, Size> imagenet = {
        {"tiny", {192, 12, 3}}, {"small", {384, 12, 6}}, {"base", {768, 12, 12}}};
    for (const auto& [size_name, size] : imagenet) {
      for (const char* family : {"vit", "deit"}) {
        std::string name = absl::StrCat(family, "_", size_name, "_patch16_224");
        (*m)[name] = Make(name, size, 224, 16, 3, 1000, 4.0, false);
      }
      std::string distilled = absl::StrCat("deit_", size_name, "_distilled_patch16_224");
      (*m)[distilled] = Make(distilled, size, 224, 16, 3, 1000, 4.0, true);
    }
    // 28x28 grayscale (Fashion-MNIST, MNIST): 7x7 patches of 4x4 pixels.
    (*m)["vit_fm_micro_patch4_28"] =
        Make("vit_fm_micro_patch4_28", {64, 4, 4}, 28, 4, 1, 10, 2.0, false);
    (*m)["vit_fm_mini_patch4_28"] =
        Make("vit_fm_mini_patch4_28", {96, 6, 4}, 28, 4, 1, 10, 2.0, false);
    return m;
  }();
  return *named;
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("ViT config: ", field, " ", why));
}

}  // namespace

absl::Status ValidateVitConfig(const VitConfig& c) {
  const std::pair<const char*, int64_t> positive[] = {
      {"img_size", c.img_size},     {"patch_size", c.patch_size}, {"in_chans", c.in_chans},
      {"num_classes", c.num_classes}, {"embed_dim", c.embed_dim}, {"depth", c.depth},
      {"num_heads", c.num_heads}};
  for (const auto& [field, value] : positive) {
    if (value < 1) return Invalid(field, absl::StrCat("must be >= 1, got ", value));
  }
  if (c.img_size % c.patch_size != 0) {
    return Invalid("img_size", absl::StrCat(c.img_size, " is not a multiple of patch_size ",
                                            c.patch_size));
  }
  if (c.embed_dim % c.num_heads != 0) {
    return Invalid("embed_dim", absl::StrCat(c.embed_dim, " is not a multiple of num_heads ",
                                             c.num_heads));
  }
  if (!std::isfinite(c.mlp_ratio) || c.mlp_hidden() < 1) {
    return Invalid("mlp_ratio", absl::StrCat("gives no MLP hidden unit: ", c.mlp_ratio));
  }
  if (!std::isfinite(c.norm_eps) || c.norm_eps <= 0) {
    return Invalid("norm_eps", absl::StrCat("must be > 0, got ", c.norm_eps));
  }
  return absl::OkStatus();
}

absl::StatusOr<VitConfig> NamedVitConfig(absl::string_view name) {
  auto it = Named().find(name);
  if (it == Named().end()) {
    return absl::NotFoundError(absl::StrCat("unknown model architecture '", name,
                                            "'; known: ", absl::StrJoin(NamedVitConfigNames(), ", ")));
  }
  return it->second;
}

std::vector<std::string> NamedVitConfigNames() {
  std::vector<std::string> names;
  for (const auto& [name, config] : Named()) names.push_back(name);
  return names;
}

nlohmann::json VitConfigToJson(const VitConfig& c) {
  return {{"name", c.name},           {"img_size", c.img_size},       {"patch_size", c.patch_size},
          {"in_chans", c.in_chans},   {"num_classes", c.num_classes}, {"embed_dim", c.embed_dim},
          {"depth", c.depth},         {"num_heads", c.num_heads},     {"mlp_ratio", c.mlp_ratio},
          {"qkv_bias", c.qkv_bias},   {"distilled", c.distilled},     {"norm_eps", c.norm_eps}};
}

absl::StatusOr<VitConfig> VitConfigFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Invalid("", "must be a JSON object");
  VitConfig c;
  if (json.contains("name")) {
    if (!json["name"].is_string()) return Invalid("name", "must be a string");
    const std::string name = json["name"].get<std::string>();
    if (!name.empty()) {
      absl::StatusOr<VitConfig> named = NamedVitConfig(name);
      if (!named.ok()) return named.status();
      c = *named;
    }
  }
  auto integer = [&json](const char* key, int64_t& out) -> absl::Status {
    if (!json.contains(key)) return absl::OkStatus();
    if (!json[key].is_number_integer()) return Invalid(key, "must be an integer");
    out = json[key].get<int64_t>();
    return absl::OkStatus();
  };
  auto number = [&json](const char* key, double& out) -> absl::Status {
    if (!json.contains(key)) return absl::OkStatus();
    if (!json[key].is_number()) return Invalid(key, "must be a number");
    out = json[key].get<double>();
    return absl::OkStatus();
  };
  auto boolean = [&json](const char* key, bool& out) -> absl::Status {
    if (!json.contains(key)) return absl::OkStatus();
    if (!json[key].is_boolean()) return Invalid(key, "must be true or false");
    out = json[key].get<bool>();
    return absl::OkStatus();
  };
  for (absl::Status s :
       {integer("img_size", c.img_size), integer("patch_size", c.patch_size),
        integer("in_chans", c.in_chans), integer("num_classes", c.num_classes),
        integer("embed_dim", c.embed_dim), integer("depth", c.depth),
        integer("num_heads", c.num_heads), number("mlp_ratio", c.mlp_ratio),
        boolean("qkv_bias", c.qkv_bias), boolean("distilled", c.distilled),
        number("norm_eps", c.norm_eps)}) {
    if (!s.ok()) return s;
  }
  static const std::set<std::string> kKeys = {
      "name",      "img_size",  "patch_size", "in_chans", "num_classes", "embed_dim",
      "depth",     "num_heads", "mlp_ratio",  "qkv_bias", "distilled",   "norm_eps"};
  for (const auto& [key, value] : json.items()) {
    if (!kKeys.count(key)) return Invalid(key, "is not a ViT config field");
  }
  if (absl::Status s = ValidateVitConfig(c); !s.ok()) return s;
  return c;
}

}  // namespace transaxx::nn
