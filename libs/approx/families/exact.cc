// The exact multiplier: the plain int8 product, the baseline every
// approximate multiplier is measured against.
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {

Family Exact() {
  return {"exact", "Exact int8 product.", {},
          [](int a, int b, const Params&) { return static_cast<int32_t>(a * b); }};
}

}  // namespace transaxx::approx::families
