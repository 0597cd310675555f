// A model addressed by a directory:
//   model.json          what the network is: {"format": "transaxx-model-v1",
//                       "architecture": <VitConfig JSON>, "input": {"mean":
//                       [...], "std": [...]}, "classes": [names...],
//                       "provenance": {free-form: dataset, command, accuracy}}
//   model.safetensors   its weights, timm's names (weights.h)
// Its content hash is SHA-256 over both files ("transaxx-model-v1\n",
// then for each file its SHA-256 and a newline), so a model is identified by
// what it computes and describes, not by where it lies.
//
// Images reach the network as (pixel / 255 - mean[c]) / std[c] per channel.
//
// Thread-safety: functions are reentrant; a LoadedModel's module follows
// vit.h (one forward pass at a time).
#ifndef TRANSAXX_LIBS_NN_MODEL_DIR_H_
#define TRANSAXX_LIBS_NN_MODEL_DIR_H_

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/nn/vit.h"
#include "libs/nn/vit_config.h"

namespace transaxx::nn {

inline constexpr char kModelJson[] = "model.json";
inline constexpr char kModelWeights[] = "model.safetensors";

struct ModelDescription {
  VitConfig architecture;
  std::vector<float> mean, std;      // one per input channel; std > 0
  std::vector<std::string> classes;  // num_classes names, or empty
  nlohmann::json provenance = nlohmann::json::object();
};

struct LoadedModel {
  std::filesystem::path dir;
  ModelDescription description;
  std::string content_hash;
  VisionTransformer module{nullptr};
};

// The device of the model's parameters (the CPU for a module without any):
// where its inputs must be.
at::Device ModelDevice(const LoadedModel& model);

// Reads and checks model.json only (no weights): for listings.
// NOT_FOUND when the directory or model.json is missing; INVALID_ARGUMENT
// naming the field for a malformed description.
absl::StatusOr<ModelDescription> ReadModelDescription(const std::filesystem::path& dir);

// The content hash, reading both files.
absl::StatusOr<std::string> ModelContentHash(const std::filesystem::path& dir);

// Reads the description and the weights into a new module in eval mode.
// Errors as ReadModelDescription, plus the weights' (safetensors.h,
// weights.h).
absl::StatusOr<LoadedModel> LoadModelDir(const std::filesystem::path& dir);

// Writes `module`'s weights with `description` into `dir` (created if
// needed), replacing a previous model there. Each file is written under a
// temporary name and renamed, so a reader never sees a half-written file;
// the weights go first. Returns the new content hash. INVALID_ARGUMENT when the
// description does not match the module's architecture.
absl::StatusOr<std::string> SaveModelDir(const std::filesystem::path& dir,
                                         const ModelDescription& description,
                                         const VisionTransformer& module);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_MODEL_DIR_H_
