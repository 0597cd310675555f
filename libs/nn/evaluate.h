// Accuracy of a model (as its sites are currently configured, see
// quantized_model.h) on a subset of a dataset: top-1 and top-5 with the
// Wilson 95% interval of top-1, the mean cross-entropy, time and
// throughput.
//
// Thread-safety: runs the model; one caller per model at a time.
#ifndef TRANSAXX_LIBS_NN_EVALUATE_H_
#define TRANSAXX_LIBS_NN_EVALUATE_H_

#include <cstdint>
#include <functional>
#include <span>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "libs/data/image_set.h"
#include "libs/nn/model_dir.h"

namespace transaxx::nn {

struct Interval {
  double low = 0, high = 0;
};

// The Wilson score interval of `successes` out of `n` at 95% confidence
// (z = 1.959964); [0, 1] for n == 0.
Interval Wilson95(int64_t successes, int64_t n);

struct EvalResult {
  int64_t n = 0;
  int64_t top1_correct = 0, top5_correct = 0;
  double top1 = 0, top5 = 0;  // fractions
  Interval top1_ci95;
  double mean_loss = 0;
  double seconds = 0;
  double images_per_second = 0;
};

// {"top1", "top5", "n", "ci95": [low, high], "mean_loss", "seconds",
//  "images_per_second"}, accuracies as fractions.
nlohmann::json EvalResultToJson(const EvalResult& result);

struct EvalRun {
  int64_t batch_size = 256;
  // Called after every batch with the images done so far and the total.
  std::function<void(int64_t done, int64_t total)> progress;
  // Polled between batches: true stops with CANCELLED.
  std::function<bool()> cancelled;
};

// Evaluates `indices` of `images`. INVALID_ARGUMENT for no images or a bad
// batch size; FAILED_PRECONDITION when the images do not fit the model.
// Top-5 counts a hit among the min(5, classes) highest logits.
absl::StatusOr<EvalResult> Evaluate(LoadedModel& model, const data::ImageSet& images,
                                    std::span<const int64_t> indices, const EvalRun& run);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_EVALUATE_H_
