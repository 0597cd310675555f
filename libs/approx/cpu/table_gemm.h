// The generic fast approximate GEMM on the CPU, for multipliers without an
// exact structure (structure.h path kTable): the same sums as the
// reference (reference_gemm.h), bit for bit, from the int8 table.
//
// Variants:
//   kScalar      one table lookup per multiply-accumulate, the way AdaPT and
//                TransAxx emulate approximate layers: for each row m and
//                each k, the table row of A[m][k] is indexed by the bytes of
//                row k of W. It runs everywhere and is the baseline of the
//                benchmark.
//   kAvx2        expanded rows, for x86-64 CPUs with AVX2. For a block of 8
//                values of k and 32 columns of W it first writes, for every
//                one of the 256 possible values of A[m][k], the 32 products
//                with those columns (8 × 256 × 32 int16 = 128 KB, which stays
//                in a core's L2 cache), 16 columns at a time by transposing
//                table rows within 128-bit halves. Then every row m adds,
//                per k, the 32 products its A[m][k] selects with four
//                widening vector adds: no lookup per multiply-accumulate at
//                all. Tables with an entry outside int16 take int32 entries,
//                4 values of k and 8 columns at a time: int16 halves the
//                bytes every block writes and every row reads. Writing a
//                block costs 256 products per column and k, and is shared by
//                all rows, so the GEMM is oriented to share it among the
//                larger of M and N: when N > M it computes C^T, whose rows
//                are W's columns, with the operands' roles in the table
//                swapped.
//   kAvx512      for CPUs with AVX-512 F, BW, VBMI and VNNI, and int16
//                entries (tables with int32 ones run as kAvx2 runs them:
//                expanding them this way measured no faster). The low and
//                the high bytes of the 256 entries of one operand value fill
//                four 64-byte registers each, which vpermi2b indexes with 64
//                values of the other operand at a time (byte_lookup.h);
//                byte unpacks join the bytes into entries, and vpdpwssd adds
//                16-bit entries into 32-bit sums without shuffles. Two forms:
//                - expanded (Avx512Form::kExpanded): kAvx2's blocks and
//                  orientation, each block written by these lookups (32
//                  columns of two values of k per lookup) instead of
//                  transposes. Computed transposed, it expands only A's
//                  full blocks of 32 rows and leaves the rest (197 tokens:
//                  5 rows) to the direct form, so that no block is mostly
//                  padding and 6 blocks split evenly over 2 threads where
//                  7 did not;
//                - direct (Avx512Form::kDirect): no blocks. For each row m
//                  of A and each k, the registers of A[m][k]'s entries
//                  look up W's row k, 64 columns at a time, straight into
//                  row m's sums. It costs the same per multiply-accumulate
//                  whatever the shape, where a block's writing is shared by
//                  the expansion's rows (the larger of M and N) and costs
//                  more than their sums when they are few; it also needs no
//                  transposes, padding or 128 KB block per thread.
//                The direct form runs when M and N are both below 512: on
//                ViT-S/16's shapes (K = 384) it measured 0.6-0.9 of the
//                expanded form's time with 197 to 394 rows, 0.9-1.0 with
//                591, and 1.2 times it from 788 on.
// The fastest variant the CPU runs is chosen at run time.
// Integer sums are exact and their order does not change them, so every
// variant equals the reference. Work is spread over OpenMP threads by rows
// (kScalar), by rows and 256-column groups (the direct form) or by 32-column
// blocks (the expanded ones).
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_
#define TRANSAXX_LIBS_APPROX_CPU_TABLE_GEMM_H_

#include <cstdint>

#include "absl/status/status.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

enum class TableKernel { kScalar, kAvx2, kAvx512 };

// Whether this CPU has the instructions `kernel` needs.
bool TableKernelSupported(TableKernel kernel);
// The fastest variant this CPU runs.
TableKernel BestTableKernel();
// "scalar", "avx2" or "avx512".
const char* TableKernelName(TableKernel kernel);
// The variant that computes `multiplier`'s GEMMs when `kernel` is asked for:
// `kernel`, except kAvx2 for kAvx512 and int32 entries.
TableKernel TableKernelFor(const Multiplier& multiplier, TableKernel kernel);

// The forms of kAvx512 (see above), and the one it takes for an M×K · K×N
// GEMM: kDirect when M and N are both below kDirectBelow.
enum class Avx512Form { kDirect, kExpanded };
inline constexpr int64_t kDirectBelow = 512;
Avx512Form Avx512FormFor(int64_t M, int64_t N);

// Bits of the expanded kernels' entries for `multiplier`: 16 when every
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
