#include "libs/approx/int8_terms.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace transaxx::approx {
namespace {

using Map = std::array<int8_t, 256>;

Map Identity() {
  Map m;
  for (int byte = 0; byte < 256; ++byte) m[byte] = static_cast<int8_t>(byte);
  return m;
}

Map Masked(int mask) {
  Map m;
  for (int byte = 0; byte < 256; ++byte) m[byte] = static_cast<int8_t>(byte & ~mask);
  return m;
}

bool FitsInt8(const std::array<int64_t, 256>& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t x) { return x >= -128 && x <= 127; });
}

std::array<int64_t, 256> Negated(std::array<int64_t, 256> v) {
  for (int64_t& x : v) x = -x;
  return v;
}

// Balanced base-128 digits of the 256 coefficients, lowest first: the
// lower digits in -64..63, the last one in -128..127. Each step divides the
// magnitudes by about 128, so a 16-bit coefficient takes at most 3 digits.
std::vector<Map> Digits(std::array<int64_t, 256> rest) {
  std::vector<Map> digits;
  while (!FitsInt8(rest)) {
    Map digit;
    for (int byte = 0; byte < 256; ++byte) {
      const int64_t d = ((rest[byte] + 64) % 128 + 128) % 128 - 64;
      digit[byte] = static_cast<int8_t>(d);
      rest[byte] = (rest[byte] - d) / 128;
    }
    digits.push_back(digit);
  }
  Map top;
  for (int byte = 0; byte < 256; ++byte) top[byte] = static_cast<int8_t>(rest[byte]);
  digits.push_back(top);
  return digits;
}

// 128^power modulo 2^32.
uint32_t Power128(size_t power) {
  uint32_t p = 1;
  for (size_t i = 0; i < power; ++i) p *= 128u;
  return p;
}

// The identity term when d has the a·b, then the digit products of each
// separable term.
std::vector<Int8Term> TermsOf(const Decomposition& d) {
  std::vector<Int8Term> terms;
  if (d.with_product) terms.push_back({Identity(), Identity(), 1});
  for (int r = 0; r < d.rank; ++r) {
    std::array<int64_t, 256> f_r = d.f[r], g_r = d.g[r];
    // f·g = (−f)·(−g). Coefficients reaching +128 but not −128 are
    // common (g = 128·bit), and negated they fit int8: one term, not two.
    if (!(FitsInt8(f_r) && FitsInt8(g_r)) && FitsInt8(Negated(f_r)) && FitsInt8(Negated(g_r))) {
      f_r = Negated(f_r);
      g_r = Negated(g_r);
    }
    const std::vector<Map> f = Digits(f_r);
    const std::vector<Map> g = Digits(g_r);
    for (size_t i = 0; i < f.size(); ++i) {
      for (size_t j = 0; j < g.size(); ++j) terms.push_back({f[i], g[j], Power128(i + j)});
    }
  }
  return terms;
}

}  // namespace

absl::StatusOr<std::vector<Int8Term>> Int8Terms(const Structure& structure) {
  switch (structure.path) {
    case KernelPath::kExactInt8:
      return std::vector<Int8Term>{{Identity(), Identity(), 1}};
    case KernelPath::kMask:
      return std::vector<Int8Term>{
          {Masked(structure.mask->a_mask), Masked(structure.mask->b_mask), 1}};
    case KernelPath::kLowRank: {
      std::vector<Int8Term> terms = TermsOf(*structure.decomposition);
      if (structure.table_decomposition) {
        std::vector<Int8Term> direct = TermsOf(*structure.table_decomposition);
        if (direct.size() < terms.size()) terms = std::move(direct);
      }
      return terms;
    }
    case KernelPath::kTable:
      break;
  }
  return absl::InvalidArgumentError(
      "a multiplier on the table path has no int8 term form; use a table kernel");
}

}  // namespace transaxx::approx
