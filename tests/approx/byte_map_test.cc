#include "libs/approx/cpu/byte_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace transaxx::approx {
namespace {

constexpr ByteMapKernel kAllKernels[] = {ByteMapKernel::kScalar, ByteMapKernel::kAvx512};

std::string Name(ByteMapKernel kernel) {
  return kernel == ByteMapKernel::kScalar ? "scalar" : "avx512";
}

std::vector<ByteMapKernel> Kernels() {
  std::vector<ByteMapKernel> kernels;
  for (ByteMapKernel kernel : kAllKernels) {
    if (ByteMapKernelSupported(kernel)) kernels.push_back(kernel);
  }
  return kernels;
}

ByteMap RandomMap(std::mt19937& rng) {
  ByteMap map;
  for (uint8_t& v : map) v = static_cast<uint8_t>(rng());
  return map;
}

// Maps that tell the two halves, the four quarters and neighbours apart:
// random ones, the identity, its reverse, and one constant per quarter.
std::vector<ByteMap> Maps() {
  std::mt19937 rng(3);
  std::vector<ByteMap> maps = {RandomMap(rng), RandomMap(rng)};
  ByteMap identity, reverse, quarters;
  for (int i = 0; i < 256; ++i) {
    identity[i] = static_cast<uint8_t>(i);
    reverse[i] = static_cast<uint8_t>(255 - i);
    quarters[i] = static_cast<uint8_t>(1 + i / 64);
  }
  maps.insert(maps.end(), {identity, reverse, quarters});
  return maps;
}

// Every byte value, then random bytes: n of them, after one byte that is
// not among them, so that in + 1 starts them at an odd address.
std::vector<uint8_t> Input(int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> in(static_cast<size_t>(n) + 1);
  for (int64_t i = 0; i < n; ++i) in[i + 1] = static_cast<uint8_t>(i < 256 ? i : rng());
  return in;
}

// Outputs start kFront bytes into a buffer of guard bytes: at an odd address.
constexpr int64_t kFront = 65;

// Lengths around every vector width and tail, and a long one.
const std::vector<int64_t> kLengths = [] {
  std::vector<int64_t> lengths;
  for (int64_t n = 0; n <= 200; ++n) lengths.push_back(n);
  lengths.push_back(4099);
  return lengths;
}();

constexpr uint8_t kGuard = 0xa5;

TEST(ByteMapTest, MapBytesEqualsTheLookupOfEveryByte) {
  std::mt19937 rng(5);
  for (ByteMapKernel kernel : Kernels()) {
    for (const ByteMap& map : Maps()) {
      for (int64_t n : kLengths) {
        const std::vector<uint8_t> in = Input(n, rng);
        // Guard bytes on both sides of the output, which must stay as they are.
        std::vector<uint8_t> out(static_cast<size_t>(n + 2 * kFront), kGuard);
        MapBytes(map, in.data() + 1, n, out.data() + kFront, kernel);
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(out[kFront + i], map[in[1 + i]]) << Name(kernel) << " n=" << n << " i=" << i;
        }
        for (int64_t i = 0; i < kFront; ++i) {
          ASSERT_EQ(out[i], kGuard) << Name(kernel) << " n=" << n;
          ASSERT_EQ(out[kFront + n + i], kGuard) << Name(kernel) << " n=" << n;
        }
      }
    }
  }
}

TEST(ByteMapTest, MapBytesInterleavedEqualsTheLookupsOfEveryByte) {
  std::mt19937 rng(7);
  const std::vector<ByteMap> maps = Maps();
  for (ByteMapKernel kernel : Kernels()) {
    for (size_t f = 0; f < maps.size(); ++f) {
      const ByteMap& first = maps[f];
      const ByteMap& second = maps[(f + 1) % maps.size()];
      for (int64_t n : kLengths) {
        const std::vector<uint8_t> in = Input(n, rng);
        std::vector<uint8_t> out(static_cast<size_t>(2 * n + 2 * kFront), kGuard);
        MapBytesInterleaved(first, second, in.data() + 1, n, out.data() + kFront, kernel);
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t byte = in[1 + i];
          ASSERT_EQ(out[kFront + 2 * i], first[byte]) << Name(kernel) << " n=" << n << " i=" << i;
          ASSERT_EQ(out[kFront + 2 * i + 1], second[byte]) << Name(kernel) << " n=" << n;
        }
        for (int64_t i = 0; i < kFront; ++i) {
          ASSERT_EQ(out[i], kGuard) << Name(kernel) << " n=" << n;
          ASSERT_EQ(out[kFront + 2 * n + i], kGuard) << Name(kernel) << " n=" << n;
        }
      }
    }
  }
}

TEST(ByteMapTest, TheBestKernelRunsHereAndTheMissingOnesAreNamed) {
  EXPECT_TRUE(ByteMapKernelSupported(BestByteMapKernel()));
  std::string missing;
  for (ByteMapKernel kernel : kAllKernels) {
    if (!ByteMapKernelSupported(kernel)) missing += " " + Name(kernel);
  }
  // Visible in the test log: what this CPU left untested.
  if (!missing.empty()) GTEST_SKIP() << "this CPU does not run:" << missing;
}

}  // namespace
}  // namespace transaxx::approx
