// The under-designed multiplier of Kulkarni, Gupta and Ercegovac, "Trading
// Accuracy for Power with an Underdesigned Multiplier Architecture", VLSI
// Design 2011.
//
// Its 2x2 block answers 3·3 = 7 (three output bits instead of four) and is
// exact otherwise. Larger multipliers are built from four half-size ones,
// A·B = AH·BH·2^n + (AH·BL + AL·BH)·2^(n/2) + AL·BL, with exact adders, up to
// 8x8. Run on magnitudes (128 fits the 8-bit array).
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {
namespace {

uint32_t Underdesigned(uint32_t x, uint32_t y, int bits) {
  if (bits == 2) return x == 3 && y == 3 ? 7 : x * y;
  const int half = bits / 2;
  const uint32_t mask = (1u << half) - 1;
  const uint32_t xh = x >> half, xl = x & mask, yh = y >> half, yl = y & mask;
  return (Underdesigned(xh, yh, half) << bits) +
         ((Underdesigned(xh, yl, half) + Underdesigned(xl, yh, half)) << half) + Underdesigned(xl, yl, half);
}

}  // namespace

Family Kulkarni() {
  return {"kulkarni",
          "Under-designed multiplier (Kulkarni et al., VLSI Design 2011): 2x2 blocks with "
          "3*3 = 7, composed to 8x8.",
          {},
          [](int a, int b, const Params&) {
            return SignMagnitude(a, b, [](uint32_t x, uint32_t y) {
              return static_cast<int32_t>(Underdesigned(x, y, 8));
            });
          }};
}

}  // namespace transaxx::approx::families
