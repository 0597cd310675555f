// The generic fast approximate GEMM on the CPU, for multipliers without an
// exact structure (structure.h path kTable): the same sums as the
// reference (reference_gemm.h), bit for bit, from the int8 table, with SIMD
// table lookups.
//
// Loop order: for each row m of A and a block of columns of W, the
// accumulators stay in registers while k runs; for each k the table row of
// A[m][k] (256 int32, 1 KB) is the lookup target and eight bytes of row k
// of W give eight lookups at once (AVX2 gathers). Integer sums are exact
// and their order does not change them, so every kernel variant equals the
// reference.
//
// Variants: kAvx2 (x86-64 CPUs with AVX2, chosen at run time) and kScalar
// (everywhere). Rows are computed in parallel with OpenMP.
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_
#define TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_

#include <cstdint>

#include "absl/status/status.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

enum class TableKernel { kScalar, kAvx2 };

// The fastest variant this CPU runs.
TableKernel BestTableKernel();
// "scalar" or "avx2".
const char* TableKernelName(TableKernel kernel);

// C = A (x) W as ApproxGemmReference defines it, with the same argument
// checks and errors; FAILED_PRECONDITION when `kernel` needs an instruction
// set this CPU lacks.
// REQUIRES: as ApproxGemmReference.
absl::Status ApproxGemmTable(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                             int32_t* C, int64_t M, int64_t K, int64_t N,
                             TableKernel kernel = BestTableKernel());

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_
