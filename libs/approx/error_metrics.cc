#include "libs/approx/error_metrics.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace transaxx::approx {
namespace {

// Figures over the pairs (a, b) with lo <= a, b <= hi.
ErrorFigures FiguresOver(const Table& table, int lo, int hi) {
  int64_t pairs = 0;
  int64_t erroneous = 0;
  int64_t nonzero_products = 0;
  int64_t sum_error = 0;
  int64_t sum_abs_error = 0;
  // e² reaches 2^64 for int32 tables far from the product; 65,536 of them
  // need more than 64 bits.
  unsigned __int128 sum_squared_error = 0;
  int64_t worst_error = 0;
  int64_t max_abs_product = 0;
  double sum_relative_error = 0;  // over a·b != 0
  double worst_relative_error = 0;
  double sum_relative_error_distance = 0;  // over all pairs, denominator max(1, |a·b|)
  for (int a = lo; a <= hi; ++a) {
    for (int b = lo; b <= hi; ++b) {
      const int64_t product = int64_t{a} * b;
      const int64_t error = int64_t{table[TableIndex(a, b)]} - product;
      const int64_t abs_error = error < 0 ? -error : error;
      const int64_t abs_product = product < 0 ? -product : product;
      ++pairs;
      erroneous += error != 0;
      sum_error += error;
      sum_abs_error += abs_error;
      sum_squared_error += static_cast<unsigned __int128>(abs_error) * abs_error;
      worst_error = std::max(worst_error, abs_error);
      max_abs_product = std::max(max_abs_product, abs_product);
      const double relative = static_cast<double>(abs_error) / std::max<int64_t>(1, abs_product);
      sum_relative_error_distance += relative;
      if (product != 0) {
        ++nonzero_products;
        sum_relative_error += relative;
        worst_relative_error = std::max(worst_relative_error, relative);
      }
    }
  }
  const double n = static_cast<double>(pairs);
  ErrorFigures f;
  f.mae = static_cast<double>(sum_abs_error) / n;
  f.wce = static_cast<double>(worst_error);
  f.wcre_pct = 100.0 * worst_relative_error;
  f.ep_pct = 100.0 * static_cast<double>(erroneous) / n;
  f.mre_pct = 100.0 * sum_relative_error / static_cast<double>(nonzero_products);
  f.mse = static_cast<double>(sum_squared_error) / n;
  f.mred = sum_relative_error_distance / n;
  f.nmed = f.mae / static_cast<double>(max_abs_product);
  f.mean_error = static_cast<double>(sum_error) / n;
  f.pairs = pairs;
  return f;
}

// Arithmetic modulo a pseudo-Mersenne prime p = 2^k - c, 61 <= k <= 63,
// 1 <= c < 2^7: reduction by folding the bits above k, multiplied by c, back
// onto the low ones — no division in the elimination's inner loop.
// Elements are kept in [0, p).
class PseudoMersennePrime {
 public:
  constexpr PseudoMersennePrime(int k, uint64_t c)
      : k_(k), c_(c), p_((uint64_t{1} << k) - c), mask_((uint64_t{1} << k) - 1) {}

  uint64_t FromInt(int64_t v) const {
    const int64_t r = v % static_cast<int64_t>(p_);
    return static_cast<uint64_t>(r < 0 ? r + static_cast<int64_t>(p_) : r);
  }

  uint64_t Mul(uint64_t a, uint64_t b) const {
    // a·b < 2^2k; each fold maps hi·2^k + lo to hi·c + lo (2^k ≡ c). After
    // two folds the value is below p + 2^14, so one subtraction finishes.
    unsigned __int128 x = static_cast<unsigned __int128>(a) * b;
    x = (x >> k_) * c_ + (x & mask_);
    x = (x >> k_) * c_ + (x & mask_);
    const uint64_t r = static_cast<uint64_t>(x);
    return r >= p_ ? r - p_ : r;
  }

  uint64_t Sub(uint64_t a, uint64_t b) const { return a >= b ? a - b : a + (p_ - b); }

  // REQUIRES: a != 0. Fermat: a^(p-2).
  uint64_t Inverse(uint64_t a) const {
    uint64_t result = 1;
    for (uint64_t e = p_ - 2; e != 0; e >>= 1) {
      if (e & 1) result = Mul(result, a);
      a = Mul(a, a);
    }
    return result;
  }

 private:
  int k_;
  uint64_t c_;
  uint64_t p_;
  uint64_t mask_;
};

// The largest primes below 2^61, 2^62 and 2^63.
constexpr std::array<PseudoMersennePrime, 3> kRankPrimes = {
    PseudoMersennePrime(61, 1), PseudoMersennePrime(62, 57), PseudoMersennePrime(63, 25)};

// Rank of the 256x256 row-major integer matrix `e` modulo `prime`, by
// Gaussian elimination to row echelon form.
int RankModulo(const std::vector<int64_t>& e, const PseudoMersennePrime& prime) {
  constexpr int kN = 256;
  std::vector<uint64_t> m(e.size());
  for (size_t i = 0; i < e.size(); ++i) m[i] = prime.FromInt(e[i]);
  int rank = 0;
  for (int col = 0; col < kN && rank < kN; ++col) {
    int pivot = rank;
    while (pivot < kN && m[pivot * kN + col] == 0) ++pivot;
    if (pivot == kN) continue;
    // Columns left of `col` are never read again, so only the rest moves.
    uint64_t* pivot_row = &m[rank * kN];
    if (pivot != rank) {
      std::swap_ranges(pivot_row + col, pivot_row + kN, &m[pivot * kN + col]);
    }
    const uint64_t inverse = prime.Inverse(pivot_row[col]);
    for (int k = col + 1; k < kN; ++k) pivot_row[k] = prime.Mul(pivot_row[k], inverse);
    for (int row = rank + 1; row < kN; ++row) {
      uint64_t* r = &m[row * kN];
      const uint64_t factor = r[col];
      if (factor == 0) continue;
      for (int k = col + 1; k < kN; ++k) r[k] = prime.Sub(r[k], prime.Mul(factor, pivot_row[k]));
    }
    ++rank;
  }
  return rank;
}

}  // namespace

// Why the maximum of a few modular ranks is the rank over the rationals.
// An r×r minor of the integer matrix E that is nonzero modulo p is nonzero,
// so rank_p(E) <= rank(E) for every prime p: each modular rank, and their
// maximum, is a proven lower bound. It falls short of r = rank(E) only if
// every prime used divides every r×r minor, i.e. divides D_r, the gcd of
// those minors (the product of E's first r Smith invariant factors). D_r is
// a nonzero integer below the Hadamard bound (16 · max|e|)^r, so at most
// r·(4 + log2 max|e|) / 60 primes above 2^60 divide it, a few dozen among
// the more than 10^16 there are, and all three used here would have to.
// A table can be built to defeat one prime (the tests do); none arises from
// a multiplier by accident. A proof for every input would need ~50 primes
// for a rank-192 EvoApprox table (Hadamard bound ~2^2800), or big-integer
// elimination: 10-100x the budget of a characterization. The published
// ranks of all 19 shared EvoApprox tables, computed independently, are
// reproduced.
int ErrorRank(const Multiplier& multiplier) {
  const int lo = multiplier.is_signed() ? -128 : 0;
  std::vector<int64_t> e(kTableSize);
  for (int a = lo; a < lo + 256; ++a) {
    for (int b = lo; b < lo + 256; ++b) {
      e[(a - lo) * 256 + (b - lo)] = int64_t{multiplier(a, b)} - int64_t{a} * b;
    }
  }
  int rank = 0;
  for (const PseudoMersennePrime& prime : kRankPrimes) rank = std::max(rank, RankModulo(e, prime));
  return rank;
}

ErrorReport ComputeErrorFigures(const Multiplier& multiplier) {
  ErrorReport report;
  const Table& table = multiplier.table();
  if (multiplier.is_signed()) {
    report.full = FiguresOver(table, -128, 127);
    report.narrow = FiguresOver(table, -127, 127);
  } else {
    report.full = FiguresOver(table, 0, 255);
    report.narrow = FiguresOver(table, 0, 127);
  }
  report.error_rank = ErrorRank(multiplier);
  return report;
}

}  // namespace transaxx::approx
