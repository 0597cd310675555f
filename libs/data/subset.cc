#include "libs/data/subset.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/strings/str_format.h"
#include "libs/data/random.h"

namespace transaxx::data {

absl::StatusOr<std::vector<int64_t>> OffsetLimitSubset(int64_t size, int64_t offset,
                                                       int64_t limit) {
  if (size < 0 || offset < 0 || limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("size %d, offset %d, limit %d: none may be negative", size, offset, limit));
  }
  if (offset > size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "offset %d is beyond the end of the %d images; it must be in [0, %d]", offset, size, size));
  }
  const int64_t end = limit == 0 ? size : std::min(size, offset + std::min(limit, size));
  std::vector<int64_t> indices(static_cast<size_t>(end - offset));
  std::iota(indices.begin(), indices.end(), offset);
  return indices;
}

absl::StatusOr<std::vector<int64_t>> StratifiedQuotas(std::span<const int64_t> class_counts,
                                                      int64_t n) {
  int64_t total = 0;
  for (size_t k = 0; k < class_counts.size(); ++k) {
    if (class_counts[k] < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("class %d has a negative count, %d", k, class_counts[k]));
    }
    total += class_counts[k];
  }
  if (n < 0 || n > total) {
    return absl::InvalidArgumentError(
        absl::StrFormat("a sample of %d images from %d: it must be in [0, %d]", n, total, total));
  }
  std::vector<int64_t> quotas(class_counts.size(), 0);
  if (n == 0) return quotas;                           // also when total is 0
  std::vector<std::pair<int64_t, size_t>> remainders;  // (-remainder, class): sorts as wanted
  int64_t left = n;
  for (size_t k = 0; k < class_counts.size(); ++k) {
    // n * count fits in 128 bits whatever the sizes.
    const unsigned __int128 share =
        static_cast<unsigned __int128>(n) * static_cast<unsigned __int128>(class_counts[k]);
    quotas[k] = static_cast<int64_t>(share / static_cast<unsigned __int128>(total));
    remainders.emplace_back(-static_cast<int64_t>(share % static_cast<unsigned __int128>(total)),
                            k);
    left -= quotas[k];
  }
  std::sort(remainders.begin(), remainders.end());
  for (int64_t i = 0; i < left; ++i) ++quotas[remainders[static_cast<size_t>(i)].second];
  return quotas;
}

absl::StatusOr<std::vector<int64_t>> StratifiedSample(std::span<const int32_t> labels,
                                                      int32_t num_classes, int64_t n,
                                                      uint64_t seed) {
  if (num_classes < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("num_classes is %d; it must be at least 1", num_classes));
  }
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("label %d of image %d is outside [0, %d)", labels[i], i, num_classes));
    }
    members[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }
  std::vector<int64_t> counts;
  for (const std::vector<int64_t>& m : members) counts.push_back(static_cast<int64_t>(m.size()));
  absl::StatusOr<std::vector<int64_t>> quotas = StratifiedQuotas(counts, n);
  if (!quotas.ok()) return quotas.status();

  SplitMix64 rng(seed);
  std::vector<int64_t> sample;
  sample.reserve(static_cast<size_t>(n));
  for (size_t k = 0; k < members.size(); ++k) {
    std::vector<int64_t>& m = members[k];
    const auto take = static_cast<size_t>((*quotas)[k]);
    for (size_t i = 0; i < take; ++i) {
      std::swap(m[i], m[i + UniformBelow(rng, m.size() - i)]);
    }
    sample.insert(sample.end(), m.begin(), m.begin() + static_cast<ptrdiff_t>(take));
  }
  std::sort(sample.begin(), sample.end());
  return sample;
}

absl::StatusOr<ImageSet> SelectImages(const ImageSet& images, std::span<const int64_t> indices) {
  ImageSet subset;
  subset.channels = images.channels;
  subset.height = images.height;
  subset.width = images.width;
  subset.num_classes = images.num_classes;
  subset.class_names = images.class_names;
  subset.mean = images.mean;
  subset.std = images.std;
  subset.labels.reserve(indices.size());
  subset.pixels.reserve(indices.size() * static_cast<size_t>(images.image_bytes()));
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= images.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("index %d (entry %d of the subset) is outside the %d images", indices[i],
                          i, images.size()));
    }
    subset.labels.push_back(images.labels[static_cast<size_t>(indices[i])]);
    const std::span<const uint8_t> image = images.image(indices[i]);
    subset.pixels.insert(subset.pixels.end(), image.begin(), image.end());
  }
  return subset;
}

}  // namespace transaxx::data
