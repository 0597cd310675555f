// The reference approximate GEMM: an int8 matrix product in which every
// product a*w is replaced by a multiplier's table entry, accumulated in
// int32. It is the definition every faster kernel (cpu/, cuda/) must match
// bit for bit, so it is written to be obviously right, not fast.
//
// Layout: A is M x K row-major (activations, operand A of the table), W is
// K x N row-major (weights, operand B), C is M x N row-major:
//   C[m][n] = sum_k int8_table[TableIndex(A[m][k], W[k][n])]
// For a torch::linear weight [out, in] that is W = weight^T (K = in,
// N = out). With the `exact` multiplier the result is the plain int8 GEMM.
//
// Overflow: every partial sum lies between K * min(entry) and
// K * max(entry) over the multiplier's int8 table (its entries for all
// operands, -128 included), so the GEMM refuses K unless that interval fits
// in int32. For an EvoApprox table (|entry| <= 2^15) that admits K up to
// 2^16; for `exact` (max 2^14, min -127*128) up to 131,071.
//
// Thread-safety: reentrant; rows are computed in parallel with OpenMP
// (omp_get_max_threads() threads, which at::set_num_threads also sets).
#ifndef TRANSAXX_LIBS_APPROX_REFERENCE_GEMM_H_
#define TRANSAXX_LIBS_APPROX_REFERENCE_GEMM_H_

#include <cstdint>

#include "absl/status/status.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

// The largest K for which ApproxGemmReference with this multiplier cannot
// overflow (see above); at least 65,536 for tables whose entries fit in
// 16 bits.
int64_t MaxAccumulationDepth(const Multiplier& multiplier);

// OK when a GEMM with these arguments is well defined (the checks every
// approximate GEMM makes): INVALID_ARGUMENT when M, K or N is negative, a
// pointer is null while its matrix is not empty, or K >
// MaxAccumulationDepth.
absl::Status CheckGemmArguments(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                                const int32_t* C, int64_t M, int64_t K, int64_t N);

// Computes C = A (x) W as described above.
// INVALID_ARGUMENT, writing nothing, when M, K or N is negative, a pointer
// is null while its matrix is not empty, or K > MaxAccumulationDepth.
// REQUIRES: A, W and C hold M*K, K*N and M*N elements; C does not overlap
// A or W.
absl::Status ApproxGemmReference(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                                 int32_t* C, int64_t M, int64_t K, int64_t N);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_REFERENCE_GEMM_H_
