// The definitions of the built-in families, one per file, gathered by
// builtin.cc. Internal to libs/approx.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_APPROX_FAMILIES_FAMILIES_H_
#define TRANSAXX_LIBS_APPROX_FAMILIES_FAMILIES_H_

#include <cstdint>
#include <cstdlib>

#include "libs/approx/builtin.h"

namespace transaxx::approx::families {

Family Exact();
Family Mask();
Family BrokenArray();
Family Perforation();
Family Drum();
Family Mitchell();
Family Roba();
Family Kulkarni();

// Runs an unsigned multiplier `f(|a|, |b|)` on int8 values with the sign of
// the exact product.
template <typename F>
int32_t SignMagnitude(int a, int b, F f) {
  const int32_t magnitude = f(static_cast<uint32_t>(std::abs(a)), static_cast<uint32_t>(std::abs(b)));
  return (a < 0) != (b < 0) ? -magnitude : magnitude;
}

// Index of the most significant set bit. REQUIRES: x > 0.
inline int LeadingOne(uint32_t x) { return 31 - __builtin_clz(x); }

}  // namespace transaxx::approx::families

#endif  // TRANSAXX_LIBS_APPROX_FAMILIES_FAMILIES_H_
