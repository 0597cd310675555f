// Images of a data::ImageSet as the float input a model expects:
// [n, channels, height, width], (pixel / 255 - mean[c]) / std[c], using the
// model's normalization (model_dir.h), not the dataset's.
//
// Thread-safety: pure function.
#ifndef TRANSAXX_LIBS_NN_IMAGE_BATCH_H_
#define TRANSAXX_LIBS_NN_IMAGE_BATCH_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "libs/data/image_set.h"
#include "libs/nn/model_dir.h"

namespace transaxx::nn {

// OK when the images have the model's channels and size; otherwise
// FAILED_PRECONDITION saying both.
absl::Status CheckImagesFitModel(const data::ImageSet& images, const ModelDescription& model);

// REQUIRES: CheckImagesFitModel is OK; every index in [0, images.size()).
at::Tensor ImageBatch(const data::ImageSet& images, std::span<const int64_t> indices,
                      const ModelDescription& model);

// The labels of `indices` as int64 [n].
at::Tensor LabelBatch(const data::ImageSet& images, std::span<const int64_t> indices);

}  // namespace transaxx::nn

#endif  // TRANSAXX_LIBS_NN_IMAGE_BATCH_H_
