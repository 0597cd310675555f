// Training of a model on a labelled image set, on the CPU or wherever the
// model's parameters live: AdamW (no weight decay on biases, norms and
// embeddings, as timm does) or SGD with momentum, a per-step learning-rate
// schedule (linear warmup, then constant, cosine or linear decay to a
// floor), cross-entropy with optional label smoothing, and optional
// augmentation (random crop after 2-pixel zero padding, horizontal flip).
// The forward pass uses the sites as configured, so the same loop fine-tunes
// a quantized approximate model (straight-through or table-aware gradients,
// approx_ops.h).
//
// Runs are reproducible: the order of images and the augmentation come from
// a generator seeded with `seed`.
//
// Thread-safety: trains the model; one caller per model.
#ifndef TRANSAXX_LIBS_NN_TRAIN_H_
#define TRANSAXX_LIBS_NN_TRAIN_H_

#include <cstdint>
#include <functional>
#include <span>

#include "absl/status/status.h"
#include "libs/data/image_set.h"
#include "libs/nn/model_dir.h"

namespace transaxx::nn {

struct TrainProgress {
  int64_t epoch = 0;  // 0-based
  int64_t epochs = 0;
  int64_t step = 0;  // steps done, over all epochs
  int64_t total_steps = 0;
  double loss = 0;      // mean over the epoch so far
  double accuracy = 0;  // training top-1 over the epoch so far, fraction
  // The same over the steps since the previous progress call.
  double window_loss = 0;
  double window_accuracy = 0;
  double learning_rate = 0;
  double images_per_second = 0;
  double eta_seconds = 0;
  bool epoch_done = false;
};

enum class Optimizer { kAdamW, kSgd };
enum class LrDecay { kConstant, kCosine, kLinear };

struct TrainOptions {
  int64_t epochs = 10;
  // > 0: run exactly this many steps instead of `epochs` (the last epoch
  // may be partial).
  int64_t steps = 0;
  int64_t batch_size = 128;
  Optimizer optimizer = Optimizer::kAdamW;
  double learning_rate = 1e-3;  // peak
  double weight_decay = 0.05;
  double momentum = 0.9;  // SGD only
  int64_t warmup_steps = 200;
  LrDecay decay = LrDecay::kCosine;
  double min_learning_rate = 0;  // where the decay ends
  double label_smoothing = 0.0;
  bool augment = false;
  uint64_t seed = 0;
  // Called every `progress_every` steps and after every epoch.
  std::function<void(const TrainProgress&)> progress;
  int64_t progress_every = 50;
  // Polled between steps: true stops with CANCELLED (the weights then hold
  // the last completed step).
  std::function<bool()> cancelled;
};

// Trains on `indices` of `images` (an epoch is one pass in a fresh shuffled
// order; the last partial batch is dropped unless it is the only one).
// INVALID_ARGUMENT for no images or options out of range (epochs or steps,
// batch size, warmup >= 0, momentum in [0, 1), 0 <= min learning rate <=
// learning rate > 0 ...); FAILED_PRECONDITION when the
// images do not fit the model. Leaves the module in eval mode.
absl::Status Train(LoadedModel& model, const data::ImageSet& images,
                   std::span<const int64_t> indices, const TrainOptions& options);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_TRAIN_H_
