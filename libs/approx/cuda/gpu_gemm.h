// The approximate GEMM on an NVIDIA GPU: the same int32 sums as the
// reference (reference_gemm.h), bit for bit, for operands in device memory.
//
// Kernels, chosen per multiplier from its structure (structure.h):
// - kInt8Terms: structured multipliers (exact, masking, low rank) as the
//   weighted sum of int8 GEMMs of int8_terms.h on cuBLAS's int8 tensor-core
//   path. Terms of equal weight share one GEMM, their mapped operands
//   concatenated along K (an exact or masking multiplier is one plain int8
//   GEMM, a rank-R one with int8 coefficients one GEMM R + 1 times as deep,
//   R where a·b folds into the separable terms);
//   the operand maps and the weighted combination of several GEMMs are
//   small elementwise kernels.
// - kTableShared: any other multiplier whose int8 table fits 16 bits, either
//   as it is or as its error T(a,b) - a·b: the tiled table kernel with the
//   whole table (128 KB) in shared memory, one lookup per multiply.
// - kTableGlobal: the same tiled kernel reading the int32 table from global
//   memory (through the caches); for tables that fit no 16-bit form.
// Integer sums are exact in any order, so every kernel equals the reference.
//
// Thread-safety: a GpuMultiplier is immutable after Create; Gemm may be
// called from several threads at once, each with its own workspace (and a
// cuBLAS handle not used concurrently elsewhere, as cuBLAS requires).
#ifndef TRANSAXX_LIBS_APPROX_CUDA_GPU_GEMM_H_
#define TRANSAXX_LIBS_APPROX_CUDA_GPU_GEMM_H_

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

enum class GpuKernel { kInt8Terms, kTableShared, kTableGlobal };

// "int8_terms", "table_shared" or "table_global".
const char* GpuKernelName(GpuKernel kernel);

// The number of CUDA devices this process sees (0 without a driver or GPU).
int GpuDeviceCount();

// A multiplier's kernel data in one device's memory.
class GpuMultiplier {
 public:
  // Analyzes `multiplier` (structure_cache.h) and uploads what its kernels
  // need to `device`. FAILED_PRECONDITION when there is no such device;
  // INTERNAL on CUDA errors.
  static absl::StatusOr<std::unique_ptr<GpuMultiplier>> Create(const Multiplier& multiplier,
                                                               int device);
  ~GpuMultiplier();
  GpuMultiplier(const GpuMultiplier&) = delete;
  GpuMultiplier& operator=(const GpuMultiplier&) = delete;

  const Multiplier& multiplier() const { return multiplier_; }
  int device() const { return device_; }
  // The fastest kernel this multiplier can use.
  GpuKernel best_kernel() const;
  bool Supports(GpuKernel kernel) const;
  // One line for people, e.g. "int8_terms: 3 int8 GEMMs".
  std::string Describe() const;

  // Bytes of device scratch memory Gemm needs for this kernel and shape.
  size_t WorkspaceBytes(GpuKernel kernel, int64_t M, int64_t K, int64_t N) const;

  // C = A (x) W with A [M, K], W [K, N], C [M, N] row-major int8/int8/int32
  // in this multiplier's device memory, queued on `stream` (nothing waits
  // for it). Errors as ApproxGemmReference's argument checks, plus
  // FAILED_PRECONDITION for an unsupported kernel or a workspace smaller
  // than WorkspaceBytes, and INTERNAL for CUDA or cuBLAS errors at launch.
  // REQUIRES: pointers into `device()` memory; the workspace 256-byte
  // aligned (cudaMalloc's are); `blas` a handle on `device()`; C does not
  // overlap A, W or the workspace.
  absl::Status Gemm(GpuKernel kernel, const int8_t* A, const int8_t* W, int32_t* C, int64_t M,
                    int64_t K, int64_t N, void* workspace, size_t workspace_bytes,
                    cudaStream_t stream, cublasHandle_t blas) const;

 private:
  struct DeviceData;
  GpuMultiplier(Multiplier multiplier, int device, std::unique_ptr<DeviceData> data);
  bool WritesDirectly(int64_t K, int64_t N) const;

  Multiplier multiplier_;
  int device_;
  std::unique_ptr<DeviceData> data_;
};

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CUDA_GPU_GEMM_H_
