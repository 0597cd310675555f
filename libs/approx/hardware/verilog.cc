#include "libs/approx/hardware/verilog.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/approx/builtin.h"
#include "libs/approx/multiplier_id.h"

namespace transaxx::approx::hardware {
namespace {

// A Verilog concatenation of single-bit expressions given least significant
// first, with runs of absent bits ("") written as zero constants.
std::string Concat(const std::vector<std::string>& lsb_first) {
  std::vector<std::string> parts;
  int zeros = 0;
  for (auto it = lsb_first.rbegin(); it != lsb_first.rend(); ++it) {
    if (it->empty()) {
      ++zeros;
      continue;
    }
    if (zeros > 0) parts.push_back(absl::StrCat(zeros, "'b0"));
    zeros = 0;
    parts.push_back(*it);
  }
  if (zeros > 0) parts.push_back(absl::StrCat(zeros, "'b0"));
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

// Declares `result` as the sum of partial-product rows, one row per bit i of
// `y` (weight 2^i), each holding the bits x[j] & y[i] (weight 2^(i+j)) that
// `keep(i, j)` accepts. Bits left out are not built at all: this is how the
// broken-array and perforated multipliers save their cells. Synthesis maps
// the sum to a carry-save tree and a final adder.
std::string UnsignedArray(const std::string& result, int width, const std::string& x, int x_bits,
                          const std::string& y, int y_bits,
                          const std::function<bool(int i, int j)>& keep) {
  std::string text = absl::StrCat("  wire [", width - 1, ":0] ", result, ";\n");
  std::vector<std::string> rows;
  for (int i = 0; i < y_bits; ++i) {
    std::vector<std::string> bits(width);
    bool any = false;
    for (int j = 0; j < x_bits; ++j) {
      if (i + j >= width || !keep(i, j)) continue;
      bits[i + j] = absl::StrCat(x, "[", j, "] & ", y, "[", i, "]");
      any = true;
    }
    if (!any) continue;
    const std::string row = absl::StrCat(result, "_row", i);
    absl::StrAppend(&text, "  wire [", width - 1, ":0] ", row, " = ", Concat(bits), ";\n");
    rows.push_back(row);
  }
  absl::StrAppend(&text, "  assign ", result, " = ",
                  rows.empty() ? absl::StrCat(width, "'d0") : absl::StrJoin(rows, " + "), ";\n");
  return text;
}

// The signed product of a and b with the operand bits in `mask_a`/`mask_b`
// cleared, as a modified Baugh-Wooley array: the partial products that
// involve exactly one sign bit carry negative weight, so they enter
// complemented (-x·2^w = (1 - x)·2^w - 2^w) and the -2^w terms are gathered
// into one constant row. Cleared operand bits remove their whole row or
// column from the array, which is exactly the circuit of operand masking.
std::string BaughWooleyArray(int mask_a, int mask_b, int width) {
  std::string text;
  std::vector<std::string> rows;
  uint64_t correction = 0;
  for (int i = 0; i < 8; ++i) {
    if ((mask_b >> i) & 1) continue;
    std::vector<std::string> bits(width);
    for (int j = 0; j < 8; ++j) {
      if ((mask_a >> j) & 1) continue;
      const std::string bit = absl::StrCat("a[", j, "] & b[", i, "]");
      if ((i == 7) != (j == 7)) {
        bits[i + j] = absl::StrCat("~(", bit, ")");
        correction -= uint64_t{1} << (i + j);
      } else {
        bits[i + j] = bit;
      }
    }
    const std::string row = absl::StrCat("row", i);
    absl::StrAppend(&text, "  wire [", width - 1, ":0] ", row, " = ", Concat(bits), ";\n");
    rows.push_back(row);
  }
  correction &= (uint64_t{1} << width) - 1;
  rows.push_back(absl::StrCat(width, "'d", correction));
  absl::StrAppend(&text, "  assign p = ", absl::StrJoin(rows, " + "), ";\n");
  return text;
}

// A priority encoder: the position of the leading one of the 8-bit `x`
// (0 for x = 0, which callers handle separately).
std::string LeadingOneDetector(const std::string& result, const std::string& x) {
  std::string chain;
  for (int bit = 7; bit >= 1; --bit) absl::StrAppend(&chain, x, "[", bit, "] ? 3'd", bit, " : ");
  return absl::StrCat("  // Leading-one detector of ", x, ".\n  wire [2:0] ", result, " = ", chain,
                      "3'd0;\n");
}

// Wraps an unsigned core that computes `m` (width bits) from the magnitudes
// x and y into the sign unit of a signed multiplier.
std::string SignMagnitude(const std::string& core) {
  return absl::StrCat(
      "  // Sign unit: the operands' magnitudes (|-128| = 128 fits 8 unsigned bits)\n"
      "  // and the sign of the exact product.\n"
      "  wire [7:0] x = a[7] ? -a : a;\n"
      "  wire [7:0] y = b[7] ? -b : b;\n"
      "  wire negative = a[7] ^ b[7];\n",
      core, "  assign p = negative ? -m : m;\n");
}

std::string BrokenArrayCore(int h, int v, int width) {
  return absl::StrCat(
      "  // Broken array: ", h > 0 ? absl::StrCat("the rows of y[0..", h - 1, "] and ") : "",
      "the partial-product bits of weight below 2^", v, " left out.\n",
      UnsignedArray("m", width, "x", 8, "y", 8,
                    [h, v](int i, int j) { return i >= h && i + j >= v; }));
}

std::string PerforationCore(int m, int j, int width) {
  return absl::StrCat("  // Unsigned array without the partial products of bits ", j, "..",
                      j + m - 1, " of y.\n",
                      UnsignedArray("m", width, "x", 8, "y", 8,
                                    [m, j](int row, int) { return row < j || row >= j + m; }));
}

// DRUM: leading-one detectors steer a shifter that keeps the k bits from the
// leading one down (the lowest forced to 1 when bits were dropped), a k x k
// array multiplies them, and a shifter restores the scale.
std::string DrumCore(int k, int width) {
  if (k >= 8) {
    return absl::StrCat("  // k = 8 keeps every bit of a magnitude: an exact array.\n",
                        UnsignedArray("m", width, "x", 8, "y", 8, [](int, int) { return true; }));
  }
  std::string text;
  for (const char* v : {"x", "y"}) {
    absl::StrAppend(&text, LeadingOneDetector(absl::StrCat("lead_", v), v));
    absl::StrAppend(&text, "  // Operands below 2^", k, " pass unchanged; larger ones drop lead - ",
                    k - 1, " low bits.\n", "  wire [2:0] shift_", v, " = lead_", v, " >= 3'd", k,
                    " ? lead_", v, " - 3'd", k - 1, " : 3'd0;\n", "  wire [7:0] shifted_", v, " = ",
                    v, " >> shift_", v, ";\n", "  wire [", k - 1, ":0] kept_", v, " = {shifted_", v,
                    "[", k - 1, ":1], shifted_", v, "[0] | (shift_", v, " != 3'd0)};\n");
  }
  absl::StrAppend(
      &text, UnsignedArray("core", 2 * k, "kept_x", k, "kept_y", k, [](int, int) { return true; }),
      "  wire [3:0] shift = shift_x + shift_y;\n", "  wire [", width - 1, ":0] core_wide = core;\n",
      "  wire [", width - 1, ":0] m = core_wide << shift;\n");
  return text;
}

// Mitchell: leading-one detectors give the characteristics, shifters align
// the fractions, one adder sums the fractions and one the characteristics
// (plus the fractions' carry), and a shifter takes the antilogarithm of the
// mantissa 1.f. Zero operands have no logarithm and force a zero product.
std::string MitchellCore(int width) {
  return absl::StrCat(
      LeadingOneDetector("k1", "x"), LeadingOneDetector("k2", "y"),
      "  // Normalized operands: the leading one at bit 7, the fraction below it.\n"
      "  wire [7:0] nx = x << (3'd7 - k1);\n"
      "  wire [7:0] ny = y << (3'd7 - k2);\n"
      "  // log2(x) + log2(y): the fractions' sum, whose carry adds to the characteristic.\n"
      "  wire [7:0] fraction = nx[6:0] + ny[6:0];\n"
      "  wire [3:0] characteristic = k1 + k2 + fraction[7];\n"
      "  // Antilogarithm: (1.fraction) * 2^characteristic, 7 fraction bits.\n"
      "  wire [",
      width + 6, ":0] scaled = {", width - 1, "'b0, 1'b1, fraction[6:0]} << characteristic;\n",
      "  wire zero = x == 8'd0 || y == 8'd0;\n", "  wire [", width - 1, ":0] m = zero ? ", width,
      "'d0 : scaled[", width + 6, ":7];\n");
}

// RoBA: rounding units find the nearest power of two of each operand (the
// leading one's position, plus one when the bit below it is set: ties round
// up), two shifters form Ar·B and A·Br, a third 2^(ta+tb) = Ar·Br, and an
// adder and a subtractor combine them. Zero operands force a zero product.
std::string RobaCore(int width) {
  std::string text;
  for (const char* v : {"x", "y"}) {
    std::string below;
    for (int bit = 7; bit >= 1; --bit)
      absl::StrAppend(&below, v, "[", bit, "] ? ", v, "[", bit - 1, "] : ");
    absl::StrAppend(&text, LeadingOneDetector(absl::StrCat("lead_", v), v), "  wire round_", v,
                    " = ", below, "1'b0;\n", "  wire [3:0] t", v, " = lead_", v, " + round_", v,
                    ";\n");
  }
  absl::StrAppend(&text, "  wire [", width, ":0] rounded_x_times_y = y << tx;\n", "  wire [", width,
                  ":0] x_times_rounded_y = x << ty;\n", "  wire [", width,
                  ":0] rounded_product = ", width + 1, "'d1 << (tx + ty);\n", "  wire [", width,
                  ":0] sum = rounded_x_times_y + x_times_rounded_y - rounded_product;\n",
                  "  wire zero = x == 8'd0 || y == 8'd0;\n", "  wire [", width - 1,
                  ":0] m = zero ? ", width, "'d0 : sum[", width - 1, ":0];\n");
  return text;
}

// Kulkarni: the under-designed 2x2 block, and 4x4 and 8x8 multipliers each
// built from four half-size ones and exact adders.
std::string KulkarniCore(int width) {
  return absl::StrCat("  wire [15:0] core;\n", "  kulkarni_block8 array(.x(x), .y(y), .p(core));\n",
                      "  wire [", width - 1, ":0] m = core;\n");
}

std::string KulkarniModules() {
  std::string text =
      "\n// The under-designed 2x2 block: exact except 3 * 3 = 7, which saves the\n"
      "// fourth output bit and its logic.\n"
      "module kulkarni_block2(input [1:0] x, input [1:0] y, output [2:0] p);\n"
      "  assign p[0] = x[0] & y[0];\n"
      "  assign p[1] = (x[1] & y[0]) | (x[0] & y[1]);\n"
      "  assign p[2] = x[1] & y[1];\n"
      "endmodule\n";
  for (int bits : {4, 8}) {
    const int half = bits / 2, sub = bits == 4 ? 3 : 8;
    const std::string block = absl::StrCat("kulkarni_block", half);
    absl::StrAppend(
        &text, "\n// x*y = xh*yh*2^", bits, " + (xh*yl + xl*yh)*2^", half,
        " + xl*yl from four half-size blocks.\n", "module kulkarni_block", bits, "(input [",
        bits - 1, ":0] x, input [", bits - 1, ":0] y, output [", 2 * bits - 1, ":0] p);\n",
        "  wire [", sub - 1, ":0] hh, hl, lh, ll;\n", "  ", block, " b_hh(.x(x[", bits - 1, ":",
        half, "]), .y(y[", bits - 1, ":", half, "]), .p(hh));\n", "  ", block, " b_hl(.x(x[",
        bits - 1, ":", half, "]), .y(y[", half - 1, ":0]), .p(hl));\n", "  ", block, " b_lh(.x(x[",
        half - 1, ":0]), .y(y[", bits - 1, ":", half, "]), .p(lh));\n", "  ", block, " b_ll(.x(x[",
        half - 1, ":0]), .y(y[", half - 1, ":0]), .p(ll));\n", "  wire [", 2 * bits - 1,
        ":0] hh_wide = hh, hl_wide = hl, lh_wide = lh, ll_wide = ll;\n",
        "  assign p = (hh_wide << ", bits, ") + ((hl_wide + lh_wide) << ", half, ") + ll_wide;\n",
        "endmodule\n");
  }
  return text;
}

// The fewest bits, at least 16, of a two's-complement p that holds every
// product of `multiplier`.
int ProductWidth(const Multiplier& multiplier) {
  const auto [lo, hi] = std::minmax_element(multiplier.table().begin(), multiplier.table().end());
  int width = 16;
  while (*lo < -(int64_t{1} << (width - 1)) || *hi >= (int64_t{1} << (width - 1))) ++width;
  return width;
}

std::string ModuleHeader(const std::string& comment, int width) {
  return absl::StrCat("// ", comment,
                      "\n// Generated by transaxx (libs/approx/hardware/verilog.cc).\n",
                      "module mult(input [7:0] a, input [7:0] b, output [", width - 1, ":0] p);\n");
}

}  // namespace

absl::StatusOr<std::string> BuiltinVerilog(absl::string_view id) {
  absl::StatusOr<Multiplier> multiplier = MakeBuiltin(id);
  if (!multiplier.ok()) return multiplier.status();
  absl::StatusOr<BuiltinId> parsed = ParseBuiltinId(multiplier->id());
  if (!parsed.ok()) return parsed.status();
  const Family* family = nullptr;
  for (const Family& f : BuiltinFamilies()) {
    if (f.name == parsed->family) family = &f;
  }
  // The canonical ID leaves defaults out; put them back.
  Params params = parsed->params;
  for (const ParamSpec& spec : family->params) {
    if (!params.contains(spec.key)) params[spec.key] = *spec.default_value;
  }
  const int width = ProductWidth(*multiplier);
  std::string text = ModuleHeader(
      absl::StrCat("transaxx built-in multiplier ", multiplier->id(), ": ", family->summary),
      width);
  const std::string& name = family->name;
  if (name == "exact" || name == "mask") {
    const int mask_a = name == "mask" ? params.at("a") : 0;
    const int mask_b = name == "mask" ? params.at("b") : 0;
    absl::StrAppend(&text, BaughWooleyArray(mask_a, mask_b, width), "endmodule\n");
    return text;
  }
  std::string core;
  if (name == "bam") {
    core = BrokenArrayCore(params.at("h"), params.at("v"), width);
  } else if (name == "perf") {
    core = PerforationCore(params.at("m"), params.at("j"), width);
  } else if (name == "drum") {
    core = DrumCore(params.at("k"), width);
  } else if (name == "mitchell") {
    core = MitchellCore(width);
  } else if (name == "roba") {
    core = RobaCore(width);
  } else if (name == "kulkarni") {
    core = KulkarniCore(width);
  } else {
    return absl::UnimplementedError(
        absl::StrCat("no Verilog generator for the built-in family '", name, "'"));
  }
  absl::StrAppend(&text, SignMagnitude(core), "endmodule\n");
  if (name == "kulkarni") absl::StrAppend(&text, KulkarniModules());
  return text;
}

std::string ExactVerilog(Signedness signedness) {
  if (signedness == Signedness::kSigned) return *BuiltinVerilog("exact");
  return absl::StrCat(ModuleHeader("Exact unsigned 8x8 multiplier: an AND array.", 16),
                      UnsignedArray("p_array", 16, "a", 8, "b", 8, [](int, int) { return true; }),
                      "  assign p = p_array;\nendmodule\n");
}

}  // namespace transaxx::approx::hardware
