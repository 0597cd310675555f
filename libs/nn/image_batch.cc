#include "libs/nn/image_batch.h"

#include <ATen/ATen.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace transaxx::nn {

absl::Status CheckImagesFitModel(const data::ImageSet& images, const ModelDescription& model) {
  const VitConfig& c = model.architecture;
  if (images.channels != c.in_chans || images.height != c.img_size || images.width != c.img_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the dataset's images are ", images.channels, "x", images.height, "x", images.width,
        " (channels x height x width), the model takes ", c.in_chans, "x", c.img_size, "x",
        c.img_size));
  }
  return absl::OkStatus();
}

at::Tensor ImageBatch(const data::ImageSet& images, std::span<const int64_t> indices,
                      const ModelDescription& model) {
  const int64_t n = static_cast<int64_t>(indices.size());
  at::Tensor bytes = at::empty({n, images.channels, images.height, images.width}, at::kByte);
  uint8_t* out = bytes.data_ptr<uint8_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * images.image_bytes(), images.image(indices[i]).data(),
                static_cast<size_t>(images.image_bytes()));
  }
  const at::Tensor mean = at::tensor(at::ArrayRef<float>(model.mean)).view({1, -1, 1, 1});
  const at::Tensor std = at::tensor(at::ArrayRef<float>(model.std)).view({1, -1, 1, 1});
  return (bytes.to(at::kFloat).div_(255.0f) - mean) / std;
}

at::Tensor LabelBatch(const data::ImageSet& images, std::span<const int64_t> indices) {
  at::Tensor labels = at::empty({static_cast<int64_t>(indices.size())}, at::kLong);
  for (size_t i = 0; i < indices.size(); ++i) {
    labels.data_ptr<int64_t>()[i] = images.labels[static_cast<size_t>(indices[i])];
  }
  return labels;
}

}  // namespace transaxx::nn
