#include "libs/nn/model_dir.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "libs/approx/sha256.h"
#include "libs/nn/safetensors.h"
#include "libs/nn/weights.h"

namespace transaxx::nn {
namespace {

namespace fs = std::filesystem;
constexpr char kFormat[] = "transaxx-model-v1";

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path.string()));
  return bytes.str();
}

absl::Status WriteFileAtomically(const fs::path& path, const std::string& bytes) {
  const fs::path temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temp.string()));
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot rename ", temp.string(), ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status Invalid(const fs::path& file, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file.string(), ": ", what));
}

absl::StatusOr<std::vector<float>> PositiveVector(const nlohmann::json& json, const fs::path& file,
                                                  absl::string_view field, int64_t size,
                                                  bool positive) {
  if (!json.is_array() || static_cast<int64_t>(json.size()) != size) {
    return Invalid(file, absl::StrCat(field, " must be an array of ", size, " numbers"));
  }
  std::vector<float> out;
  for (const auto& v : json) {
    if (!v.is_number() || !std::isfinite(v.get<double>()) || (positive && v.get<double>() <= 0)) {
      return Invalid(file, absl::StrCat(field, " holds ", v.dump(), ", expected a finite",
                                        positive ? " positive" : "", " number"));
    }
    out.push_back(v.get<float>());
  }
  return out;
}

nlohmann::json DescriptionToJson(const ModelDescription& d) {
  return {{"format", kFormat},
          {"architecture", VitConfigToJson(d.architecture)},
          {"input", {{"mean", d.mean}, {"std", d.std}}},
          {"classes", d.classes},
          {"provenance", d.provenance}};
}

absl::StatusOr<ModelDescription> ParseDescription(const std::string& text, const fs::path& file) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Invalid(file, "is not a JSON object");
  if (json.value("format", "") != kFormat) {
    return Invalid(file, absl::StrCat("format must be \"", kFormat, "\""));
  }
  ModelDescription d;
  if (!json.contains("architecture")) return Invalid(file, "architecture is missing");
  absl::StatusOr<VitConfig> architecture = VitConfigFromJson(json["architecture"]);
  if (!architecture.ok()) return Invalid(file, architecture.status().message());
  d.architecture = *architecture;
  const nlohmann::json input = json.value("input", nlohmann::json::object());
  const int64_t channels = d.architecture.in_chans;
  absl::StatusOr<std::vector<float>> mean =
      PositiveVector(input.value("mean", nlohmann::json()), file, "input.mean", channels, false);
  if (!mean.ok()) return mean.status();
  absl::StatusOr<std::vector<float>> std =
      PositiveVector(input.value("std", nlohmann::json()), file, "input.std", channels, true);
  if (!std.ok()) return std.status();
  d.mean = *mean;
  d.std = *std;
  if (json.contains("classes")) {
    const nlohmann::json& classes = json["classes"];
    if (!classes.is_array() ||
        (!classes.empty() && static_cast<int64_t>(classes.size()) != d.architecture.num_classes)) {
      return Invalid(file, absl::StrCat("classes must list ", d.architecture.num_classes,
                                        " names (or none)"));
    }
    for (const auto& c : classes) {
      if (!c.is_string()) return Invalid(file, "classes must be strings");
      d.classes.push_back(c.get<std::string>());
    }
  }
  if (json.contains("provenance")) {
    if (!json["provenance"].is_object()) return Invalid(file, "provenance must be an object");
    d.provenance = json["provenance"];
  }
  return d;
}

std::string ContentHash(const std::string& json_bytes, const std::string& weight_bytes) {
  return approx::Sha256Hex(absl::StrCat(kFormat, "\n", approx::Sha256Hex(json_bytes), "\n",
                                        approx::Sha256Hex(weight_bytes), "\n"));
}

// The bytes of DIR/model.json; NOT_FOUND saying whether the directory or
// the file is missing.
absl::StatusOr<std::string> DescriptionBytes(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat("model directory ", dir.string(), " does not exist"));
  }
  absl::StatusOr<std::string> text = ReadFile(dir / kModelJson);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat(dir.string(), " is not a model directory: it has no ", kModelJson));
  }
  return text;
}

}  // namespace

absl::StatusOr<ModelDescription> ReadModelDescription(const fs::path& dir) {
  absl::StatusOr<std::string> text = DescriptionBytes(dir);
  if (!text.ok()) return text.status();
  return ParseDescription(*text, dir / kModelJson);
}

absl::StatusOr<std::string> ModelContentHash(const fs::path& dir) {
  absl::StatusOr<std::string> json_bytes = ReadFile(dir / kModelJson);
  if (!json_bytes.ok()) return json_bytes.status();
  absl::StatusOr<std::string> weight_bytes = ReadFile(dir / kModelWeights);
  if (!weight_bytes.ok()) return weight_bytes.status();
  return ContentHash(*json_bytes, *weight_bytes);
}

at::Device ModelDevice(const LoadedModel& model) {
  const std::vector<at::Tensor> parameters = model.module->parameters();
  return parameters.empty() ? at::Device(at::kCPU) : parameters.front().device();
}

absl::StatusOr<LoadedModel> LoadModelDir(const fs::path& dir) {
  // One read serves both the description and the hash, so they agree.
  absl::StatusOr<std::string> json_bytes = DescriptionBytes(dir);
  if (!json_bytes.ok()) return json_bytes.status();
  absl::StatusOr<ModelDescription> description = ParseDescription(*json_bytes, dir / kModelJson);
  if (!description.ok()) return description.status();
  absl::StatusOr<std::string> weight_bytes = ReadFile(dir / kModelWeights);
  if (!weight_bytes.ok()) return weight_bytes.status();
  const std::string source = (dir / kModelWeights).string();
  absl::StatusOr<Safetensors> weights = ParseSafetensors(*weight_bytes, source);
  if (!weights.ok()) return weights.status();

  LoadedModel model;
  model.dir = dir;
  model.description = *std::move(description);
  model.module = VisionTransformer(model.description.architecture);
  if (absl::Status s = LoadWeights(*model.module, *weights, source); !s.ok()) return s;
  model.module->eval();
  model.content_hash = ContentHash(*json_bytes, *weight_bytes);
  return model;
}

absl::StatusOr<std::string> SaveModelDir(const fs::path& dir, const ModelDescription& description,
                                         const VisionTransformer& module) {
  if (absl::Status s = ValidateVitConfig(description.architecture); !s.ok()) return s;
  if (VitConfigToJson(description.architecture) != VitConfigToJson(module->config())) {
    return absl::InvalidArgumentError("the description's architecture is not the module's");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  absl::StatusOr<std::string> weights = SerializeSafetensors(WeightsOf(*module));
  if (!weights.ok()) return weights.status();
  const std::string json = DescriptionToJson(description).dump(2) + "\n";
  // Parsing what we write catches a description the loader would refuse.
  if (absl::StatusOr<ModelDescription> check = ParseDescription(json, dir / kModelJson); !check.ok()) {
    return check.status();
  }
  if (absl::Status s = WriteFileAtomically(dir / kModelWeights, *weights); !s.ok()) return s;
  if (absl::Status s = WriteFileAtomically(dir / kModelJson, json); !s.ok()) return s;
  return ContentHash(json, *weights);
}

}  // namespace transaxx::nn
