#include "services/evaluator/fine_tune.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "services/evaluator/model_store.h"

namespace transaxx::evaluator {
namespace {

namespace fs = std::filesystem;

constexpr int kDefaultBatchSize = 64;
constexpr int64_t kDefaultProgressInterval = 10;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status ParseOptimizer(const v1::OptimizerSpec& spec, nn::TrainOptions& out) {
  switch (spec.kind()) {
    case v1::OPTIMIZER_KIND_UNSPECIFIED:
    case v1::OPTIMIZER_KIND_ADAMW:
      out.optimizer = nn::Optimizer::kAdamW;
      break;
    case v1::OPTIMIZER_KIND_SGD:
      out.optimizer = nn::Optimizer::kSgd;
      break;
    default:
      return Invalid("optimizer.kind", absl::StrCat("unknown value ", spec.kind()));
  }
  const bool sgd = out.optimizer == nn::Optimizer::kSgd;
  out.learning_rate = spec.has_learning_rate() ? spec.learning_rate() : (sgd ? 1e-3 : 1e-4);
  if (!(out.learning_rate > 0) || !std::isfinite(out.learning_rate)) {
    return Invalid("optimizer.learning_rate", absl::StrCat(out.learning_rate, " is not > 0"));
  }
  out.weight_decay = spec.has_weight_decay() ? spec.weight_decay() : (sgd ? 0.0 : 0.05);
  if (!(out.weight_decay >= 0) || !std::isfinite(out.weight_decay)) {
    return Invalid("optimizer.weight_decay", absl::StrCat(out.weight_decay, " is not >= 0"));
  }
  out.momentum = spec.has_momentum() ? spec.momentum() : 0.9;
  if (!(out.momentum >= 0 && out.momentum < 1)) {
    return Invalid("optimizer.momentum", absl::StrCat(out.momentum, " is not in [0, 1)"));
  }
  return absl::OkStatus();
}

absl::Status ParseSchedule(const v1::LrSchedule& spec, nn::TrainOptions& out) {
  switch (spec.kind()) {
    case v1::LR_SCHEDULE_KIND_UNSPECIFIED:
    case v1::LR_SCHEDULE_KIND_COSINE:
      out.decay = nn::LrDecay::kCosine;
      break;
    case v1::LR_SCHEDULE_KIND_CONSTANT:
      out.decay = nn::LrDecay::kConstant;
      break;
    case v1::LR_SCHEDULE_KIND_LINEAR:
      out.decay = nn::LrDecay::kLinear;
      break;
    default:
      return Invalid("schedule.kind", absl::StrCat("unknown value ", spec.kind()));
  }
  if (spec.warmup_steps() < 0) {
    return Invalid("schedule.warmup_steps", absl::StrCat(spec.warmup_steps(), " is negative"));
  }
  out.warmup_steps = spec.warmup_steps();
  out.min_learning_rate = spec.min_learning_rate();
  if (!(out.min_learning_rate >= 0 && out.min_learning_rate <= out.learning_rate)) {
    return Invalid("schedule.min_learning_rate",
                   absl::StrCat(out.min_learning_rate, " is not in [0, learning rate ",
                                out.learning_rate, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FineTuneSettings> ParseFineTuneSettings(const v1::FineTuneRequest& request) {
  FineTuneSettings out;
  switch (request.length_case()) {
    case v1::FineTuneRequest::kEpochs:
      if (!(request.epochs() > 0) || !std::isfinite(request.epochs())) {
        return Invalid("epochs", absl::StrCat(request.epochs(), " is not > 0"));
      }
      out.epochs = request.epochs();
      break;
    case v1::FineTuneRequest::kSteps:
      if (request.steps() <= 0) return Invalid("steps", absl::StrCat(request.steps(), " is not > 0"));
      out.steps = request.steps();
      break;
    default:
      return Invalid("length", "set epochs or steps");
  }
  if (absl::Status s = ParseOptimizer(request.optimizer(), out.train); !s.ok()) return s;
  if (absl::Status s = ParseSchedule(request.schedule(), out.train); !s.ok()) return s;
  if (request.batch_size() < 0) {
    return Invalid("batch_size", absl::StrCat(request.batch_size(), " is negative"));
  }
  out.train.batch_size = request.batch_size() > 0 ? request.batch_size() : kDefaultBatchSize;
  out.train.seed = request.seed();
  out.train.label_smoothing = 0;
  out.train.augment = false;
  if (request.progress_interval_steps() < 0) {
    return Invalid("progress_interval_steps",
                   absl::StrCat(request.progress_interval_steps(), " is negative"));
  }
  out.train.progress_every = request.progress_interval_steps() > 0
                                 ? request.progress_interval_steps()
                                 : kDefaultProgressInterval;
  switch (request.gradient_mode()) {
    case v1::GRADIENT_MODE_UNSPECIFIED:
    case v1::GRADIENT_MODE_STRAIGHT_THROUGH:
      out.gradient_mode = approx::GradientMode::kStraightThrough;
      break;
    case v1::GRADIENT_MODE_TABLE_AWARE:
      out.gradient_mode = approx::GradientMode::kTableAware;
      break;
    default:
      return Invalid("gradient_mode", absl::StrCat("unknown value ", request.gradient_mode()));
  }
  if (!request.output_model_id().empty() && !ModelStore::IsModelId(request.output_model_id())) {
    return Invalid("output_model_id",
                   absl::StrCat("'", request.output_model_id(),
                                "' is not a directory name ([A-Za-z0-9._-], 1..128 characters, "
                                "not starting with '.')"));
  }
  out.output_model_id = request.output_model_id();
  return out;
}

nn::TrainOptions TrainOptionsFor(const FineTuneSettings& settings, int64_t images) {
  nn::TrainOptions options = settings.train;
  const int64_t steps_per_epoch = images / std::max<int64_t>(1, std::min(options.batch_size, images));
  options.steps = settings.steps > 0
                      ? settings.steps
                      : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                 settings.epochs * static_cast<double>(steps_per_epoch))));
  return options;
}

absl::Status OutputIdTaken(const std::string& id) {
  return absl::AlreadyExistsError(
      absl::StrCat("output_model_id: a model '", id, "' exists already; choose another id"));
}

absl::StatusOr<StagedModel> StagedModel::Write(const fs::path& root,
                                               const nn::ModelDescription& description,
                                               const nn::VisionTransformer& module) {
  std::random_device random;
  const fs::path dir = root / absl::StrCat(".staging-", random(), "-", random());
  absl::StatusOr<std::string> hash = nn::SaveModelDir(dir, description, module);
  if (!hash.ok()) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return hash.status();
  }
  return StagedModel(root, dir, *std::move(hash));
}

StagedModel::StagedModel(StagedModel&& other) noexcept
    : root_(std::move(other.root_)),
      dir_(std::move(other.dir_)),
      content_hash_(std::move(other.content_hash_)),
      published_(other.published_) {
  other.published_ = true;  // the moved-from object owns nothing
}

StagedModel::~StagedModel() {
  if (published_) return;
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

absl::StatusOr<std::string> StagedModel::Publish(const std::string& id,
                                                 const std::string& base_id) {
  const std::string target =
      id.empty() ? absl::StrCat(base_id, "-ft-", content_hash_.substr(0, 8)) : id;
  const fs::path destination = root_ / target;
  std::error_code error;
  if (!fs::exists(destination, error)) {
    // rename(2) onto an existing non-empty directory fails, so an id taken
    // meanwhile is never overwritten.
    fs::rename(dir_, destination, error);
    if (!error) {
      published_ = true;
      return target;
    }
  }
  if (!id.empty()) {
    return OutputIdTaken(id);
  }
  if (fs::exists(destination)) return target;  // the destructor drops this identical copy
  return absl::InternalError(absl::StrCat("cannot move the fine-tuned model to ",
                                          destination.string(), ": ", error.message()));
}

}  // namespace transaxx::evaluator
