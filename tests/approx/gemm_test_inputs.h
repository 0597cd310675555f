// Inputs shared by the tests of the approximate GEMM kernels: random int8
// operands, the multipliers of the shared EvoApprox tables, one whose
// structure needs multi-digit int8 terms and one whose a·b folds into its
// separable terms.
#ifndef TRANSAXX_TESTS_APPROX_GEMM_TEST_INPUTS_H_
#define TRANSAXX_TESTS_APPROX_GEMM_TEST_INPUTS_H_

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "libs/approx/catalog.h"

namespace transaxx::approx {

// n uniformly random int8 values.
inline std::vector<int8_t> RandomInt8(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int> value(-128, 127);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (int8_t& x : v) x = static_cast<int8_t>(value(rng));
  return v;
}

// Every table of ../shared/data/evoapprox (TRANSAXX_EVOAPPROX_DIR), signed
// and unsigned; a failed import fails the calling test.
inline std::vector<Multiplier> EvoApproxMultipliers() {
  Catalog catalog;
  const absl::Status s = catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR);
  EXPECT_TRUE(s.ok()) << s;
  std::vector<Multiplier> out;
  for (const CatalogEntry& e : catalog.entries()) out.push_back(e.multiplier);
  return out;
}

// T = a·b + f(a)·g(b) with |f| up to 32,000: f takes three base-128
// digits, so its int8 terms form three groups (weights 1, 128 and 128^2).
inline Multiplier MultiDigitMultiplier() {
  Table t;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      const int f = a * 250 + (a & 7), g = (b & 1) - (b < 0 ? 1 : 0);
      t[TableIndex(a, b)] = a * b + f * g;
    }
  }
  return *Multiplier::Create("multi-digit", Signedness::kSigned, t);
}

// T = (a & ~1)·b + f(a)·g(b) with random f, g in -9..9: E = -(a & 1)·b +
// f(a)·g(b) has rank 2 and b ↦ b among its row vectors, so a·b folds in
// and the table is two separable terms (structure.h).
inline Multiplier FoldingMultiplier() {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> coef(-9, 9);
  std::array<int, 256> f, g;
  for (int& v : f) v = coef(rng);
  for (int& v : g) v = coef(rng);
  Table t;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      t[TableIndex(a, b)] = (a & ~1) * b + f[static_cast<uint8_t>(a)] * g[static_cast<uint8_t>(b)];
    }
  }
  return *Multiplier::Create("folding", Signedness::kSigned, t);
}

}  // namespace transaxx::approx

#endif  // TRANSAXX_TESTS_APPROX_GEMM_TEST_INPUTS_H_
