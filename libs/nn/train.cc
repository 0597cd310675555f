#include "libs/nn/train.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/nn/image_batch.h"

namespace transaxx::nn {
namespace {

absl::Status CheckOptions(const TrainOptions& o, size_t images) {
  if (images == 0) return absl::InvalidArgumentError("training needs at least one image");
  if (o.steps < 0) return absl::InvalidArgumentError("steps must be >= 0");
  if (o.steps == 0 && o.epochs < 1) return absl::InvalidArgumentError("epochs must be >= 1");
  if (o.batch_size < 1) return absl::InvalidArgumentError("batch size must be >= 1");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) {
    return absl::InvalidArgumentError("learning rate must be > 0");
  }
  if (!(o.weight_decay >= 0) || !std::isfinite(o.weight_decay)) {
    return absl::InvalidArgumentError("weight decay must be >= 0");
  }
  if (!(o.min_learning_rate >= 0 && o.min_learning_rate <= o.learning_rate)) {
    return absl::InvalidArgumentError("min learning rate must be in [0, learning rate]");
  }
  if (!(o.momentum >= 0 && o.momentum < 1)) {
    return absl::InvalidArgumentError("momentum must be in [0, 1)");
  }
  if (o.warmup_steps < 0) return absl::InvalidArgumentError("warmup steps must be >= 0");
  if (!(o.label_smoothing >= 0 && o.label_smoothing < 1)) {
    return absl::InvalidArgumentError("label smoothing must be in [0, 1)");
  }
  if (o.progress_every < 1) return absl::InvalidArgumentError("progress interval must be >= 1");
  return absl::OkStatus();
}

// Warmup from 0, then the decay from the peak to the floor at the last step.
double LearningRate(const TrainOptions& o, int64_t step, int64_t total) {
  if (step < o.warmup_steps) return o.learning_rate * static_cast<double>(step + 1) / o.warmup_steps;
  const double t = std::min(1.0, static_cast<double>(step - o.warmup_steps) /
                                     static_cast<double>(std::max<int64_t>(1, total - o.warmup_steps)));
  double fraction = 1;  // of the way from the floor to the peak
  switch (o.decay) {
    case LrDecay::kConstant:
      return o.learning_rate;
    case LrDecay::kCosine:
      fraction = 0.5 * (1 + std::cos(std::numbers::pi * t));
      break;
    case LrDecay::kLinear:
      fraction = 1 - t;
      break;
  }
  return o.min_learning_rate + (o.learning_rate - o.min_learning_rate) * fraction;
}

// Random 2-pixel shifts (zero padding of the normalized image, i.e. the
// mean colour) and horizontal flips, per image.
at::Tensor Augment(const at::Tensor& x, at::Generator& gen) {
  constexpr int64_t kPad = 2;
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const at::Tensor padded = at::constant_pad_nd(x, {kPad, kPad, kPad, kPad}, 0.0);
  const at::Tensor offsets = at::randint(0, 2 * kPad + 1, {n, 2}, gen, at::kLong);
  const at::Tensor flips = at::randint(0, 2, {n}, gen, at::kLong);
  std::vector<at::Tensor> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t dy = offsets[i][0].item<int64_t>(), dx = offsets[i][1].item<int64_t>();
    at::Tensor img = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    if (flips[i].item<int64_t>() == 1) img = img.flip({2});
    out.push_back(img);
  }
  return at::stack(out);
}

// The optimizer over two parameter groups: weights, with weight decay, and
// biases, norms and embeddings, without.
std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(LoadedModel& model, const TrainOptions& o) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& item : model.module->named_parameters()) {
    const std::string& name = item.key();
    const bool embedding = name == "pos_embed" || name == "cls_token" || name == "dist_token";
    (item.value().dim() <= 1 || embedding ? no_decay : decay).push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (o.optimizer == Optimizer::kSgd) {
    auto options = [&o](double wd) {
      return std::make_unique<torch::optim::SGDOptions>(
          torch::optim::SGDOptions(o.learning_rate).momentum(o.momentum).weight_decay(wd));
    };
    groups.emplace_back(decay, options(o.weight_decay));
    groups.emplace_back(no_decay, options(0.0));
    return std::make_unique<torch::optim::SGD>(groups,
                                               torch::optim::SGDOptions(o.learning_rate));
  }
  auto options = [](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions().weight_decay(wd));
  };
  groups.emplace_back(decay, options(o.weight_decay));
  groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(groups,
                                               torch::optim::AdamWOptions(o.learning_rate));
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace

absl::Status Train(LoadedModel& model, const data::ImageSet& images,
                   std::span<const int64_t> indices, const TrainOptions& o) {
  if (absl::Status s = CheckOptions(o, indices.size()); !s.ok()) return s;
  if (absl::Status s = CheckImagesFitModel(images, model.description); !s.ok()) return s;
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t batch = std::min(o.batch_size, n);
  const at::Device device = ModelDevice(model);
  const int64_t steps_per_epoch = n / batch;
  const int64_t total = o.steps > 0 ? o.steps : steps_per_epoch * o.epochs;
  const int64_t epochs = (total + steps_per_epoch - 1) / steps_per_epoch;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const std::unique_ptr<torch::optim::Optimizer> optimizer = MakeOptimizer(model, o);
  const auto start = std::chrono::steady_clock::now();
  int64_t step = 0;
  absl::Status status;
  model.module->train();
  try {
    for (int64_t epoch = 0; epoch < epochs && status.ok(); ++epoch) {
      const at::Tensor order = at::randperm(n, gen, at::kLong);
      double loss_sum = 0, window_loss_sum = 0;
      int64_t correct = 0, seen = 0, window_correct = 0, window_seen = 0;
      for (int64_t s = 0; s < steps_per_epoch && step < total; ++s, ++step) {
        if (o.cancelled && o.cancelled()) {
          status = absl::CancelledError("training cancelled");
          break;
        }
        std::vector<int64_t> picked(static_cast<size_t>(batch));
        const int64_t* perm = order.data_ptr<int64_t>() + s * batch;
        for (int64_t i = 0; i < batch; ++i) picked[i] = indices[perm[i]];
        at::Tensor x = ImageBatch(images, picked, model.description);
        if (o.augment) x = Augment(x, gen);
        x = x.to(device);
        const at::Tensor labels = LabelBatch(images, picked).to(device);
        const double lr = LearningRate(o, step, total);
        SetLearningRate(*optimizer, lr);
        const at::Tensor logits = model.module->forward(x);
        const at::Tensor loss =
            at::cross_entropy_loss(logits, labels, {}, at::Reduction::Mean, -100, o.label_smoothing);
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
        const double batch_loss = loss.item<double>() * batch;
        const int64_t batch_correct = logits.argmax(1).eq(labels).sum().item<int64_t>();
        loss_sum += batch_loss;
        window_loss_sum += batch_loss;
        correct += batch_correct;
        window_correct += batch_correct;
        seen += batch;
        window_seen += batch;
        const bool epoch_done = s + 1 == steps_per_epoch || step + 1 == total;
        if (o.progress && ((step + 1) % o.progress_every == 0 || epoch_done)) {
          const double elapsed =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          TrainProgress p;
          p.epoch = epoch;
          p.epochs = epochs;
          p.step = step + 1;
          p.total_steps = total;
          p.loss = loss_sum / seen;
          p.accuracy = static_cast<double>(correct) / seen;
          p.window_loss = window_loss_sum / window_seen;
          p.window_accuracy = static_cast<double>(window_correct) / window_seen;
          p.learning_rate = lr;
          p.images_per_second = elapsed > 0 ? (step + 1) * batch / elapsed : 0;
          p.eta_seconds = elapsed / (step + 1) * (total - step - 1);
          p.epoch_done = epoch_done;
          o.progress(p);
          window_loss_sum = 0;
          window_correct = window_seen = 0;
        }
      }
    }
  } catch (const c10::Error& e) {
    status = absl::InvalidArgumentError(e.what_without_backtrace());
  }
  model.module->eval();
  return status;
}

}  // namespace transaxx::nn
