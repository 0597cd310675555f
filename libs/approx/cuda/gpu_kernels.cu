#include "libs/approx/cuda/gpu_kernels.h"

#include <algorithm>

namespace transaxx::approx::gpu {
namespace {

// Output tile of a block: 16 x 16 threads, each 4 x 4 outputs, so each k
// step loads 4 activations and 4 weights (two 32-bit shared loads) for 16
// lookups. Tiles of K are staged in shared memory, A transposed so a
// thread's 4 rows are adjacent.
constexpr int kThreads = 256;
constexpr int kTileM = 64;
constexpr int kTileN = 64;
constexpr int kTileK = 32;
constexpr int kTableEntries = 65536;
constexpr size_t kStageBytes = kTileK * kTileM + kTileK * kTileN;
// Splits of K give small-M GEMMs enough blocks; each keeps this depth.
constexpr int64_t kMinSplitDepth = 64;

constexpr bool InShared(TableForm form) { return form != TableForm::kGlobal32; }

// Shared tables are stored swizzled: the 32-bit word of entry (a, b) is
// a·128 + ((b >> 1) ^ (a & 31)). A word's bank is then (b >> 1) ^ (a & 31)
// mod 32 instead of b >> 1 alone, so lanes that look up one weight value
// for different activations (every lane pair of a warp in this kernel's
// layout) do not all land in one bank.
__device__ __forceinline__ int SwizzledIndex(int a_byte, int b_byte) {
  return (a_byte << 8) | (b_byte ^ ((a_byte & 31) << 1));
}

template <TableForm kForm>
__device__ __forceinline__ int32_t Lookup(const void* table, int8_t a, int8_t b) {
  const int a_byte = static_cast<uint8_t>(a), b_byte = static_cast<uint8_t>(b);
  if constexpr (kForm == TableForm::kRaw16) {
    return static_cast<const int16_t*>(table)[SwizzledIndex(a_byte, b_byte)];
  } else if constexpr (kForm == TableForm::kOffset16) {
    return static_cast<const int16_t*>(table)[SwizzledIndex(a_byte, b_byte)] + a * b;
  } else {
    return __ldg(static_cast<const int32_t*>(table) + ((a_byte << 8) | b_byte));
  }
}

// Copies the int16 table into shared memory, swizzled, a 32-bit word
// (two entries of one row) at a time.
__device__ void CopyTableSwizzled(const int4* from, uint32_t* to) {
  constexpr int kVectors = kTableEntries * sizeof(int16_t) / sizeof(int4);
  for (int v = threadIdx.x; v < kVectors; v += kThreads) {
    const int4 x = from[v];
    const uint32_t words[4] = {static_cast<uint32_t>(x.x), static_cast<uint32_t>(x.y),
                               static_cast<uint32_t>(x.z), static_cast<uint32_t>(x.w)};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int word = v * 4 + i, a = word >> 7;
      to[(a << 7) | ((word & 127) ^ (a & 31))] = words[i];
    }
  }
}

// Work item = (output tile, split of K). With one split the block stores
// its sums; with several it adds them atomically to a zeroed C (integer
// addition wraps exactly, in any order).
template <TableForm kForm>
__global__ void __launch_bounds__(kThreads)
    TableGemmKernel(const void* global_table, const int8_t* __restrict__ A,
                    const int8_t* __restrict__ W, int32_t* __restrict__ C, int64_t M, int64_t K,
                    int64_t N, int splits, int64_t split_depth) {
  extern __shared__ int4 shared[];
  unsigned char* bytes = reinterpret_cast<unsigned char*>(shared);
  const void* table = global_table;
  if constexpr (InShared(kForm)) {
    CopyTableSwizzled(static_cast<const int4*>(global_table), reinterpret_cast<uint32_t*>(bytes));
    table = bytes;
    bytes += kTableEntries * sizeof(int16_t);
  }
  int8_t* a_stage = reinterpret_cast<int8_t*>(bytes);  // [kTileK][kTileM]
  int8_t* w_stage = a_stage + kTileK * kTileM;          // [kTileK][kTileN]

  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t tiles_n = (N + kTileN - 1) / kTileN;
  const int64_t items = ((M + kTileM - 1) / kTileM) * tiles_n * splits;
  for (int64_t item = blockIdx.x; item < items; item += gridDim.x) {
    const int64_t tile = item / splits;
    const int64_t m0 = (tile / tiles_n) * kTileM, n0 = (tile % tiles_n) * kTileN;
    const int64_t k_begin = (item % splits) * split_depth;
    const int64_t k_end = k_begin + split_depth < K ? k_begin + split_depth : K;
    int32_t acc[4][4] = {};
    for (int64_t k0 = k_begin; k0 < k_end; k0 += kTileK) {
      __syncthreads();  // the previous step (or the table copy) is done
      for (int i = threadIdx.x; i < kTileM * kTileK; i += kThreads) {
        const int m = i / kTileK, k = i % kTileK;
        a_stage[k * kTileM + m] =
            (m0 + m < M && k0 + k < k_end) ? A[(m0 + m) * K + k0 + k] : int8_t{0};
      }
      for (int i = threadIdx.x; i < kTileK * kTileN; i += kThreads) {
        const int k = i / kTileN, n = i % kTileN;
        w_stage[k * kTileN + n] =
            (k0 + k < k_end && n0 + n < N) ? W[(k0 + k) * N + n0 + n] : int8_t{0};
      }
      __syncthreads();
      // Zero padding must not be looked up: T(0, b) need not be 0.
      const int depth = static_cast<int>(k_end - k0 < kTileK ? k_end - k0 : kTileK);
      for (int k = 0; k < depth; ++k) {
        const char4 a = *reinterpret_cast<const char4*>(a_stage + k * kTileM + ty * 4);
        const char4 w = *reinterpret_cast<const char4*>(w_stage + k * kTileN + tx * 4);
        const int8_t av[4] = {a.x, a.y, a.z, a.w};
        const int8_t wv[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int i = 0; i < 4; ++i) {
#pragma unroll
          for (int j = 0; j < 4; ++j) acc[i][j] += Lookup<kForm>(table, av[i], wv[j]);
        }
      }
    }
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int64_t m = m0 + ty * 4 + i;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int64_t n = n0 + tx * 4 + j;
        if (m >= M || n >= N) continue;
        if (splits == 1) {
          C[m * N + n] = acc[i][j];
        } else {
          atomicAdd(C + m * N + n, acc[i][j]);
        }
      }
    }
  }
}

template <TableForm kForm>
cudaError_t Launch(const void* table, const int8_t* A, const int8_t* W, int32_t* C, int64_t M,
                   int64_t K, int64_t N, int max_blocks, cudaStream_t stream) {
  const size_t shared = TableGemmSharedBytes(kForm);
  cudaError_t e = cudaFuncSetAttribute(TableGemmKernel<kForm>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(shared));
  if (e != cudaSuccess) return e;
  const int64_t tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
  // Enough items for two rounds of blocks, without splits thinner than
  // kMinSplitDepth.
  const int64_t wanted = (2 * int64_t{max_blocks} + tiles - 1) / tiles;
  const int64_t splits = std::max<int64_t>(
      1, std::min(wanted, (K + kMinSplitDepth - 1) / kMinSplitDepth));
  const int64_t split_depth = ((K + splits - 1) / splits + kTileK - 1) / kTileK * kTileK;
  const int actual_splits = static_cast<int>((K + split_depth - 1) / split_depth);
  if (actual_splits > 1) {
    e = cudaMemsetAsync(C, 0, static_cast<size_t>(M * N) * sizeof(int32_t), stream);
    if (e != cudaSuccess) return e;
  }
  const int blocks = static_cast<int>(std::min<int64_t>(tiles * actual_splits, max_blocks));
  TableGemmKernel<kForm><<<blocks, kThreads, shared, stream>>>(table, A, W, C, M, K, N,
                                                               actual_splits, split_depth);
  return cudaGetLastError();
}

// Rows of a 2-D launch: blockIdx.y strides over them, so any count fits the
// grid's limit of 65,535.
unsigned GridRows(int64_t rows) { return static_cast<unsigned>(std::min<int64_t>(rows, 65535)); }
unsigned GridColumns(int64_t columns, int per_block) {
  return static_cast<unsigned>((columns + per_block - 1) / per_block);
}

// One thread per (m, k < width): reads A[m][k] once, writes all segments.
__global__ void MapRowsKernel(const int8_t* __restrict__ maps, int count,
                              const int8_t* __restrict__ A, int8_t* __restrict__ out, int64_t M,
                              int64_t K, int64_t width) {
  const int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (k >= width) return;
  for (int64_t m = blockIdx.y; m < M; m += gridDim.y) {
    int8_t* row = out + m * count * width + k;
    if (k < K) {
      const int byte = static_cast<uint8_t>(A[m * K + k]);
      for (int s = 0; s < count; ++s) row[s * width] = __ldg(maps + s * 256 + byte);
    } else {
      for (int s = 0; s < count; ++s) row[s * width] = 0;
    }
  }
}

// 32 x 32 tiles transposed through shared memory, so W is read and `out`
// written along rows.
constexpr int kTranspose = 32;
__global__ void MapColumnsTransposedKernel(const int8_t* __restrict__ maps, int count,
                                           const int8_t* __restrict__ W, int8_t* __restrict__ out,
                                           int64_t K, int64_t N, int64_t rows, int64_t width) {
  __shared__ int8_t tile[kTranspose][kTranspose + 4];
  const int64_t k0 = blockIdx.x * int64_t{kTranspose};
  const int64_t ld = count * width;
  for (int64_t n0 = blockIdx.y * int64_t{kTranspose}; n0 < rows;
       n0 += int64_t{gridDim.y} * kTranspose) {
    __syncthreads();
    for (int r = threadIdx.y; r < kTranspose; r += blockDim.y) {
      const int64_t k = k0 + r, n = n0 + threadIdx.x;
      tile[r][threadIdx.x] = (k < K && n < N) ? W[k * N + n] : int8_t{0};
    }
    __syncthreads();
    for (int r = threadIdx.y; r < kTranspose; r += blockDim.y) {
      const int64_t n = n0 + r, k = k0 + threadIdx.x;
      if (n >= rows || k >= width) continue;
      const bool inside = n < N && k < K;
      const int byte = static_cast<uint8_t>(tile[threadIdx.x][r]);
      for (int s = 0; s < count; ++s) {
        out[n * ld + s * width + k] = inside ? __ldg(maps + s * 256 + byte) : int8_t{0};
      }
    }
  }
}

__global__ void AccumulateKernel(const int32_t* __restrict__ G, int64_t ldg, int32_t* C, int64_t M,
                                 int64_t N, uint32_t weight, bool overwrite) {
  const int64_t n = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (n >= N) return;
  for (int64_t m = blockIdx.y; m < M; m += gridDim.y) {
    const uint32_t term = weight * static_cast<uint32_t>(G[m * ldg + n]);
    int32_t& c = C[m * N + n];
    c = static_cast<int32_t>(overwrite ? term : static_cast<uint32_t>(c) + term);
  }
}

}  // namespace

size_t TableGemmSharedBytes(TableForm form) {
  return kStageBytes + (InShared(form) ? kTableEntries * sizeof(int16_t) : 0);
}

cudaError_t LaunchTableGemm(TableForm form, const void* table, const int8_t* A, const int8_t* W,
                            int32_t* C, int64_t M, int64_t K, int64_t N, int max_blocks,
                            cudaStream_t stream) {
  switch (form) {
    case TableForm::kRaw16:
      return Launch<TableForm::kRaw16>(table, A, W, C, M, K, N, max_blocks, stream);
    case TableForm::kOffset16:
      return Launch<TableForm::kOffset16>(table, A, W, C, M, K, N, max_blocks, stream);
    case TableForm::kGlobal32:
      return Launch<TableForm::kGlobal32>(table, A, W, C, M, K, N, max_blocks, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchMapRows(const int8_t* maps, int count, const int8_t* A, int8_t* out, int64_t M,
                          int64_t K, int64_t width, cudaStream_t stream) {
  const dim3 grid(GridColumns(width, kThreads), GridRows(M));
  MapRowsKernel<<<grid, kThreads, 0, stream>>>(maps, count, A, out, M, K, width);
  return cudaGetLastError();
}

cudaError_t LaunchMapColumnsTransposed(const int8_t* maps, int count, const int8_t* W,
                                       int8_t* out, int64_t K, int64_t N, int64_t rows,
                                       int64_t width, cudaStream_t stream) {
  const dim3 grid(GridColumns(width, kTranspose), GridRows((rows + kTranspose - 1) / kTranspose));
  MapColumnsTransposedKernel<<<grid, dim3(kTranspose, 8), 0, stream>>>(maps, count, W, out, K, N,
                                                                       rows, width);
  return cudaGetLastError();
}

cudaError_t LaunchAccumulate(const int32_t* G, int64_t ldg, int32_t* C, int64_t M, int64_t N,
                             uint32_t weight, bool overwrite, cudaStream_t stream) {
  const dim3 grid(GridColumns(N, kThreads), GridRows(M));
  AccumulateKernel<<<grid, kThreads, 0, stream>>>(G, ldg, C, M, N, weight, overwrite);
  return cudaGetLastError();
}

}  // namespace transaxx::approx::gpu
