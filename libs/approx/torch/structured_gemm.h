// The structured approximate GEMM: the same int32 sums as the table-lookup
// reference (reference_gemm.h), bit for bit, computed by exact dense GEMMs
// of LibTorch (MKL/oneDNN on the CPU, cuBLAS on a GPU) on transformed
// operands, using a multiplier's structure (structure.h):
//   kExactInt8  C = A·W
//   kMask       C = (A & ~ma)·(W & ~mb)
//   kLowRank    C = A·W + Σ_r f_r(A)·g_r(W), f_r and g_r applied elementwise
// Each term is one floating-point GEMM whose every product and partial sum
// is an integer small enough to be represented exactly, so the order of
// summation the library picks does not matter: for a term whose products
// are bounded by P, K is split into chunks of at most 2^24 / P (float32) or,
// when that is under 256, 2^53 / P (float64); chunk results are exact
// integers, summed in int64.
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
#define TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_

#include <ATen/core/Tensor.h>

#include "libs/approx/structure.h"

namespace transaxx::approx {

// C = A (x) W as int32 [M, N] for int8 a [M, K] and w [K, N] on one device.
// REQUIRES: structure.path != kTable; structure was analyzed from the
// multiplier whose reference result is wanted; K <= MaxAccumulationDepth of
// that multiplier (so the true sums fit int32, as the reference checks).
at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a, const at::Tensor& w);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
