// The structured approximate GEMM: the same int32 sums as the table-lookup
// reference (reference_gemm.h), bit for bit, computed by exact dense GEMMs
// on transformed operands, using a multiplier's structure in its int8 term
// form (int8_terms.h):
//   C = Σ_t weight_t · (a_map_t(A) · b_map_t(W))   (mod 2^32)
// (one term for exact and masking multipliers, the identity plus the int8
// digits of each separable term for low-rank ones, or those digits alone
// where a·b folds into the terms). Two engines compute it:
//   kU8S8     u8·s8 GEMMs with int32 sums by FBGEMM (u8s8_gemm.h), in the
//             layout for its instruction set (u8s8_terms.h): every term a
//             run of depth K with VNNI, and without it int16 pair sums kept
//             exact.
//   kFloat32  float32 GEMMs of LibTorch (MKL/oneDNN). Terms of equal weight
//             are one GEMM, their mapped operands side by side along K, so
//             a rank-R multiplier costs one GEMM R + 1 (folded: R) times as
//             deep. A float32 sum is an exact integer, in whatever order
//             the library adds, while the magnitudes of its products add up
//             to at most 2^24; the bound of each term's products (max
//             |a_map| · max |b_map|: 2^14 for the identity and a folded
//             term, a few units to a few hundred for a separable term) sets
//             how deep one GEMM may go, and deeper sums are cut into such
//             chunks, added in wrapping uint32 arithmetic like the term
//             weights. The argument needs LibTorch's float32 matmuls in IEEE
//             float32 (FloatMatmulIsIeee).
// Per run of depth K the u8·s8 engine ran 1.6–2.2 times as fast as float32
// on an AVX2 CPU and 2.1–6.2 times with VNNI (bench/results/
// gemm_paths.md), but without VNNI it needs two runs for a full-range a·b,
// so it is chosen where its runs are no more than the float32 engine's
// terms: with VNNI every structured multiplier; without it every shared
// low-rank and masking table, not the exact ones, nor built-ins whose
// separable terms reach full range.
//
// Thread-safety: reentrant.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
#define TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_

#include <ATen/core/Tensor.h>

#include <optional>

#include "libs/approx/structure.h"

namespace transaxx::approx {

// Whether LibTorch's float32 matmuls compute in IEEE float32 now: false
// when this process allowed reduced precision (float32 matmul precision
// "high" or "medium", or tf32/bf16 for oneDNN), which would round the
// float32 engine's sums, so it does not run then.
bool FloatMatmulIsIeee();

enum class StructuredEngine { kFloat32, kU8S8 };

// "float32 GEMM" or "u8·s8 GEMM (FBGEMM)".
const char* StructuredEngineName(StructuredEngine engine);

// The engine the structured GEMM takes for `structure` now: kU8S8 where this
// CPU runs it and it takes no more runs of depth K than kFloat32 takes
// terms; else kFloat32 while FloatMatmulIsIeee(); else none (callers take an
// exact table kernel). None for the kTable path.
std::optional<StructuredEngine> ChosenStructuredEngine(const Structure& structure);

// C = A (x) W as int32 [M, N] for int8 a [M, K] and w [K, N] on the CPU
// (GPUs have their own kernels, cuda/gpu_gemm.h), by `engine` (default: the
// chosen one).
// c10::Error for operands that are not int8 [M, K] and [K, N] on the CPU,
// or when the engine cannot run here (kU8S8 without FBGEMM support, kFloat32
// while FloatMatmulIsIeee() is false, none chosen).
// REQUIRES: structure.path != kTable; structure was analyzed from the
// multiplier whose reference result is wanted; K <= MaxAccumulationDepth of
// that multiplier (so the true sums fit int32, as the reference checks).
at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a, const at::Tensor& w,
                              std::optional<StructuredEngine> engine = std::nullopt);

// StructuredGemmInt8(structure, a, w, engine).to(at::kFloat), bit for bit
// (zeros included: +0.0); the float32 engine skips the int32 round trip
// when one float GEMM holds every sum exactly: one term group of weight 1
// in one chunk, which exact and masking multipliers are up to K = 1024,
// for example.
// REQUIRES: as StructuredGemmInt8.
at::Tensor StructuredGemmFloat(const Structure& structure, const at::Tensor& a,
                               const at::Tensor& w,
                               std::optional<StructuredEngine> engine = std::nullopt);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_STRUCTURED_GEMM_H_
