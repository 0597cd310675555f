// The structured approximate GEMM: the same int32 sums as the table-lookup
// reference (reference_gemm.h), bit for bit, computed by exact dense GEMMs
// of LibTorch (MKL/oneDNN on the CPU) on transformed operands, using a
// multiplier's structure in its int8 term form (int8_terms.h):
//   C = Σ_t weight_t · (a_map_t(A) · b_map_t(W))   (mod 2^32)
// (one term for exact and masking multipliers, the identity plus the int8
// digits of each separable term for low-rank ones). Terms of equal weight
// are one float32 GEMM, their mapped operands side by side along K, so a
// rank-R multiplier with int8 coefficients costs one GEMM R + 1 times as
// deep. Every product is at most 2^14, so a float32 sum of up to 2^10 of
// them is an exact integer whatever order the library sums in; deeper sums
// are split into such chunks and added in int32 (int64 for groups deeper
// than kMaxInt8TermDepth).
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

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
