// Training of a model on a labelled image set, on the CPU or wherever the
// model's parameters live: AdamW (no weight decay on biases, norms and
// embeddings, as timm does), linear warmup then cosine decay of the
// learning rate per step, cross-entropy with optional label smoothing, and
// optional augmentation (random crop after 2-pixel zero padding, horizontal
// flip). The forward pass uses the sites as configured, so the same loop
// fine-tunes a quantized approximate model (straight-through gradients,
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
  double learning_rate = 0;
  double images_per_second = 0;
  double eta_seconds = 0;
  bool epoch_done = false;
};

struct TrainOptions {
  int64_t epochs = 10;
  int64_t batch_size = 128;
  double learning_rate = 1e-3;  // peak
  double weight_decay = 0.05;
  int64_t warmup_steps = 200;
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
// INVALID_ARGUMENT for no images or options out of range (epochs, batch
// size, warmup >= 0 ... learning rate > 0); FAILED_PRECONDITION when the
// images do not fit the model. Leaves the module in eval mode.
absl::Status Train(LoadedModel& model, const data::ImageSet& images,
                   std::span<const int64_t> indices, const TrainOptions& options);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_TRAIN_H_
