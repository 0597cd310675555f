// The published way of emulating an approximate multiplier on a GPU, the
// baseline of the GPU benchmark: one thread per output, one lookup in an
// int32 table in global memory per multiply-accumulate.
#ifndef TRANSAXX_BENCH_GPU_NAIVE_TABLE_H_
#define TRANSAXX_BENCH_GPU_NAIVE_TABLE_H_

#include <cuda_runtime_api.h>

#include <cstdint>

namespace transaxx::approx {

// C [M, N] = Σ_k table[((uint8)A[m][k] << 8) | (uint8)W[k][n]], row-major,
// queued on `stream`. REQUIRES M <= 65535 (one grid row per m); device
// pointers.
cudaError_t LaunchNaiveTableGemm(const int32_t* table, const int8_t* A, const int8_t* W,
                                 int32_t* C, int64_t M, int64_t K, int64_t N, cudaStream_t stream);

}  // namespace transaxx::approx

#endif  // TRANSAXX_BENCH_GPU_NAIVE_TABLE_H_
