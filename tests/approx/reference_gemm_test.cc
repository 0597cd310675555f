#include "libs/approx/reference_gemm.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "libs/approx/table_io.h"

namespace transaxx::approx {
namespace {

// A table as a file or a test defines it: raw entries, before the
// sign-magnitude mapping of unsigned tables.
struct RawTable {
  std::string name;
  Signedness signedness;
  Table entries;
};

RawTable ReadLut(const std::filesystem::path& path) {
  RawTable raw;
  raw.name = path.stem().string();
  raw.signedness = *SignednessFromEvoName(raw.name);
  absl::StatusOr<Table> table = ReadEvoApproxLut(path.string(), raw.signedness);
  EXPECT_TRUE(table.ok()) << table.status();
  if (table.ok()) raw.entries = *table;
  return raw;
}

std::vector<RawTable> EvoApproxTables() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(TRANSAXX_EVOAPPROX_DIR)) {
    if (entry.path().extension() == ".lut") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<RawTable> tables;
  for (const auto& path : paths) tables.push_back(ReadLut(path));
  return tables;
}

RawTable ExactRawTable(Signedness signedness) {
  return {"exact", signedness, ExactTable(signedness)};
}

RawTable RandomTable(uint32_t seed) {
  RawTable raw{"random:" + std::to_string(seed), Signedness::kSigned, {}};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(-(1 << 15), 1 << 15);
  for (int32_t& entry : raw.entries) entry = dist(rng);
  // The extremes appear for the extreme operands.
  raw.entries[TableIndex(-128, -128)] = 1 << 15;
  raw.entries[TableIndex(-128, 127)] = -(1 << 15);
  raw.entries[TableIndex(127, -128)] = 1 << 15;
  raw.entries[TableIndex(127, 127)] = -(1 << 15);
  return raw;
}

Multiplier Make(const RawTable& raw) {
  absl::StatusOr<Multiplier> multiplier = Multiplier::Create(raw.name, raw.signedness, raw.entries);
  EXPECT_TRUE(multiplier.ok()) << multiplier.status();
  return *std::move(multiplier);
}

// The table's product of the int8 values a (activation) and w (weight),
// straight from the raw entries: signed tables index by the operands'
// bytes; unsigned ones serve int8 through sign-magnitude.
int64_t Product(const RawTable& raw, int a, int w) {
  if (raw.signedness == Signedness::kSigned) {
    return raw.entries[static_cast<uint8_t>(a) * 256 + static_cast<uint8_t>(w)];
  }
  const int64_t magnitude = raw.entries[std::abs(a) * 256 + std::abs(w)];
  return (a < 0) != (w < 0) ? -magnitude : magnitude;
}

// The naive triple loop, with a 64-bit sum that must fit in int32.
std::vector<int32_t> NaiveGemm(const RawTable& raw, const std::vector<int8_t>& a,
                               const std::vector<int8_t>& w, int64_t m_size, int64_t k_size,
                               int64_t n_size) {
  std::vector<int32_t> c(m_size * n_size);
  for (int64_t m = 0; m < m_size; ++m) {
    for (int64_t n = 0; n < n_size; ++n) {
      int64_t sum = 0;
      for (int64_t k = 0; k < k_size; ++k) {
        sum += Product(raw, a[m * k_size + k], w[k * n_size + n]);
      }
      EXPECT_GE(sum, std::numeric_limits<int32_t>::min());
      EXPECT_LE(sum, std::numeric_limits<int32_t>::max());
      c[m * n_size + n] = static_cast<int32_t>(sum);
    }
  }
  return c;
}

std::vector<int32_t> Gemm(const Multiplier& multiplier, const std::vector<int8_t>& a,
                          const std::vector<int8_t>& w, int64_t m, int64_t k, int64_t n) {
  std::vector<int32_t> c(m * n, 0x5a5a5a5a);
  const absl::Status status =
      ApproxGemmReference(multiplier, a.data(), w.data(), c.data(), m, k, n);
  EXPECT_TRUE(status.ok()) << status;
  return c;
}

struct Shape {
  int64_t m, k, n;
};
constexpr Shape kShapes[] = {{1, 1, 1}, {3, 5, 7}, {8, 64, 16}, {33, 17, 5},
                             {0, 4, 3}, {4, 0, 3}, {4, 3, 0}};

// Operand sets: random bytes, only the edge values, and constant extremes.
std::vector<std::vector<int8_t>> Operands(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  constexpr int8_t kEdges[] = {0, 1, -1, 127, -127, -128};
  std::uniform_int_distribution<int> edge(0, std::size(kEdges) - 1);
  std::vector<int8_t> random(size), edges(size);
  for (auto& v : random) v = static_cast<int8_t>(byte(rng));
  for (auto& v : edges) v = kEdges[edge(rng)];
  return {random,
          edges,
          std::vector<int8_t>(size, -128),
          std::vector<int8_t>(size, 127),
          std::vector<int8_t>(size, -127),
          std::vector<int8_t>(size, 0)};
}

// Every shape, every operand set (A and W drawn independently): the GEMM
// equals the naive loop bit for bit.
void ExpectMatchesNaiveLoop(const RawTable& raw) {
  const Multiplier multiplier = Make(raw);
  uint32_t seed = 1;
  for (const Shape& s : kShapes) {
    const auto a_sets = Operands(s.m * s.k, seed++);
    const auto w_sets = Operands(s.k * s.n, seed++);
    for (size_t i = 0; i < a_sets.size(); ++i) {
      for (size_t j = 0; j < w_sets.size(); ++j) {
        ASSERT_EQ(Gemm(multiplier, a_sets[i], w_sets[j], s.m, s.k, s.n),
                  NaiveGemm(raw, a_sets[i], w_sets[j], s.m, s.k, s.n))
            << raw.name << " M=" << s.m << " K=" << s.k << " N=" << s.n << " A set " << i
            << " W set " << j;
      }
    }
  }
}

TEST(ReferenceGemmTest, HandComputedAsymmetricTable) {
  // T(a, b) = 1000 a + b tells the operands apart:
  // A = [[1, 2], [-1, 0]], W = [[3, -4], [5, 6]].
  RawTable raw{"asym", Signedness::kSigned, {}};
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) raw.entries[TableIndex(a, b)] = 1000 * a + b;
  }
  const std::vector<int8_t> a = {1, 2, -1, 0};
  const std::vector<int8_t> w = {3, -4, 5, 6};
  EXPECT_EQ(Gemm(Make(raw), a, w, 2, 2, 2),
            (std::vector<int32_t>{(1000 + 3) + (2000 + 5), (1000 - 4) + (2000 + 6),
                                  (-1000 + 3) + (0 + 5), (-1000 - 4) + (0 + 6)}));
}

TEST(ReferenceGemmTest, ExactTableIsThePlainIntegerGemm) {
  for (Signedness signedness : {Signedness::kSigned, Signedness::kUnsigned}) {
    const Multiplier exact = Make(ExactRawTable(signedness));
    uint32_t seed = 100;
    for (const Shape& s : kShapes) {
      for (const auto& a : Operands(s.m * s.k, seed++)) {
        for (const auto& w : Operands(s.k * s.n, seed++)) {
          std::vector<int32_t> plain(s.m * s.n, 0);
          for (int64_t m = 0; m < s.m; ++m) {
            for (int64_t n = 0; n < s.n; ++n) {
              for (int64_t k = 0; k < s.k; ++k) {
                plain[m * s.n + n] += a[m * s.k + k] * w[k * s.n + n];
              }
            }
          }
          ASSERT_EQ(Gemm(exact, a, w, s.m, s.k, s.n), plain);
        }
      }
    }
  }
}

TEST(ReferenceGemmTest, MatchesNaiveLoopForExactTables) {
  ExpectMatchesNaiveLoop(ExactRawTable(Signedness::kSigned));
  ExpectMatchesNaiveLoop(ExactRawTable(Signedness::kUnsigned));
}

TEST(ReferenceGemmTest, MatchesNaiveLoopForRandomTables) {
  for (uint32_t seed : {11u, 12u, 13u}) ExpectMatchesNaiveLoop(RandomTable(seed));
}

TEST(ReferenceGemmTest, MatchesNaiveLoopForEveryEvoApproxTable) {
  const std::vector<RawTable> tables = EvoApproxTables();
  ASSERT_EQ(tables.size(), 19u) << "in " << TRANSAXX_EVOAPPROX_DIR;
  for (const RawTable& raw : tables) ExpectMatchesNaiveLoop(raw);
}

TEST(ReferenceGemmTest, EvoApproxExactCircuitsAreThePlainGemm) {
  // mul8s_1KV6 and mul8u_1JJQ are the exact circuits of the release.
  for (const RawTable& raw : EvoApproxTables()) {
    if (raw.name != "mul8s_1KV6" && raw.name != "mul8u_1JJQ") continue;
    const auto a = Operands(40 * 30, 5)[0];
    const auto w = Operands(30 * 20, 6)[0];
    EXPECT_EQ(Gemm(Make(raw), a, w, 40, 30, 20),
              Gemm(Make(ExactRawTable(Signedness::kSigned)), a, w, 40, 30, 20))
        << raw.name;
  }
}

TEST(ReferenceGemmTest, ResultDoesNotDependOnThreadCount) {
  const Multiplier multiplier = Make(RandomTable(21));
  const auto a = Operands(97 * 31, 1)[0];
  const auto w = Operands(31 * 13, 2)[0];
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<int32_t> one = Gemm(multiplier, a, w, 97, 31, 13);
  omp_set_num_threads(3);
  const std::vector<int32_t> three = Gemm(multiplier, a, w, 97, 31, 13);
  omp_set_num_threads(threads);
  EXPECT_EQ(one, three);
}

TEST(ReferenceGemmTest, AccumulationDepthFollowsTheTableExtremes) {
  EXPECT_EQ(MaxAccumulationDepth(Make(ExactRawTable(Signedness::kSigned))), 131071);
  for (const RawTable& raw : EvoApproxTables()) {
    EXPECT_GE(MaxAccumulationDepth(Make(raw)), 65536) << raw.name;
  }
  RawTable zeros{"zeros", Signedness::kSigned, {}};
  EXPECT_EQ(MaxAccumulationDepth(Make(zeros)), std::numeric_limits<int64_t>::max());
}

TEST(ReferenceGemmTest, SixteenBitEntriesAccumulateOverTwoToTheSixteenWithoutOverflow) {
  constexpr int64_t kDepth = 1 << 16;
  const std::vector<int8_t> a(kDepth, -128), w(kDepth, 127);
  RawTable high{"high", Signedness::kSigned, {}};
  high.entries.fill(32767);
  EXPECT_EQ(Gemm(Make(high), a, w, 1, kDepth, 1),
            std::vector<int32_t>{static_cast<int32_t>(kDepth * 32767)});
  RawTable low{"low", Signedness::kSigned, {}};
  low.entries.fill(-32768);
  EXPECT_EQ(Gemm(Make(low), a, w, 1, kDepth, 1),
            std::vector<int32_t>{std::numeric_limits<int32_t>::min()});
}

TEST(ReferenceGemmTest, DepthThatCouldOverflowIsRefused) {
  RawTable raw{"big", Signedness::kSigned, {}};
  raw.entries[TableIndex(3, 4)] = 1 << 15;  // one entry of 2^15
  const Multiplier multiplier = Make(raw);
  EXPECT_EQ(MaxAccumulationDepth(multiplier), 65535);
  const std::vector<int8_t> a(1 << 16, 3), w(1 << 16, 4);
  std::vector<int32_t> c = {7};
  EXPECT_EQ(ApproxGemmReference(multiplier, a.data(), w.data(), c.data(), 1, 1 << 16, 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c, std::vector<int32_t>{7});
  ASSERT_TRUE(ApproxGemmReference(multiplier, a.data(), w.data(), c.data(), 1, 65535, 1).ok());
  EXPECT_EQ(c, std::vector<int32_t>{65535 * 32768});
}

TEST(ReferenceGemmTest, BadArgumentsAreRefused) {
  const Multiplier exact = Make(ExactRawTable(Signedness::kSigned));
  const std::vector<int8_t> a(4, 1), w(4, 1);
  std::vector<int32_t> c(4, 7);
  EXPECT_EQ(ApproxGemmReference(exact, a.data(), w.data(), c.data(), -1, 2, 2).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApproxGemmReference(exact, a.data(), w.data(), c.data(), 2, -2, 2).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApproxGemmReference(exact, nullptr, w.data(), c.data(), 2, 2, 2).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApproxGemmReference(exact, a.data(), nullptr, c.data(), 2, 2, 2).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApproxGemmReference(exact, a.data(), w.data(), nullptr, 2, 2, 2).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c, std::vector<int32_t>(4, 7));
  // Empty matrices need no storage.
  EXPECT_TRUE(ApproxGemmReference(exact, nullptr, nullptr, nullptr, 0, 0, 0).ok());
}

}  // namespace
}  // namespace transaxx::approx
