// The broken-array multiplier (BAM) of Mahdiani, Ahmadi, Fakhraie and Lucas,
// "Bio-Inspired Imprecise Computational Blocks for Efficient VLSI
// Implementation of Soft-Computing Applications", IEEE TCAS-I 57(4), 2010.
//
// An unsigned array multiplier whose carry-save cells are omitted below a
// vertical break line (partial-product bits of weight < 2^v) and above a
// horizontal break line (the partial-product rows of the h least significant
// bits of B). With h = 0 it is the truncated multiplier. Run on magnitudes.
#include "libs/approx/families/families.h"

namespace transaxx::approx::families {

Family BrokenArray() {
  return {"bam",
          "Broken-array multiplier (Mahdiani et al., IEEE TCAS-I 2010): drop partial-product "
          "bits below a vertical and above a horizontal break line.",
          {{"h", 0, 8, std::nullopt, "partial-product rows (low bits of B) omitted"},
           {"v", 0, 16, std::nullopt, "partial-product bits of weight below 2^v omitted"}},
          [](int a, int b, const Params& p) {
            const int h = p.at("h"), v = p.at("v");
            return SignMagnitude(a, b, [h, v](uint32_t x, uint32_t y) {
              int32_t sum = 0;
              for (int i = h; i < 8; ++i) {      // Row i: A * bit i of B.
                if (!((y >> i) & 1)) continue;
                for (int j = 0; j < 8; ++j) {    // Bit j of A lands in column i + j.
                  if (((x >> j) & 1) && i + j >= v) sum += 1 << (i + j);
                }
              }
              return sum;
            });
          }};
}

}  // namespace transaxx::approx::families
