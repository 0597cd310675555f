// The CUDA kernels of gpu_gemm.h, behind launch functions a host C++
// compiler can call. Internal to libs/approx/cuda: gpu_gemm.cc checks every
// argument before it launches, so these trust theirs.
//
// Every launch is queued on `stream` and returns the launch's error
// (cudaGetLastError), not the kernel's outcome.
#ifndef TRANSAXX_LIBS_APPROX_CUDA_GPU_KERNELS_H_
#define TRANSAXX_LIBS_APPROX_CUDA_GPU_KERNELS_H_

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace transaxx::approx::gpu {

// How the table kernel reads table entries T(a, b), indexed by
// ((uint8)a << 8) | (uint8)b:
//   kRaw16     int16 T, copied into shared memory;
//   kOffset16  int16 T - a·b, copied into shared memory, a·b added back;
//   kGlobal32  int32 T, read from global memory.
enum class TableForm { kRaw16, kOffset16, kGlobal32 };

// Dynamic shared memory the table kernel uses with `form`.
size_t TableGemmSharedBytes(TableForm form);

// C[M, N] = Σ_k T(A[m][k], W[k][n]), row-major, on at most `max_blocks`
// persistent blocks (a few per multiprocessor). REQUIRES M, N, K > 0.
cudaError_t LaunchTableGemm(TableForm form, const void* table, const int8_t* A, const int8_t* W,
                            int32_t* C, int64_t M, int64_t K, int64_t N, int max_blocks,
                            cudaStream_t stream);

// The operands of `count` int8 GEMMs concatenated along K, so one GEMM of
// depth count·width sums them all: for A [M, K] row-major and out
// [M, count·width] row-major, out[m][s·width + k] = maps[s][(uint8)A[m][k]]
// for k < K and 0 for K <= k < width. `maps` holds count·256 entries in
// device memory.
cudaError_t LaunchMapRows(const int8_t* maps, int count, const int8_t* A, int8_t* out, int64_t M,
                          int64_t K, int64_t width, cudaStream_t stream);

// The same for W [K, N] row-major, transposed: out [rows, count·width]
// row-major, out[n][s·width + k] = maps[s][(uint8)W[k][n]] for n < N and
// k < K, 0 elsewhere.
cudaError_t LaunchMapColumnsTransposed(const int8_t* maps, int count, const int8_t* W,
                                       int8_t* out, int64_t K, int64_t N, int64_t rows,
                                       int64_t width, cudaStream_t stream);

// C[m][n] = (overwrite ? 0 : C[m][n]) + weight · G[m][n] in wrapping 32-bit
// arithmetic, for C [M, N] and G [M, ldg] row-major.
cudaError_t LaunchAccumulate(const int32_t* G, int64_t ldg, int32_t* C, int64_t M, int64_t N,
                             uint32_t weight, bool overwrite, cudaStream_t stream);

}  // namespace transaxx::approx::gpu

#endif  // TRANSAXX_LIBS_APPROX_CUDA_GPU_KERNELS_H_
