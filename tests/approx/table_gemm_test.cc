// The SIMD table kernel against the reference, bit for bit, for every
// shared EvoApprox table (signed, and unsigned through sign-magnitude) and a
// random table, in every kernel variant this CPU runs, on shapes that
// exercise full register blocks and every tail.
#include "libs/approx/cpu/table_gemm.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "libs/approx/reference_gemm.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

// The shared tables, and random tables in three ranges: int16 with both of
// its extremes (the expanded kernels' int16 entries), one value beyond them
// at each end, and ±2^21 (its int32 entries).
std::vector<Multiplier> Multipliers() {
  std::vector<Multiplier> out = EvoApproxMultipliers();
  std::mt19937 rng(5);
  for (int32_t limit : {INT16_MAX, 1 << 15, 1 << 21}) {
    std::uniform_int_distribution<int32_t> entry(-limit - 1, limit);
    Table random;
    for (int32_t& v : random) v = entry(rng);
    random[TableIndex(-128, -128)] = limit;
    random[TableIndex(127, -128)] = -limit - 1;
    out.push_back(*Multiplier::Create(absl::StrCat("random-", limit), Signedness::kSigned, random));
  }
  return out;
}

constexpr TableKernel kAllKernels[] = {TableKernel::kScalar, TableKernel::kAvx2,
                                       TableKernel::kAvx512};

// Every variant this CPU runs (SupportedKernelsAreTestedAndTheOthersRefused
// names those it does not).
std::vector<TableKernel> Kernels() {
  std::vector<TableKernel> kernels;
  for (TableKernel kernel : kAllKernels) {
    if (TableKernelSupported(kernel)) kernels.push_back(kernel);
  }
  return kernels;
}

void ExpectSame(const Multiplier& m, TableKernel kernel, const std::vector<int8_t>& a,
                const std::vector<int8_t>& w, int64_t M, int64_t K, int64_t N) {
  std::vector<int32_t> expected(static_cast<size_t>(M * N)), got(static_cast<size_t>(M * N), 7);
  ASSERT_TRUE(ApproxGemmReference(m, a.data(), w.data(), expected.data(), M, K, N).ok());
  ASSERT_TRUE(ApproxGemmTable(m, a.data(), w.data(), got.data(), M, K, N, kernel).ok());
  EXPECT_EQ(got, expected) << m.id() << " " << TableKernelName(kernel) << " M=" << M << " K=" << K
                           << " N=" << N;
}

// Shapes with every column tail and a depth tail of the expanded kernels'
// 32-column and 4- or 8-deep blocks (K = 37 is nine full 4-deep blocks and a
// tail of 1, or four 8-deep blocks and a tail of 5: an odd tail leaves the
// avx512 kernel's last pair of k half empty), in both of their
// orientations: a tall A (M >= N) shares the expanded blocks of W's columns
// among A's rows, a wide W (N > M) is computed transposed. The avx512
// kernel takes its expanded form when the other side is kDirectBelow long,
// its direct form on the short shapes, and there every tail of its 64-column
// chunks and groups of up to four chunks.
TEST(TableGemmTest, EqualsTheReferenceOnEveryTableShapeAndKernel) {
  static_assert(kDirectBelow == 512, "the shapes below straddle the avx512 forms' limit");
  std::mt19937 rng(1);
  const std::vector<Multiplier> multipliers = Multipliers();
  ASSERT_EQ(multipliers.size(), 22u);
  for (const Multiplier& m : multipliers) {
    for (TableKernel kernel : Kernels()) {
      const int64_t K = 37;
      for (int64_t n : {1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 136}) {
        for (int64_t other : {int64_t{3}, kDirectBelow}) {
          ExpectSame(m, kernel, RandomInt8(rng, other * K), RandomInt8(rng, K * n), other, K, n);
          ExpectSame(m, kernel, RandomInt8(rng, n * K), RandomInt8(rng, K * other), n, K, other);
        }
      }
      for (int64_t n : {191, 255, 256, 257, 449, 511}) {
        ExpectSame(m, kernel, RandomInt8(rng, 2 * K), RandomInt8(rng, K * n), 2, K, n);
      }
      for (auto [M, K, N] : {std::tuple<int64_t, int64_t, int64_t>{97, 45, 70},
                             {70, 45, 97},
                             {64, 8, 64},
                             {1, 300, 33},
                             {511, 5, 511},
                             {45, 9, 515}}) {
        ExpectSame(m, kernel, RandomInt8(rng, M * K), RandomInt8(rng, K * N), M, K, N);
      }
    }
  }
}

TEST(TableGemmTest, Avx512FormIsDirectBelowTheLimitOnBothSides) {
  EXPECT_EQ(Avx512FormFor(0, 0), Avx512Form::kDirect);
  EXPECT_EQ(Avx512FormFor(197, 384), Avx512Form::kDirect);
  EXPECT_EQ(Avx512FormFor(kDirectBelow - 1, kDirectBelow - 1), Avx512Form::kDirect);
  EXPECT_EQ(Avx512FormFor(kDirectBelow, 1), Avx512Form::kExpanded);
  EXPECT_EQ(Avx512FormFor(1, kDirectBelow), Avx512Form::kExpanded);
  EXPECT_EQ(Avx512FormFor(12608, 384), Avx512Form::kExpanded);
}

// Every depth of a block's tail, 1 to 9 (the avx512 kernel pairs values of
// k, so odd depths leave a pair's second k empty), in both orientations and
// both avx512 forms.
TEST(TableGemmTest, EveryShallowDepth) {
  std::mt19937 rng(3);
  for (const Multiplier& m : Multipliers()) {
    for (TableKernel kernel : Kernels()) {
      for (int64_t K = 1; K <= 9; ++K) {
        for (int64_t rows : {int64_t{40}, kDirectBelow}) {
          ExpectSame(m, kernel, RandomInt8(rng, rows * K), RandomInt8(rng, K * 33), rows, K, 33);
          ExpectSame(m, kernel, RandomInt8(rng, 33 * K), RandomInt8(rng, K * rows), 33, K, rows);
        }
      }
    }
  }
}

TEST(TableGemmTest, ExpandedEntriesAreInt16ForEveryProductTableAndInt32RunOnAvx2) {
  for (const Multiplier& m : Multipliers()) {
    const bool int32 = m.id().rfind("random-", 0) == 0 && m.id() != "random-32767";
    EXPECT_EQ(ExpandedEntryBits(m), int32 ? 32 : 16) << m.id();
    EXPECT_EQ(TableKernelFor(m, TableKernel::kAvx512),
              int32 ? TableKernel::kAvx2 : TableKernel::kAvx512)
        << m.id();
    EXPECT_EQ(TableKernelFor(m, TableKernel::kAvx2), TableKernel::kAvx2);
    EXPECT_EQ(TableKernelFor(m, TableKernel::kScalar), TableKernel::kScalar);
  }
}

TEST(TableGemmTest, ExtremeOperandsAndDeepSums) {
  for (const Multiplier& m : Multipliers()) {
    for (TableKernel kernel : Kernels()) {
      for (int8_t av : {int8_t{-128}, int8_t{127}, int8_t{-1}}) {
        for (int8_t wv : {int8_t{-128}, int8_t{127}}) {
          // 3000, or as deep as the widest table allows (1023), in both
          // avx512 forms: kDirectBelow rows of A take the expanded one (a
          // wide W would leave a single row of A to the direct form).
          const int64_t K = std::min<int64_t>(3000, MaxAccumulationDepth(m));
          for (auto [M, N] : {std::pair<int64_t, int64_t>{2, 72}, {kDirectBelow, 1}}) {
            ExpectSame(m, kernel, std::vector<int8_t>(M * K, av), std::vector<int8_t>(K * N, wv), M,
                       K, N);
          }
        }
      }
    }
  }
}

TEST(TableGemmTest, SupportedKernelsAreTestedAndTheOthersRefused) {
  EXPECT_TRUE(TableKernelSupported(BestTableKernel()));
  const Multiplier m = Multipliers().front();
  const std::vector<int8_t> a(4, 1);
  std::vector<int32_t> c(4);
  std::string missing;
  for (TableKernel kernel : kAllKernels) {
    if (TableKernelSupported(kernel)) continue;
    const absl::Status s = ApproxGemmTable(m, a.data(), a.data(), c.data(), 2, 2, 2, kernel);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_THAT(s.message(), ::testing::HasSubstr(TableKernelName(kernel)));
    absl::StrAppend(&missing, " ", TableKernelName(kernel));
  }
  // Visible in the test log: what this CPU left untested.
  if (!missing.empty()) GTEST_SKIP() << "this CPU does not run:" << missing;
}

TEST(TableGemmTest, EmptyMatricesAndErrorsAsTheReference) {
  const Multiplier m = Multipliers().front();
  for (TableKernel kernel : Kernels()) {
    std::vector<int32_t> c(6, 9);
    const std::vector<int8_t> w(12, 1);
    // K = 0: every sum is empty, so C is zero.
    EXPECT_TRUE(ApproxGemmTable(m, nullptr, w.data(), c.data(), 2, 0, 3, kernel).ok());
    EXPECT_THAT(c, ::testing::Each(0));
    EXPECT_TRUE(ApproxGemmTable(m, nullptr, nullptr, nullptr, 0, 0, 0, kernel).ok());
    // M = 0 or N = 0 with K > 0: empty A or W and C, null pointers.
    EXPECT_TRUE(ApproxGemmTable(m, nullptr, w.data(), nullptr, 0, 4, 3, kernel).ok());
    EXPECT_TRUE(ApproxGemmTable(m, w.data(), nullptr, nullptr, 3, 4, 0, kernel).ok());
    const absl::Status negative = ApproxGemmTable(m, nullptr, nullptr, nullptr, -1, 2, 2, kernel);
    EXPECT_EQ(negative, ApproxGemmReference(m, nullptr, nullptr, nullptr, -1, 2, 2));
    EXPECT_EQ(negative.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ApproxGemmTable(m, nullptr, w.data(), c.data(), 2, 3, 2, kernel).code(),
              absl::StatusCode::kInvalidArgument);
    const int64_t too_deep = MaxAccumulationDepth(m) + 1;
    EXPECT_EQ(ApproxGemmTable(m, w.data(), w.data(), c.data(), 0, too_deep, 0, kernel).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace transaxx::approx
