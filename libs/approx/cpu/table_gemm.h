// The generic fast approximate GEMM on the CPU, for multipliers without an
// exact structure (structure.h path kTable): the same sums as the
// reference (reference_gemm.h), bit for bit, from the int8 table.
//
// Variants:
//   kScalar  one table lookup per multiply-accumulate, the way AdaPT and
//            TransAxx emulate approximate layers: for each row m and each
//            k, the table row of A[m][k] is indexed by the bytes of row k
//            of W. It runs everywhere and is the baseline of the benchmark.
//   kAvx2    expanded rows, for x86-64 CPUs with AVX2 (chosen at run time).
//            For a block of 8 values of k and 32 columns of W it first
//            writes, for every one of the 256 possible values of A[m][k],
//            the 32 products with those columns (8 × 256 × 32 int16 =
//            128 KB, which stays in a core's L2 cache), 16 columns at a
//            time by transposing table rows within 128-bit halves. Then
//            every row m adds, per k, the 32 products its A[m][k] selects
//            with four widening vector adds: no lookup per
//            multiply-accumulate at all. Tables with an entry outside int16
//            take int32 entries, 4 values of k and 8 columns at a time:
//            int16 halves the bytes every block writes and every row reads.
//            Writing a block costs
//            256 products per column and k, and is shared by all rows, so
//            the GEMM is oriented to share it among the larger of M and N:
//            when N > M it computes C^T, whose rows are W's columns, with
//            the operands' roles in the table swapped.
// Integer sums are exact and their order does not change them, so every
// variant equals the reference. Work is spread over OpenMP threads by rows
// (kScalar) or by 32-column blocks (kAvx2).
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

// Bits of the avx2 kernel's expanded entries for `multiplier`: 16 when every
// entry of its int8 table fits int16 (every 8-bit product table does), 32
// otherwise.
int ExpandedEntryBits(const Multiplier& multiplier);

// C = A (x) W as ApproxGemmReference defines it, with the same argument
// checks and errors; FAILED_PRECONDITION when `kernel` needs an instruction
// set this CPU lacks.
// REQUIRES: as ApproxGemmReference.
absl::Status ApproxGemmTable(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                             int32_t* C, int64_t M, int64_t K, int64_t N,
                             TableKernel kernel = BestTableKernel());

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_
