// The process-wide memo of GpuMultipliers (gpu_gemm.h), keyed by a
// multiplier's cache_key() and the CUDA device: creating one analyzes the
// multiplier and uploads its tables, too slow to repeat for every GEMM of a
// forward pass.
//
// Thread-safety: safe to call from any thread. Concurrent first calls for
// one (multiplier, device) may both create it; one result is kept and the
// other freed. Results live until the process ends (a catalog holds tens of
// multipliers, a few hundred KB of device memory each) and are never
// destroyed, so no device memory is freed after the CUDA runtime shut down.
#ifndef TRANSAXX_LIBS_APPROX_CUDA_GPU_MULTIPLIER_CACHE_H_
#define TRANSAXX_LIBS_APPROX_CUDA_GPU_MULTIPLIER_CACHE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "libs/approx/cuda/gpu_gemm.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

// GpuMultiplier::Create(multiplier, device), created once per cache_key()
// and device. Errors are those of Create and are not memoized.
absl::StatusOr<std::shared_ptr<const GpuMultiplier>> CachedGpuMultiplier(
    const Multiplier& multiplier, int device);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CUDA_GPU_MULTIPLIER_CACHE_H_
