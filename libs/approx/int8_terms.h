// The structured approximate GEMM as a weighted sum of plain int8 GEMMs, the
// form int8 tensor cores (and any int8 BLAS) compute:
//   C = Σ_t weight_t · (a_map_t(A) · b_map_t(W))   (mod 2^32)
// where a_map_t and b_map_t replace each int8 operand by another int8 value
// (a 256-entry lookup) and each product a_map_t(A) · b_map_t(W) is an exact
// int8 GEMM with int32 sums.
//
// Terms of a structure (structure.h):
//   kExactInt8  one term, identity maps;
//   kMask       one term, masking maps;
//   kLowRank    the identity term (none where a·b folds into the separable
//               terms and that gives fewer terms, structure.h), then for
//               each separable term f_r(a)·g_r(b)
//               the products of the int8 digits of f_r and g_r (negated
//               first, (-f_r)·(-g_r), when that makes both fit int8, as
//               for g = 128·bit): a coefficient outside int8 is written in
//               balanced base 128,
//               f = Σ_i d_i·128^i with d_i in -64..63 and a top digit in
//               -128..127, so f_r·g_r = Σ_{i,j} 128^(i+j) · d_i(f)·d_j(g).
// Why modulo 2^32 is exact: every term's sum is an exact integer and the
// weights are integers, so the wrapped uint32 total is congruent to the true
// sum, and the true sum fits int32 whenever K <= MaxAccumulationDepth (the
// reference's own precondition); reading the total as int32 gives it back.
// Each term's own sum fits int32 when K <= kMaxInt8TermDepth (products of two
// int8 values are at most 2^14); executors split deeper sums into chunks.
//
// Thread-safety: a pure function; Int8Term is a plain value.
#ifndef TRANSAXX_LIBS_APPROX_INT8_TERMS_H_
#define TRANSAXX_LIBS_APPROX_INT8_TERMS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/approx/structure.h"

namespace transaxx::approx {

// Deepest K for which one int8 GEMM's int32 sums cannot overflow:
// 131,071 · 128 · 128 < 2^31.
constexpr int64_t kMaxInt8TermDepth = 131071;

struct Int8Term {
  std::array<int8_t, 256> a_map{};  // indexed by the operand's byte (uint8)a
  std::array<int8_t, 256> b_map{};
  uint32_t weight = 1;
};

// The terms of `structure`. INVALID_ARGUMENT for the kTable path (no
// structure to use).
absl::StatusOr<std::vector<Int8Term>> Int8Terms(const Structure& structure);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_INT8_TERMS_H_
