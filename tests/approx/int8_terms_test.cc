// The int8 term form of structured multipliers (the algorithm of the GPU's
// tensor-core path) evaluated on the CPU, against the reference GEMM bit for
// bit: every shared EvoApprox table, every default built-in, and constructed
// tables whose coefficients need several base-128 digits.
#include "libs/approx/int8_terms.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/approx/builtin.h"
#include "libs/approx/reference_gemm.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

// Σ_t weight_t · (a_map_t(A) · b_map_t(W)) in wrapping uint32, as the GPU
// executor combines its int8 GEMMs.
std::vector<int32_t> TermGemm(const std::vector<Int8Term>& terms, const std::vector<int8_t>& A,
                              const std::vector<int8_t>& W, int64_t M, int64_t K, int64_t N) {
  std::vector<uint32_t> c(static_cast<size_t>(M * N), 0);
  for (const Int8Term& t : terms) {
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        int32_t sum = 0;
        for (int64_t k = 0; k < K; ++k) {
          sum += t.a_map[static_cast<uint8_t>(A[m * K + k])] *
                 t.b_map[static_cast<uint8_t>(W[k * N + n])];
        }
        c[m * N + n] += t.weight * static_cast<uint32_t>(sum);
      }
    }
  }
  return std::vector<int32_t>(c.begin(), c.end());
}

// Returns the number of terms of `s` (m's structure); checks random
// operands and the extremes.
size_t ExpectExact(const Multiplier& m, const Structure& s) {
  if (s.path == KernelPath::kTable) return 0;
  absl::StatusOr<std::vector<Int8Term>> terms = Int8Terms(s);
  EXPECT_TRUE(terms.ok()) << terms.status();
  if (!terms.ok()) return 0;
  std::mt19937 rng(3);
  const int64_t M = 5, K = 67, N = 9;
  std::vector<std::vector<int8_t>> as = {RandomInt8(rng, M * K), std::vector<int8_t>(M * K, -128),
                                         std::vector<int8_t>(M * K, 127)};
  std::vector<std::vector<int8_t>> ws = {RandomInt8(rng, K * N), std::vector<int8_t>(K * N, -128),
                                         std::vector<int8_t>(K * N, -1)};
  for (const auto& a : as) {
    for (const auto& w : ws) {
      std::vector<int32_t> expected(static_cast<size_t>(M * N));
      EXPECT_TRUE(ApproxGemmReference(m, a.data(), w.data(), expected.data(), M, K, N).ok());
      EXPECT_EQ(TermGemm(*terms, a, w, M, K, N), expected) << m.id();
    }
  }
  return terms->size();
}

size_t ExpectExact(const Multiplier& m) {
  absl::StatusOr<Structure> s = AnalyzeStructure(m);
  EXPECT_TRUE(s.ok()) << m.id() << ": " << s.status();
  return s.ok() ? ExpectExact(m, *s) : 0;
}

TEST(Int8TermsTest, EverySharedStructuredTableIsExact) {
  int structured = 0;
  for (const Multiplier& m : EvoApproxMultipliers()) {
    if (ExpectExact(m) > 0) ++structured;
  }
  // The 13 signed tables at least; unsigned ones are mostly table-path.
  EXPECT_GE(structured, 13);
}

TEST(Int8TermsTest, EveryDefaultBuiltinIsExact) {
  for (const std::string& id : DefaultBuiltinIds()) ExpectExact(*MakeBuiltin(id));
}

TEST(Int8TermsTest, ExactAndMaskAreOneTerm) {
  EXPECT_EQ(ExpectExact(*MakeBuiltin("exact")), 1u);
  EXPECT_EQ(ExpectExact(*MakeBuiltin("mask:a=3,b=7")), 1u);
}

TEST(Int8TermsTest, LargeCoefficientsBecomeSeveralDigitTerms) {
  EXPECT_GT(ExpectExact(MultiDigitMultiplier()), 2u);
}

// Factors that reach +128 are negated into int8 rather than split into
// digits: every shared signed table is one group of weight-1 terms, rank + 1
// of them (the identity term and one per separable term), or rank where a·b
// folds into the separable terms.
TEST(Int8TermsTest, FactorsReachingPlus128AreNegatedNotSplit) {
  for (const Multiplier& m : EvoApproxMultipliers()) {
    if (m.signedness() != Signedness::kSigned) continue;
    const absl::StatusOr<Structure> s = AnalyzeStructure(m);
    ASSERT_TRUE(s.ok()) << s.status();
    if (s->path != KernelPath::kLowRank) continue;
    const absl::StatusOr<std::vector<Int8Term>> terms = Int8Terms(*s);
    ASSERT_TRUE(terms.ok()) << terms.status();
    EXPECT_EQ(terms->size(),
              static_cast<size_t>(s->decomposition->rank) + (s->table_decomposition ? 0 : 1))
        << m.id();
    for (const Int8Term& t : *terms) EXPECT_EQ(t.weight, 1u) << m.id();
  }
}

// A low-rank structure of `error` and its folded form, f_r(a) + c[r]·a:
// exact when b = Σ_r c[r]·g_r(b).
Structure WithFoldedForm(const Decomposition& error, const std::vector<int>& c) {
  Structure s;
  s.path = KernelPath::kLowRank;
  s.decomposition = error;
  Decomposition table = error;
  table.with_product = false;
  for (int r = 0; r < error.rank; ++r) {
    for (int byte = 0; byte < 256; ++byte) table.f[r][byte] += c[r] * static_cast<int8_t>(byte);
  }
  s.table_decomposition = table;
  return s;
}

// The folded form (a·b merged into the separable terms) is taken only when
// it has fewer int8 terms.
TEST(Int8TermsTest, FoldedFormIsTakenWhenItHasFewerTerms) {
  const Multiplier m = FoldingMultiplier();
  ASSERT_TRUE(AnalyzeStructure(m)->table_decomposition.has_value());
  EXPECT_EQ(ExpectExact(m), 2u);  // not three, with a·b as its own term
}

// T = a·b + s(a)·(b + 200·h(b)) + s(a)·(-200·h(b)) with s(a) = (a & 3) - 1,
// h(b) = b & 1: b = g_0 + g_1, so the table folds into
// (s(a) + a)·g_0(b) + (s(a) + a)·g_1(b), whose factors take two base-128 digits
// each: 8 terms, against 1 + 2 + 2 unfolded.
TEST(Int8TermsTest, FoldedFormWithMoreTermsIsNotTaken) {
  Decomposition error;
  error.rank = 2;
  error.f.assign(2, {});
  error.g.assign(2, {});
  for (int byte = 0; byte < 256; ++byte) {
    const int a = static_cast<int8_t>(byte), b = a;
    error.f[0][byte] = error.f[1][byte] = (a & 3) - 1;
    error.g[0][byte] = b + 200 * (b & 1);
    error.g[1][byte] = -200 * (b & 1);
  }
  const Structure s = WithFoldedForm(error, {1, 1});
  Table t;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      t[TableIndex(a, b)] = a * b + ((a & 3) - 1) * b;
    }
  }
  const Multiplier m = *Multiplier::Create("stays", Signedness::kSigned, t);
  EXPECT_EQ(ExpectExact(m, s), 5u);
}

// T = a·b + 100·(a & 1)·b: one separable term of int8 factors, two terms
// in all; folded, a + 100·(a & 1) takes two digits, also two terms. A tie
// keeps a·b as its own term.
TEST(Int8TermsTest, TiedFormsKeepTheProductTerm) {
  Decomposition error;
  error.rank = 1;
  error.f.assign(1, {});
  error.g.assign(1, {});
  for (int byte = 0; byte < 256; ++byte) {
    error.f[0][byte] = 100 * (byte & 1);
    error.g[0][byte] = static_cast<int8_t>(byte);
  }
  const Structure s = WithFoldedForm(error, {1});
  Table t;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) t[TableIndex(a, b)] = a * b + 100 * (a & 1) * b;
  }
  const Multiplier m = *Multiplier::Create("tie", Signedness::kSigned, t);
  EXPECT_EQ(ExpectExact(m, s), 2u);
  absl::StatusOr<std::vector<Int8Term>> terms = Int8Terms(s);
  ASSERT_TRUE(terms.ok()) << terms.status();
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ((*terms)[0].a_map[byte], static_cast<int8_t>(byte));
    EXPECT_EQ((*terms)[0].b_map[byte], static_cast<int8_t>(byte));
  }
}

TEST(Int8TermsTest, TablePathHasNoTerms) {
  Structure s;
  s.path = KernelPath::kTable;
  EXPECT_EQ(Int8Terms(s).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace transaxx::approx
