#include "cli/train_command.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/local_flags.h"
#include "cli/progress.h"
#include "libs/data/subset.h"
#include "libs/nn/evaluate.h"
#include "libs/nn/image_batch.h"
#include "libs/nn/model_dir.h"
#include "libs/nn/train.h"

namespace transaxx::cli {

const char kTrainHelp[] = R"(Usage: transaxx train --arch NAME --dataset NAME:SPLIT --out DIR [FLAGS]

Trains a Vision Transformer from scratch on the CPU and writes it as a model
directory (model.json + model.safetensors) that every other command takes.
Prints progress, and a line per epoch with the accuracy on --eval.

Model and data:
  --arch NAME             architecture: vit_fm_micro_patch4_28 and
                          vit_fm_mini_patch4_28 (28x28 grayscale, 10 classes),
                          vit_{tiny,small,base}_patch16_224, deit_* (timm's)
  --dataset NAME:SPLIT    training images, e.g. fashion-mnist:train (required)
  --eval NAME:SPLIT       evaluated after every epoch and recorded in
                          model.json, e.g. fashion-mnist:test
  --eval_limit N          evaluate on its first N images only (default all)
  --limit N               train on the first N images only (quick runs)
  --datasets_dir DIRS     dataset roots before /usr/share/datasets
                          (default $TRANSAXX_DATASETS_DIR)
  --out DIR               the model directory to write (required)

Optimization (AdamW, linear warmup then cosine decay per step):
  --epochs N              passes over the data (default 10)
  --batch_size N          (default 128)
  --lr X                  peak learning rate (default 0.001)
  --weight_decay X        (default 0.05; not on biases, norms, embeddings)
  --warmup_steps N        (default 200)
  --label_smoothing X     in [0, 1) (default 0)
  --augment               random 2-pixel shifts and horizontal flips
  --seed N                shuffling, augmentation and initial weights (0)
  --threads N             CPU threads (default: all cores)

Example (the demo model, ./run demo-model):
  transaxx train --arch vit_fm_micro_patch4_28 --dataset fashion-mnist:train \
      --eval fashion-mnist:test --epochs 10 --out deploy/local/models/fashion-vit
)";

namespace {

int Train(const Args& args, const std::vector<std::string>& words) {
  const std::optional<std::string> arch_name = args.Value("arch");
  const std::optional<std::string> dataset = args.Value("dataset");
  const std::optional<std::string> out = args.Value("out");
  if (!arch_name || !dataset || !out) {
    return ReportError(absl::InvalidArgumentError("--arch, --dataset and --out are required"), true);
  }
  absl::StatusOr<nn::VitConfig> arch = nn::NamedVitConfig(*arch_name);
  if (!arch.ok()) return ReportError(arch.status(), true);
  if (absl::Status s = SetThreadsFromFlags(args); !s.ok()) return ReportError(s, true);
  nn::TrainOptions options;
  absl::StatusOr<int64_t> epochs = IntFlag(args, "epochs", options.epochs, 1);
  absl::StatusOr<int64_t> batch = IntFlag(args, "batch_size", options.batch_size, 1);
  absl::StatusOr<int64_t> warmup = IntFlag(args, "warmup_steps", options.warmup_steps, 0);
  absl::StatusOr<int64_t> seed = IntFlag(args, "seed", 0, 0);
  absl::StatusOr<int64_t> limit = IntFlag(args, "limit", 0, 0);
  absl::StatusOr<int64_t> eval_limit = IntFlag(args, "eval_limit", 0, 0);
  absl::StatusOr<double> lr = NumberFlag(args, "lr", options.learning_rate, true);
  absl::StatusOr<double> wd = NumberFlag(args, "weight_decay", options.weight_decay, false);
  absl::StatusOr<double> smoothing = NumberFlag(args, "label_smoothing", 0, false);
  for (const absl::Status& s :
       {epochs.status(), batch.status(), warmup.status(), seed.status(), limit.status(),
        eval_limit.status(), lr.status(), wd.status(), smoothing.status()}) {
    if (!s.ok()) return ReportError(s, true);
  }
  options.epochs = *epochs;
  options.batch_size = *batch;
  options.warmup_steps = *warmup;
  options.seed = static_cast<uint64_t>(*seed);
  options.learning_rate = *lr;
  options.weight_decay = *wd;
  options.label_smoothing = *smoothing;
  options.augment = args.Has("augment");
  if (options.label_smoothing >= 1) {
    return ReportError(absl::InvalidArgumentError("--label_smoothing must be below 1"), true);
  }

  const data::DatasetOptions dataset_options = DatasetOptionsFromFlags(args);
  absl::StatusOr<data::ImageSet> train = data::LoadDataset(*dataset, dataset_options);
  if (!train.ok()) return ReportError(train.status());
  if (train->num_classes != arch->num_classes) {
    return ReportError(absl::FailedPreconditionError(absl::StrFormat(
        "%s has %d classes, the architecture %s %d", *dataset, train->num_classes, *arch_name,
        arch->num_classes)));
  }
  std::optional<data::ImageSet> test;
  if (auto spec = args.Value("eval")) {
    absl::StatusOr<data::ImageSet> images = data::LoadDataset(*spec, dataset_options);
    if (!images.ok()) return ReportError(images.status());
    test = *std::move(images);
  }
  absl::StatusOr<std::vector<int64_t>> indices = data::OffsetLimitSubset(train->size(), 0, *limit);
  if (!indices.ok()) return ReportError(indices.status());

  // The initial weights are drawn from torch's global generator.
  at::manual_seed(options.seed);
  nn::LoadedModel model;
  model.description.architecture = *arch;
  model.description.mean = train->mean;
  model.description.std = train->std;
  model.description.classes = train->class_names;
  model.module = nn::VisionTransformer(*arch);
  if (absl::Status s = nn::CheckImagesFitModel(*train, model.description); !s.ok()) {
    return ReportError(s);
  }

  std::vector<int64_t> test_indices;
  if (test) test_indices = *data::OffsetLimitSubset(test->size(), 0, *eval_limit);
  std::optional<nn::EvalResult> last_eval;
  Progress progress("train");
  const auto start = std::chrono::steady_clock::now();
  absl::Status eval_status;
  options.progress = [&](const nn::TrainProgress& p) {
    progress.Update(p.step, p.total_steps,
                    absl::StrFormat("epoch %d/%d loss %.4f acc %.2f%% lr %.2e %.0f img/s",
                                    p.epoch + 1, p.epochs, p.loss, 100 * p.accuracy,
                                    p.learning_rate, p.images_per_second));
    if (!p.epoch_done) return;
    progress.Finish();
    std::string line = absl::StrFormat("epoch %d/%d  loss %.4f  train %.2f%%", p.epoch + 1,
                                       p.epochs, p.loss, 100 * p.accuracy);
    if (test) {
      absl::StatusOr<nn::EvalResult> r = nn::Evaluate(model, *test, test_indices, {});
      model.module->train();
      if (!r.ok()) {
        eval_status = r.status();
      } else {
        last_eval = *r;
        absl::StrAppendFormat(&line, "  %s %.2f%%", *args.Value("eval"), 100 * r->top1);
      }
    }
    std::fprintf(stderr, "%s  (%s)\n", line.c_str(),
                 FormatDuration(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                              start)
                                    .count())
                     .c_str());
  };
  options.cancelled = [&eval_status] { return !eval_status.ok(); };
  absl::Status trained = nn::Train(model, *train, *indices, options);
  if (!eval_status.ok()) return ReportError(eval_status);
  if (!trained.ok()) return ReportError(trained);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  nlohmann::json provenance = {
      {"trained_by", "transaxx train " + absl::StrJoin(words, " ")},
      {"dataset", *dataset},
      {"images", static_cast<int64_t>(indices->size())},
      {"epochs", options.epochs},
      {"seconds", std::round(seconds)},
      {"threads", at::get_num_threads()}};
  if (last_eval) {
    provenance["eval"] = {{"dataset", *args.Value("eval")},
                          {"top1", last_eval->top1},
                          {"top5", last_eval->top5},
                          {"n", last_eval->n}};
  }
  model.description.provenance = provenance;
  absl::StatusOr<std::string> hash = nn::SaveModelDir(*out, model.description, model.module);
  if (!hash.ok()) return ReportError(hash.status());
  std::printf("wrote %s (content hash %s) in %s\n", out->c_str(), hash->c_str(),
              FormatDuration(seconds).c_str());
  if (last_eval) {
    std::printf("%s top-1 %.2f%%, top-5 %.2f%%\n", args.Value("eval")->c_str(),
                100 * last_eval->top1, 100 * last_eval->top5);
  }
  return kExitOk;
}

}  // namespace

int RunTrainCommand(const std::vector<std::string>& words) {
  auto args = Args::Parse(words,
                          {"arch", "dataset", "eval", "eval_limit", "limit", "datasets_dir", "out",
                           "epochs",
                           "batch_size", "lr", "weight_decay", "warmup_steps", "label_smoothing",
                           "seed", "threads"},
                          {"help", "augment"});
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kTrainHelp);
    return kExitOk;
  }
  if (absl::Status s = args->ExpectNoPositionals("train"); !s.ok()) return ReportError(s, true);
  return Train(*args, words);
}

}  // namespace transaxx::cli
