#include "libs/approx/cpu/table_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

#include "libs/approx/reference_gemm.h"

namespace transaxx::approx {
namespace {

// The expanded kernel's blocks: 32 columns (four 8-lane accumulators per
// row) by 8 values of k, so that one block of expanded rows, 8 × 256 × 32
// int32 = 256 KB, fits a core's L2 cache beside the streamed operand.
constexpr int64_t kColumns = 32;
constexpr int64_t kDepth = 8;
constexpr int64_t kBlockEntries = kDepth * 256 * kColumns;

// Storage for aligned vector loads and stores, on cache-line boundaries so
// that threads' strips never share a line: std::vector gives an
// over-aligned type its alignment.
struct alignas(64) Lanes {
  int32_t lane[8];
};

void ScalarRow(const int32_t* table, const int8_t* a, const int8_t* W, int32_t* c, int64_t K,
               int64_t N) {
  std::fill(c, c + N, 0);
  for (int64_t k = 0; k < K; ++k) {
    const int32_t* products = table + TableIndex(a[k], 0);
    const int8_t* w = W + k * N;
    for (int64_t n = 0; n < N; ++n) c[n] += products[static_cast<uint8_t>(w[n])];
  }
}

// Rows become columns: on return t[i] holds lane i of each of the inputs.
__attribute__((target("avx2"))) inline void Transpose8x8(__m256i t[8]) {
  __m256i u[8], w[8];
  for (int i = 0; i < 8; i += 2) {
    u[i] = _mm256_unpacklo_epi32(t[i], t[i + 1]);
    u[i + 1] = _mm256_unpackhi_epi32(t[i], t[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    w[i] = _mm256_unpacklo_epi64(u[i], u[i + 2]);
    w[i + 1] = _mm256_unpackhi_epi64(u[i], u[i + 2]);
    w[i + 2] = _mm256_unpacklo_epi64(u[i + 1], u[i + 3]);
    w[i + 3] = _mm256_unpackhi_epi64(u[i + 1], u[i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm256_permute2x128_si256(w[i], w[i + 4], 0x20);
    t[i + 4] = _mm256_permute2x128_si256(w[i], w[i + 4], 0x31);
  }
}

// One orientation of the GEMM for the expanded kernel, row-major:
//   out[i][j] = Σ_k lookup[x[k][j] · 256 + s[i][k]]
// s is rows × depth, x is depth × columns, out is rows × columns.
// REQUIRES: columns is a multiple of kColumns; out is 32-byte aligned.
struct Expansion {
  const int32_t* lookup;
  const uint8_t* s;
  const uint8_t* x;
  int32_t* out;
  int64_t rows, depth, columns;
};

// block[kk][v][j] = lookup[x[k0 + kk][j0 + j] · 256 + v] for kk < kb: the
// products of every possible streamed value v with the block's columns.
__attribute__((target("avx2"))) void ExpandBlock(const Expansion& e, int64_t k0, int64_t kb,
                                                 int64_t j0, int32_t* block) {
  for (int64_t kk = 0; kk < kb; ++kk) {
    const uint8_t* x = e.x + (k0 + kk) * e.columns + j0;
    for (int64_t j = 0; j < kColumns; j += 8) {
      const int32_t* rows[8];
      for (int i = 0; i < 8; ++i) rows[i] = e.lookup + 256 * x[j + i];
      int32_t* target = block + kk * 256 * kColumns + j;
      for (int v = 0; v < 256; v += 8) {
        __m256i t[8];
        for (int i = 0; i < 8; ++i) {
          t[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[i] + v));
        }
        Transpose8x8(t);
        for (int i = 0; i < 8; ++i) {
          _mm256_store_si256(reinterpret_cast<__m256i*>(target + (v + i) * kColumns), t[i]);
        }
      }
    }
  }
}

// out[i][j0 .. j0 + kColumns) += the block's rows selected by s[i][k0 .. k0 + kb).
__attribute__((target("avx2"))) void AccumulateBlock(const Expansion& e, const int32_t* block,
                                                     int64_t k0, int64_t kb, int64_t j0) {
  for (int64_t i = 0; i < e.rows; ++i) {
    __m256i* out = reinterpret_cast<__m256i*>(e.out + i * e.columns + j0);
    __m256i acc0 = _mm256_load_si256(out), acc1 = _mm256_load_si256(out + 1),
            acc2 = _mm256_load_si256(out + 2), acc3 = _mm256_load_si256(out + 3);
    const uint8_t* s = e.s + i * e.depth + k0;
    for (int64_t kk = 0; kk < kb; ++kk) {
      const __m256i* products =
          reinterpret_cast<const __m256i*>(block + (kk * 256 + s[kk]) * kColumns);
      acc0 = _mm256_add_epi32(acc0, _mm256_load_si256(products));
      acc1 = _mm256_add_epi32(acc1, _mm256_load_si256(products + 1));
      acc2 = _mm256_add_epi32(acc2, _mm256_load_si256(products + 2));
      acc3 = _mm256_add_epi32(acc3, _mm256_load_si256(products + 3));
    }
    _mm256_store_si256(out, acc0);
    _mm256_store_si256(out + 1, acc1);
    _mm256_store_si256(out + 2, acc2);
    _mm256_store_si256(out + 3, acc3);
  }
}

// Adds the expansion's sums to e.out (zero it first for the plain sums).
void RunExpansion(const Expansion& e) {
  const int64_t blocks = e.columns / kColumns;
#pragma omp parallel
  {
    std::vector<Lanes> storage(kBlockEntries / 8);
    int32_t* block = reinterpret_cast<int32_t*>(storage.data());
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t k0 = 0; k0 < e.depth; k0 += kDepth) {
        const int64_t kb = std::min(kDepth, e.depth - k0);
        ExpandBlock(e, k0, kb, b * kColumns, block);
        AccumulateBlock(e, block, k0, kb, b * kColumns);
      }
    }
  }
}

// The expanded kernel: oriented so that the larger of M and N is the
// expansion's rows, which share every block.
void Avx2Gemm(const int32_t* table, const int8_t* A, const int8_t* W, int32_t* C, int64_t M,
              int64_t K, int64_t N) {
  const bool transposed = N > M;
  const int64_t rows = transposed ? N : M;
  const int64_t columns = transposed ? M : N;
  const int64_t padded = (columns + kColumns - 1) / kColumns * kColumns;
  std::vector<uint8_t> x(static_cast<size_t>(K * padded), 0);
  std::vector<uint8_t> s;
  std::vector<int32_t> lookup;
  std::vector<Lanes> out(static_cast<size_t>(rows * padded / 8));
  Expansion e{table, reinterpret_cast<const uint8_t*>(A), x.data(),
              reinterpret_cast<int32_t*>(out.data()), rows, K, padded};
  if (transposed) {
    // C^T = W^T (x) A^T: s = W^T, x = A^T, and lookup[a · 256 + w] is the
    // table itself.
    s.resize(static_cast<size_t>(N * K));
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t n = 0; n < N; ++n) s[n * K + k] = static_cast<uint8_t>(W[k * N + n]);
      for (int64_t m = 0; m < M; ++m) x[k * padded + m] = static_cast<uint8_t>(A[m * K + k]);
    }
    e.s = s.data();
  } else {
    // s = A, x = W, and lookup[w · 256 + a] = table[TableIndex(a, w)].
    lookup.resize(65536);
    for (int a = 0; a < 256; ++a) {
      for (int w = 0; w < 256; ++w) lookup[w * 256 + a] = table[TableIndex(a, w)];
    }
    e.lookup = lookup.data();
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t n = 0; n < N; ++n) x[k * padded + n] = static_cast<uint8_t>(W[k * N + n]);
    }
  }
  RunExpansion(e);
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      C[m * N + n] = transposed ? e.out[n * padded + m] : e.out[m * padded + n];
    }
  }
}

}  // namespace

TableKernel BestTableKernel() {
  static const TableKernel best =
      __builtin_cpu_supports("avx2") ? TableKernel::kAvx2 : TableKernel::kScalar;
  return best;
}

const char* TableKernelName(TableKernel kernel) {
  return kernel == TableKernel::kAvx2 ? "avx2" : "scalar";
}

absl::Status ApproxGemmTable(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                             int32_t* C, int64_t M, int64_t K, int64_t N, TableKernel kernel) {
  if (absl::Status s = CheckGemmArguments(multiplier, A, W, C, M, K, N); !s.ok()) return s;
  const int32_t* table = multiplier.int8_table().data();
  if (kernel == TableKernel::kAvx2) {
    if (!__builtin_cpu_supports("avx2")) {
      return absl::FailedPreconditionError("the avx2 table kernel needs a CPU with AVX2");
    }
    Avx2Gemm(table, A, W, C, M, K, N);
    return absl::OkStatus();
  }
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m) ScalarRow(table, A + m * K, W, C + m * N, K, N);
  return absl::OkStatus();
}

}  // namespace transaxx::approx
