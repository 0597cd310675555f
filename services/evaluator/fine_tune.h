// The parts of Evaluator.FineTune that are not glue: the run's settings
// from a request (with the contract's defaults, errors naming the field)
// and staging a fine-tuned model beside the others so that a failed or
// cancelled run leaves nothing behind.
//
// Thread-safety: ParseFineTuneSettings and TrainOptionsFor are pure; staged
// models may be written and published concurrently with each other and with
// readers of the models folder (a model appears by one directory rename).
#ifndef TRANSAXX_SERVICES_EVALUATOR_FINE_TUNE_H_
#define TRANSAXX_SERVICES_EVALUATOR_FINE_TUNE_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "libs/approx/torch/table_gradient.h"
#include "libs/nn/model_dir.h"
#include "libs/nn/train.h"
#include "transaxx/v1/evaluator.pb.h"

namespace transaxx::evaluator {

struct FineTuneSettings {
  // The optimizer, schedule, batch size and seed; `steps`/`epochs` are set
  // by TrainOptionsFor once the training subset's size is known.
  nn::TrainOptions train;
  double epochs = 0;  // > 0 when the request gave epochs
  int64_t steps = 0;  // > 0 when it gave steps
  approx::GradientMode gradient_mode = approx::GradientMode::kStraightThrough;
  std::string output_model_id;  // empty: derived from the content hash
};

// The settings of `request` (evaluator.proto FineTuneRequest) without its
// model, configuration, calibration and subsets. INVALID_ARGUMENT naming
// the field for: no length or a length <= 0, a learning rate <= 0 or not
// finite, negative weight decay, momentum outside [0, 1), negative warm-up
// or minimum rate above the peak, unknown enum values, a negative batch
// size or progress interval, an output id that is not a directory name.
absl::StatusOr<FineTuneSettings> ParseFineTuneSettings(const v1::FineTuneRequest& request);

// The training options for `images` training images: the step count of the
// request's epochs (rounded up, at least 1) or steps.
nn::TrainOptions TrainOptionsFor(const FineTuneSettings& settings, int64_t images);

// ALREADY_EXISTS for an output_model_id that names a model already there.
absl::Status OutputIdTaken(const std::string& id);

// A fine-tuned model written beside the published ones, in a hidden
// temporary directory under the models folder (the model store skips
// names starting with '.'), until Publish renames it into place. Destroyed
// unpublished, it removes its directory: a failed or cancelled run leaves
// nothing behind.
class StagedModel {
 public:
  // Writes `module` with `description` (model_dir.h) under `root`.
  static absl::StatusOr<StagedModel> Write(const std::filesystem::path& root,
                                           const nn::ModelDescription& description,
                                           const nn::VisionTransformer& module);
  StagedModel(StagedModel&& other) noexcept;
  StagedModel& operator=(StagedModel&&) = delete;
  ~StagedModel();

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& content_hash() const { return content_hash_; }

  // Renames the model to `id`, or, when `id` is empty, to
  // "<base_id>-ft-<first 8 hex digits of its content hash>"; returns the id.
  // ALREADY_EXISTS when an explicit `id` is taken. A derived id that exists
  // holds the same content (the hash names it), so it is kept and this copy
  // dropped. REQUIRES: not published yet.
  absl::StatusOr<std::string> Publish(const std::string& id, const std::string& base_id);

 private:
  StagedModel(std::filesystem::path root, std::filesystem::path dir, std::string content_hash)
      : root_(std::move(root)), dir_(std::move(dir)), content_hash_(std::move(content_hash)) {}
  std::filesystem::path root_, dir_;
  std::string content_hash_;
  bool published_ = false;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_FINE_TUNE_H_
