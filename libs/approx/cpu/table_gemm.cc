#include "libs/approx/cpu/table_gemm.h"

#include <immintrin.h>

#include <algorithm>

#include "libs/approx/reference_gemm.h"

namespace transaxx::approx {
namespace {

// Columns per register block of the AVX2 kernel: 8 accumulators of 8 lanes.
constexpr int64_t kBlock = 64;

void ScalarRow(const int32_t* table, const int8_t* a, const int8_t* W, int32_t* c, int64_t K,
               int64_t N, int64_t n_begin) {
  for (int64_t n = n_begin; n < N; ++n) c[n] = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int32_t* products = table + TableIndex(a[k], 0);
    const int8_t* w = W + k * N;
    for (int64_t n = n_begin; n < N; ++n) c[n] += products[static_cast<uint8_t>(w[n])];
  }
}

__attribute__((target("avx2"))) void Avx2Row(const int32_t* table, const int8_t* a,
                                               const int8_t* W, int32_t* c, int64_t K, int64_t N) {
  int64_t n0 = 0;
  for (; n0 + kBlock <= N; n0 += kBlock) {
    __m256i acc[kBlock / 8];
    for (__m256i& v : acc) v = _mm256_setzero_si256();
    for (int64_t k = 0; k < K; ++k) {
      const int* products = reinterpret_cast<const int*>(table + TableIndex(a[k], 0));
      const int8_t* w = W + k * N + n0;
      for (int j = 0; j < kBlock / 8; ++j) {
        // Eight weight bytes, zero-extended: the column indices of the row.
        const __m256i index = _mm256_cvtepu8_epi32(
            _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + 8 * j)));
        acc[j] = _mm256_add_epi32(acc[j], _mm256_i32gather_epi32(products, index, 4));
      }
    }
    for (int j = 0; j < kBlock / 8; ++j) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + n0 + 8 * j), acc[j]);
    }
  }
  for (; n0 + 8 <= N; n0 += 8) {
    __m256i acc = _mm256_setzero_si256();
    for (int64_t k = 0; k < K; ++k) {
      const int* products = reinterpret_cast<const int*>(table + TableIndex(a[k], 0));
      const __m256i index = _mm256_cvtepu8_epi32(
          _mm_loadl_epi64(reinterpret_cast<const __m128i*>(W + k * N + n0)));
      acc = _mm256_add_epi32(acc, _mm256_i32gather_epi32(products, index, 4));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + n0), acc);
  }
  ScalarRow(table, a, W, c, K, N, n0);
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
  if (kernel == TableKernel::kAvx2 && !__builtin_cpu_supports("avx2")) {
    return absl::FailedPreconditionError("the avx2 table kernel needs a CPU with AVX2");
  }
  const int32_t* table = multiplier.int8_table().data();
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m) {
    if (kernel == TableKernel::kAvx2) {
      Avx2Row(table, A + m * K, W, C + m * N, K, N);
    } else {
      ScalarRow(table, A + m * K, W, C + m * N, K, N, 0);
    }
  }
  return absl::OkStatus();
}

}  // namespace transaxx::approx
