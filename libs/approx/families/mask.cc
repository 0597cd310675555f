// Operand-bit masking: clear the low bits of A and/or B (in two's
// complement), then multiply exactly. The parameters are the masks of the
// cleared bits (a=3 clears bits 0 and 1), so the IDs read like the circuits
// they reproduce: several EvoApproxLib circuits are exactly this
// (mul8s_1KVM = mask:a=1, mul8s_1L2J = mask:a=1,b=1, mul8s_1L2L =
// mask:a=3,b=3, mul8s_1KXF = mask:a=7, mul8s_1L2N = mask:a=7,b=7).
#include "libs/approx/families/families.h"

#include "absl/strings/str_cat.h"

namespace transaxx::approx::families {
namespace {

bool IsLowBitMask(int m) { return (m & (m + 1)) == 0; }

}  // namespace

Family Mask() {
  return {"mask",
          "Clear the low bits of the operands (two's complement), then multiply exactly.",
          {{"a", 0, 127, 0, "mask of the low bits of A (activation) cleared: 0, 1, 3, 7, ..., 127"},
           {"b", 0, 127, 0, "mask of the low bits of B (weight) cleared: 0, 1, 3, 7, ..., 127"}},
          [](int a, int b, const Params& p) {
            return static_cast<int32_t>((a & ~p.at("a")) * (b & ~p.at("b")));
          },
          [](const Params& p) -> std::string {
            for (const char* key : {"a", "b"}) {
              if (!IsLowBitMask(p.at(key))) {
                return absl::StrCat(key, "=", p.at(key), " is not a low-bit mask (2^k - 1)");
              }
            }
            return "";
          }};
}

}  // namespace transaxx::approx::families
