// RoBA, the rounding-based approximate multiplier of Zendegani, Kamal,
// Bahadori, Afzali-Kusha and Pedram, "RoBA Multiplier: A Rounding-Based
// Approximate Multiplier for High-Speed yet Energy-Efficient Digital Signal
// Processing", IEEE TVLSI 25(2), 2017.
//
// With Ar and Br the operands rounded to the nearest power of two,
//   A·B ≈ Ar·B + A·Br − Ar·Br,
// exact when either operand is a power of two. Ties (A = 3·2^(p−1)) round up,
// as in the paper. Run on magnitudes.
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {
namespace {

// Nearest power of two; ties go up. The value rounds up exactly when the
// bit below the leading one is set.
uint32_t RoundToPowerOfTwo(uint32_t x) {
  const int t = LeadingOne(x);
  return t > 0 && ((x >> (t - 1)) & 1) ? 1u << (t + 1) : 1u << t;
}

}  // namespace

Family Roba() {
  return {"roba",
          "RoBA (Zendegani et al., IEEE TVLSI 2017): operands rounded to powers of two, "
          "Ar*B + A*Br - Ar*Br.",
          {},
          [](int a, int b, const Params&) {
            return SignMagnitude(a, b, [](uint32_t x, uint32_t y) -> int32_t {
              if (x == 0 || y == 0) return 0;
              const int64_t xr = RoundToPowerOfTwo(x), yr = RoundToPowerOfTwo(y);
              return static_cast<int32_t>(xr * y + x * yr - xr * yr);
            });
          }};
}

}  // namespace transaxx::approx::families
