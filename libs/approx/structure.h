// Structure analysis of a multiplier, done once when it is loaded: which
// exact kernel can compute an approximate GEMM with it faster than one table
// lookup per multiply-accumulate, with the data that kernel needs.
//
// The analysis looks at the table an int8 GEMM uses (int8_table(): operands
// -128..127, unsigned circuits through sign-magnitude) and its error matrix
// E(a, b) = T(a, b) - a·b. In order of preference:
// - kExactInt8: E = 0, the plain int8 GEMM.
// - kMask: T(a, b) = (a & ~ma)·(b & ~mb) with low-bit masks ma, mb = 2^k - 1
//   (two's complement): an exact int8 GEMM on masked operands.
// - kLowRank: an exact integer decomposition
//   T(a, b) = a·b + Σ_{r<R} f_r(a)·g_r(b), R = rank of E over the rationals,
//   so the approximate GEMM is R + 1 exact integer GEMMs on transformed
//   operands (f_r applied to A, g_r to W), accumulated.
// - kTable: none of the above is worth it (rank above a limit, or
//   coefficients too large for exact fast arithmetic); a table kernel.
// Masked multipliers also get their (rank <= 2) decomposition when one is
// found, so a kernel may use either form. When b ↦ b is an integer
// combination Σ_r c_r·g_r(b) of the decomposition's g_r, the table itself
// factors as T(a, b) = Σ_r (f_r(a) + c_r·a)·g_r(b) with no a·b term, one
// term fewer; that factoring is kept too, and kernels take the form with
// fewer int8 terms (int8_terms.h).
//
// Every decomposition is verified on all 65,536 operand pairs before it is
// returned: a wrong decomposition would silently change results, so one that
// fails is reported as an INTERNAL error instead.
//
// Thread-safety: AnalyzeStructure is a pure function of its arguments;
// Structure is a plain value.
#ifndef TRANSAXX_LIBS_APPROX_STRUCTURE_H_
#define TRANSAXX_LIBS_APPROX_STRUCTURE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

enum class KernelPath { kExactInt8, kMask, kLowRank, kTable };

// "exact_int8", "mask", "low_rank" or "table": the name used in JSON output.
const char* KernelPathName(KernelPath path);

// int8_table()(a, b) == (a & ~a_mask)·(b & ~b_mask) for all int8 a, b.
// Each mask is a low-bit mask 2^k - 1, 0 <= k <= 7.
struct MaskForm {
  int a_mask = 0;
  int b_mask = 0;
};

// int8_table()(a, b) == a·b + Σ_{r<rank} f[r][(uint8)a]·g[r][(uint8)b] for
// all int8 a, b, exactly in integers; without the a·b when with_product is
// false. f and g are indexed by the operand's byte: a = -1 is f[r][255].
struct Decomposition {
  bool with_product = true;
  int rank = 0;
  std::vector<std::array<int64_t, 256>> f, g;
};

struct StructureOptions {
  // Decompositions of a higher rank are not attempted: each term costs one
  // more full GEMM, and beyond ~8 a SIMD table kernel is faster.
  int max_rank = 8;
  // Every |f_r(a)| and |g_r(b)| must be at most this. The default keeps them
  // in int16, so each term is an integer GEMM on int16 operands (int8 when
  // the values allow) whose products fit int32; larger coefficients would
  // need wider, slower arithmetic to stay exact.
  int64_t max_abs_coefficient = 32767;
};

struct Structure {
  KernelPath path = KernelPath::kTable;
  std::optional<MaskForm> mask;                // set when the mask form holds
  std::optional<Decomposition> decomposition;  // set when an acceptable one exists
  // The table's own factoring (with_product false, the same rank and g_r as
  // `decomposition`), set with it when it exists and its coefficients are
  // acceptable.
  std::optional<Decomposition> table_decomposition;
  // Rank over the rationals of the int8 table's error matrix. Exact when at
  // most max_rank; above it, the modular rank of ErrorRank (error_metrics.h).
  int error_rank = 0;
  // Why the table path was chosen ("" on the other paths).
  std::string table_reason;

  // One line for people, e.g. "low-rank: a·b + 2 separable terms (rank 2)"
  // ("; a·b can fold into them" added when table_decomposition is set),
  // "mask: (A & ~1)·(B & ~1)", "table: error rank 192, generic table kernel".
  std::string Describe() const;
};

// Analyzes `multiplier` as described above. INVALID_ARGUMENT for options out
// of range (max_rank < 0 or > 256, max_abs_coefficient < 1); INTERNAL if a
// decomposition fails its verification (a bug, never returned as valid).
absl::StatusOr<Structure> AnalyzeStructure(const Multiplier& multiplier,
                                           const StructureOptions& options = {});

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_STRUCTURE_H_
