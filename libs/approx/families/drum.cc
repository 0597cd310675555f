// DRUM, the dynamic range unbiased multiplier of Hashemi, Bahar and Reda,
// "DRUM: A Dynamic Range Unbiased Multiplier for Approximate Applications",
// ICCAD 2015.
//
// Each operand keeps only its k bits from the leading one down; the lowest
// kept bit is forced to 1, which centres the truncation error on zero. The
// k-bit product is shifted back. Operands below 2^k are used exactly.
// Run on magnitudes.
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {
namespace {

// The operand reduced to k bits and the shift that restores its scale.
struct Reduced {
  uint32_t bits;
  int shift;
};

Reduced Reduce(uint32_t x, int k) {
  if (x < (1u << k)) return {x, 0};
  const int shift = LeadingOne(x) - k + 1;
  return {(x >> shift) | 1u, shift};
}

}  // namespace

Family Drum() {
  return {"drum",
          "DRUM (Hashemi et al., ICCAD 2015): k leading bits per operand with an unbiasing "
          "1 below them.",
          {{"k", 2, 8, std::nullopt, "bits kept per operand"}},
          [](int a, int b, const Params& p) {
            const int k = p.at("k");
            return SignMagnitude(a, b, [k](uint32_t x, uint32_t y) {
              const Reduced rx = Reduce(x, k), ry = Reduce(y, k);
              return static_cast<int32_t>((rx.bits * ry.bits) << (rx.shift + ry.shift));
            });
          }};
}

}  // namespace transaxx::approx::families
