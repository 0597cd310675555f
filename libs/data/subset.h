// Deterministic subsets of an image set, as the indices of the images they
// keep, sorted ascending; the same arguments give the same subset on any
// machine.
//
// - Offset/limit: images [offset, offset + limit), limit 0 meaning "to the
//   end" (and clipped to it).
// - Stratified sample of n images, seeded: class k gets n * count_k / size
//   images, rounded down, and the images left over go one each to the
//   classes with the largest remainders (ties to the lower class index).
//   Within a class, the images are the first ones of a Fisher-Yates shuffle
//   of its indices (ascending), each swap partner drawn with UniformBelow
//   from one SplitMix64 seeded with `seed` that serves the classes in index
//   order (see random.h). So every class keeps its share of the set, exactly
//   up to rounding.
//
// Thread-safety: all functions are pure; concurrent calls are safe.
#ifndef TRANSAXX_LIBS_DATA_SUBSET_H_
#define TRANSAXX_LIBS_DATA_SUBSET_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/data/image_set.h"

namespace transaxx::data {

// The indices [offset, min(offset + limit, size)) (to size when limit is 0).
// INVALID_ARGUMENT for a negative argument or an offset beyond size.
absl::StatusOr<std::vector<int64_t>> OffsetLimitSubset(int64_t size, int64_t offset, int64_t limit);

// How many images of each class a stratified sample of n takes, given the
// classes' image counts (the rounding above). INVALID_ARGUMENT for a
// negative n or count, or n above the total.
absl::StatusOr<std::vector<int64_t>> StratifiedQuotas(std::span<const int64_t> class_counts,
                                                      int64_t n);

// A stratified sample of n of the images labelled `labels` (one label per
// image, in [0, num_classes)). INVALID_ARGUMENT for num_classes < 1, a label
// out of range (naming the image), a negative n or n above labels.size().
absl::StatusOr<std::vector<int64_t>> StratifiedSample(std::span<const int32_t> labels,
                                                      int32_t num_classes, int64_t n,
                                                      uint64_t seed);

// The images of `images` at `indices`, in that order, with the same
// dimensions, classes and normalization. INVALID_ARGUMENT naming the first
// index out of [0, images.size()).
absl::StatusOr<ImageSet> SelectImages(const ImageSet& images, std::span<const int64_t> indices);

}  // namespace transaxx::data

#endif  // TRANSAXX_LIBS_DATA_SUBSET_H_
