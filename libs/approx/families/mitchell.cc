// Mitchell's logarithmic multiplier: J. N. Mitchell, "Computer
// Multiplication and Division Using Binary Logarithms", IRE Transactions on
// Electronic Computers EC-11(4), 1962.
//
// With x = 2^k1 (1 + f1) and y = 2^k2 (1 + f2), log2(x·y) is approximated by
// k1 + k2 + f1 + f2 and the antilogarithm by the same piecewise-linear rule:
//   f1 + f2 < 1:  2^(k1+k2) (1 + f1 + f2)
//   otherwise:    2^(k1+k2+1) (f1 + f2)
// In integers, with the fractions kept whole (2^k1·f1 = x − 2^k1), both cases
// are exact: no bits of the fractions are dropped. Run on magnitudes.
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {

Family Mitchell() {
  return {"mitchell",
          "Mitchell's logarithmic multiplier (IRE Trans. Electronic Computers 1962).",
          {},
          [](int a, int b, const Params&) {
            return SignMagnitude(a, b, [](uint32_t x, uint32_t y) -> int32_t {
              if (x == 0 || y == 0) return 0;
              const int k1 = LeadingOne(x), k2 = LeadingOne(y);
              // Fractions scaled by 2^(k1+k2): f1·2^(k1+k2) and f2·2^(k1+k2).
              const int64_t f1 = static_cast<int64_t>(x - (1u << k1)) << k2;
              const int64_t f2 = static_cast<int64_t>(y - (1u << k2)) << k1;
              const int64_t one = int64_t{1} << (k1 + k2);
              return static_cast<int32_t>(f1 + f2 < one ? one + f1 + f2 : 2 * (f1 + f2));
            });
          }};
}

}  // namespace transaxx::approx::families
