// Both u8·s8 layouts of the int8 terms against the reference GEMM, bit for
// bit, computed the way the kernels they are for compute them: without VNNI
// the products at depths 2i and 2i + 1 added in saturating int16, so a pair
// out of range shows as a wrong sum; with VNNI in plain int32. Every shared
// EvoApprox table, every default built-in and the constructed tables of
// gemm_test_inputs.h, on random and on extreme operands, with an odd K.
#include "libs/approx/u8s8_terms.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "libs/approx/builtin.h"
#include "libs/approx/reference_gemm.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

// Σ_g weight_g · Σ over the group's pairs of depths of the pair sums
// (saturated to int16 where `saturating_pairs`), less the offsets' shares,
// in wrapping uint32.
std::vector<int32_t> PairwiseGemm(const std::vector<U8S8Group>& groups,
                                  const std::vector<int8_t>& A, const std::vector<int8_t>& W,
                                  int64_t M, int64_t K, int64_t N, bool saturating_pairs) {
  const auto pair = [&](int32_t x, int32_t y) {
    return saturating_pairs ? std::clamp(x + y, int32_t{INT16_MIN}, int32_t{INT16_MAX}) : x + y;
  };
  std::vector<uint32_t> c(static_cast<size_t>(M * N), 0);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      for (const U8S8Group& g : groups) {
        // The product of term t at depth k (0 past the end: the odd K pad).
        auto product = [&](int t, int64_t k) -> int32_t {
          if (k >= K) return 0;
          const U8S8Term& term = g.terms[t];
          return term.u_map[static_cast<uint8_t>(A[m * K + k])] *
                 term.s_map[static_cast<uint8_t>(W[k * N + n])];
        };
        uint32_t sum = 0;
        for (const U8S8Run& run : g.runs) {
          if (run.second < 0) {
            for (int64_t k = 0; k < K; k += 2) {
              sum += pair(product(run.first, k), product(run.first, k + 1));
            }
          } else {
            for (int64_t k = 0; k < K; ++k) {
              sum += pair(product(run.first, k), product(run.second, k));
            }
          }
        }
        for (const U8S8Term& term : g.terms) {
          for (int64_t k = 0; k < K; ++k) {
            sum -= static_cast<uint32_t>(term.offset) *
                   static_cast<uint32_t>(term.s_map[static_cast<uint8_t>(W[k * N + n])]);
          }
        }
        c[m * N + n] += g.weight * sum;
      }
    }
  }
  return std::vector<int32_t>(c.begin(), c.end());
}

std::vector<U8S8Group> GroupsOf(const Multiplier& m, bool saturating_pairs = true) {
  const absl::StatusOr<Structure> s = AnalyzeStructure(m);
  EXPECT_TRUE(s.ok()) << m.id() << ": " << s.status();
  if (!s.ok() || s->path == KernelPath::kTable) return {};
  const absl::StatusOr<std::vector<Int8Term>> terms = Int8Terms(*s);
  EXPECT_TRUE(terms.ok()) << terms.status();
  return terms.ok() ? U8S8Groups(*terms, saturating_pairs) : std::vector<U8S8Group>{};
}

// Returns U8S8Slots of m's saturating layout (0 for the table path) after
// checking both layouts on random and extreme operands.
int64_t ExpectExact(const Multiplier& m) {
  const std::vector<U8S8Group> saturating = GroupsOf(m, true), plain = GroupsOf(m, false);
  if (saturating.empty()) return 0;
  std::mt19937 rng(5);
  const int64_t M = 4, K = 67, N = 7;
  const std::vector<std::vector<int8_t>> as = {
      RandomInt8(rng, M * K), std::vector<int8_t>(M * K, -128), std::vector<int8_t>(M * K, 127)};
  const std::vector<std::vector<int8_t>> ws = {
      RandomInt8(rng, K * N), std::vector<int8_t>(K * N, -128), std::vector<int8_t>(K * N, 127)};
  for (const auto& a : as) {
    for (const auto& w : ws) {
      std::vector<int32_t> expected(static_cast<size_t>(M * N));
      EXPECT_TRUE(ApproxGemmReference(m, a.data(), w.data(), expected.data(), M, K, N).ok());
      EXPECT_EQ(PairwiseGemm(saturating, a, w, M, K, N, true), expected) << m.id();
      EXPECT_EQ(PairwiseGemm(plain, a, w, M, K, N, false), expected) << m.id();
    }
  }
  return U8S8Slots(saturating);
}

TEST(U8S8TermsTest, EverySharedStructuredTableIsExact) {
  int structured = 0;
  for (const Multiplier& m : EvoApproxMultipliers()) {
    if (ExpectExact(m) > 0) ++structured;
  }
  EXPECT_GE(structured, 13);
}

TEST(U8S8TermsTest, EveryDefaultBuiltinAndConstructedTableIsExact) {
  for (const std::string& id : DefaultBuiltinIds()) ExpectExact(*MakeBuiltin(id));
  EXPECT_GT(ExpectExact(MultiDigitMultiplier()), 0);
  EXPECT_GT(ExpectExact(FoldingMultiplier()), 0);
}

// The costs the engine choice rests on (structured_gemm.h): a full-range
// a·b takes two runs with saturating pairs and one without, a masked one
// one run, and a low-rank table as many runs as it has int8 terms (with
// saturating pairs its product term takes a separable term along).
TEST(U8S8TermsTest, SlotsOfTheSharedTables) {
  // {saturating, plain}
  const std::map<std::string, std::pair<int64_t, int64_t>> expected = {
      {"evo:mul8s_1KV6", {2, 1}}, {"evo:mul8s_1KVM", {1, 1}}, {"evo:mul8s_1L2J", {1, 1}},
      {"evo:mul8s_1L12", {1, 1}}, {"evo:mul8s_1KV8", {3, 3}}, {"evo:mul8s_1KVA", {5, 5}},
      {"evo:mul8s_1KVP", {3, 3}}, {"evo:mul8s_1KX5", {4, 4}}, {"evo:mul8u_12KA", {2, 2}},
      {"evo:mul8u_2V0", {6, 6}}};
  int seen = 0;
  for (const Multiplier& m : EvoApproxMultipliers()) {
    const auto it = expected.find(m.id());
    if (it == expected.end()) continue;
    EXPECT_EQ(U8S8Slots(GroupsOf(m, true)), it->second.first) << m.id();
    EXPECT_EQ(U8S8Slots(GroupsOf(m, false)), it->second.second) << m.id();
    ++seen;
  }
  EXPECT_EQ(seen, static_cast<int>(expected.size()));
}

TEST(U8S8TermsTest, WithoutSaturationEveryTermRunsAloneUnshifted) {
  const std::vector<U8S8Group> exact = GroupsOf(*MakeBuiltin("exact"), false);
  ASSERT_EQ(exact.size(), 1u);
  EXPECT_FALSE(exact[0].saturating_pairs);
  EXPECT_TRUE(GroupsOf(*MakeBuiltin("exact"), true)[0].saturating_pairs);
  ASSERT_EQ(exact[0].runs.size(), 1u);
  EXPECT_LT(exact[0].runs[0].second, 0);
  EXPECT_EQ(exact[0].terms[0].offset, 128);
  // (a & ~3)·(b & ~1) keeps its maps: weight 1, a side from -128.
  const std::vector<U8S8Group> mask = GroupsOf(*MakeBuiltin("mask:a=3,b=1"), false);
  ASSERT_EQ(mask.size(), 1u);
  EXPECT_EQ(mask[0].weight, 1u);
  EXPECT_EQ(mask[0].terms[0].offset, 128);
}

TEST(U8S8TermsTest, MasksTakeTheirPowersOfTwoIntoTheWeight) {
  // (a & ~3)·(b & ~1) = 8 · (a >> 2)·(b >> 1): one run alone, weight 8.
  const std::vector<U8S8Group> groups = GroupsOf(*MakeBuiltin("mask:a=3,b=1"));
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].weight, 8u);
  ASSERT_EQ(groups[0].runs.size(), 1u);
  EXPECT_LT(groups[0].runs[0].second, 0);
  EXPECT_EQ(groups[0].terms[0].offset, 32);  // a >> 2 from -32
}

TEST(U8S8TermsTest, AFullProductWithoutPartnerIsInterleavedWithZeros) {
  const std::vector<U8S8Group> groups = GroupsOf(*MakeBuiltin("exact"));
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].runs.size(), 1u);
  const U8S8Run run = groups[0].runs[0];
  ASSERT_GE(run.second, 0);
  const U8S8Term& zeros = groups[0].terms[run.second];
  EXPECT_EQ(zeros.offset, 0);
  EXPECT_TRUE(std::all_of(zeros.u_map.begin(), zeros.u_map.end(), [](uint8_t v) { return v == 0; }));
  EXPECT_EQ(groups[0].terms[run.first].offset, 128);
}

TEST(U8S8TermsTest, RunsKeepPairsAligned) {
  for (const int64_t K : {0, 1, 2, 67, 384}) {
    EXPECT_EQ(U8S8RunDepth({0, -1}, K) % 2, 0) << K;
    EXPECT_GE(U8S8RunDepth({0, -1}, K), K);
    EXPECT_EQ(U8S8RunDepth({0, 1}, K), 2 * K);
  }
}

TEST(U8S8TermsTest, ZeroTermsAreLeftOut) {
  Int8Term zero_weight, zero_map;
  zero_weight.weight = 0;
  zero_weight.a_map.fill(5);
  zero_weight.b_map.fill(5);
  zero_map.b_map.fill(3);
  EXPECT_TRUE(U8S8Groups({zero_weight, zero_map}, true).empty());
  EXPECT_TRUE(U8S8Groups({zero_weight, zero_map}, false).empty());
}

}  // namespace
}  // namespace transaxx::approx
