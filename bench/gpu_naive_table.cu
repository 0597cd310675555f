#include "bench/gpu_naive_table.h"

namespace transaxx::approx {
namespace {

__global__ void NaiveTableGemmKernel(const int32_t* table, const int8_t* A, const int8_t* W,
                                     int32_t* C, int64_t M, int64_t K, int64_t N) {
  const int64_t n = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  const int64_t m = blockIdx.y;
  if (n >= N) return;
  int32_t sum = 0;
  for (int64_t k = 0; k < K; ++k) {
    sum += table[(static_cast<uint8_t>(A[m * K + k]) << 8) | static_cast<uint8_t>(W[k * N + n])];
  }
  C[m * N + n] = sum;
}

}  // namespace

cudaError_t LaunchNaiveTableGemm(const int32_t* table, const int8_t* A, const int8_t* W,
                                 int32_t* C, int64_t M, int64_t K, int64_t N, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((N + 127) / 128), static_cast<unsigned>(M));
  NaiveTableGemmKernel<<<grid, 128, 0, stream>>>(table, A, W, C, M, K, N);
  return cudaGetLastError();
}

}  // namespace transaxx::approx
