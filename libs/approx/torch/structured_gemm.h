// The structured approximate GEMM: the same int32 sums as the table-lookup
// reference (reference_gemm.h), bit for bit, computed by exact dense GEMMs
// of LibTorch (MKL/oneDNN on the CPU) on transformed operands, using a
// multiplier's structure in its int8 term form (int8_terms.h):
//   C = Σ_t weight_t · (a_map_t(A) · b_map_t(W))   (mod 2^32)
// (one term for exact and masking multipliers, the identity plus the int8
// digits of each separable term for low-rank ones, or those digits alone
// where a·b folds into the terms). Terms of equal weight are one float32
// GEMM, their mapped operands side by side along K, so a rank-R multiplier
// with int8 coefficients costs one GEMM R + 1 (folded: R) times as deep. A
// float32 sum is an exact integer, in whatever order the library adds,
// while the magnitudes of its products add up to at most 2^24; the bound of
// each term's products (max |a_map| · max |b_map|: 2^14 for the identity
// and a folded term, a few units to a few hundred for a separable term)
// sets how deep one GEMM may go, and deeper sums are cut into such chunks,
// added in wrapping uint32 arithmetic like the term weights. The argument
// needs LibTorch's float32 matmuls in IEEE float32 (FloatMatmulIsIeee).
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
#define TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_

#include <ATen/core/Tensor.h>

#include "libs/approx/structure.h"

namespace transaxx::approx {

// Whether LibTorch's float32 matmuls compute in IEEE float32 now: false
// when this process allowed reduced precision (float32 matmul precision
// "high" or "medium", or tf32/bf16 for oneDNN), which would round the
// structured GEMM's sums; callers then take an exact table kernel.
bool FloatMatmulIsIeee();

// C = A (x) W as int32 [M, N] for int8 a [M, K] and w [K, N] on the CPU
// (GPUs have their own kernels, cuda/gpu_gemm.h).
// c10::Error for operands that are not int8 [M, K] and [K, N] on the CPU,
// or when FloatMatmulIsIeee() is false.
// REQUIRES: structure.path != kTable; structure was analyzed from the
// multiplier whose reference result is wanted; K <= MaxAccumulationDepth of
// that multiplier (so the true sums fit int32, as the reference checks).
at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a, const at::Tensor& w);

// StructuredGemmInt8(structure, a, w).to(at::kFloat), bit for bit (zeros
// included: +0.0), without the int32 round trip when one float GEMM holds
// every sum exactly: one term group of weight 1 in one chunk, which exact
// and masking multipliers are up to K = 1024 and the shared low-rank ones
// at K = 384, for example.
// REQUIRES: as StructuredGemmInt8.
at::Tensor StructuredGemmFloat(const Structure& structure, const at::Tensor& a,
                               const at::Tensor& w);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
