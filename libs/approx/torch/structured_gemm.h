// The structured approximate GEMM: the same int32 sums as the table-lookup
// reference (reference_gemm.h), bit for bit, computed by exact dense GEMMs
// of LibTorch (MKL/oneDNN on the CPU) on transformed operands, using a
// multiplier's structure in its int8 term form (int8_terms.h):
//   C = Σ_t weight_t · (a_map_t(A) · b_map_t(W))   (mod 2^32)
// (one term for exact and masking multipliers, the identity plus the int8
// digits of each separable term for low-rank ones). Terms of equal weight
// are one float32 GEMM, their mapped operands side by side along K, so a
// rank-R multiplier with int8 coefficients costs one GEMM R + 1 times as
// deep. A float32 sum is an exact integer, in whatever order the library
// adds, while the magnitudes of its products add up to at most 2^24; the
// bound of each term's products (max |a_map| · max |b_map|: 2^14 for the
// identity, often a few units for a separable term) sets how deep one GEMM
// may go, and deeper sums are cut into such chunks, added in wrapping
// uint32 arithmetic like the term weights.
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
#define TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_

#include <ATen/core/Tensor.h>

#include "libs/approx/structure.h"

namespace transaxx::approx {

// C = A (x) W as int32 [M, N] for int8 a [M, K] and w [K, N] on the CPU
// (GPUs have their own kernels, cuda/gpu_gemm.h).
// REQUIRES: structure.path != kTable; structure was analyzed from the
// multiplier whose reference result is wanted; K <= MaxAccumulationDepth of
// that multiplier (so the true sums fit int32, as the reference checks).
at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a, const at::Tensor& w);

// StructuredGemmInt8(structure, a, w).to(at::kFloat), bit for bit, without
// the int32 round trip when one float GEMM holds every sum exactly (one
// term group of weight 1 in one chunk: exact and masking multipliers, and
// low-rank ones with small coefficients, up to K = 1024 at least).
// REQUIRES: as StructuredGemmInt8.
at::Tensor StructuredGemmFloat(const Structure& structure, const at::Tensor& a,
                               const at::Tensor& w);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
