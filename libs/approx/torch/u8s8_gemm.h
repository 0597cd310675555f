// The structured GEMM's int8 terms as u8·s8 GEMMs with int32 sums on the
// CPU, by FBGEMM (which LibTorch ships for x86 CPUs with AVX2 or AVX-512),
// in the layout of u8s8_terms.h that keeps them exact: per group the mapped
// operands, one GEMM, then the offsets' column shares off and the weight
// on, added in wrapping uint32 arithmetic (modulo 2^32, int8_terms.h).
// Each of LibTorch's intra-op threads takes its share of A's rows through
// all of it (mapping by cpu/byte_map.h, FBGEMM's GEMM, the groups' shares
// added up), in blocks of about 1 MB of mapped bytes. W's side
// (mapped, packed for FBGEMM's instruction set, and its columns' offset
// shares) is kept in the weight cache (weight_operand_cache.h,
// CachedDerivedValue), per instruction set, while W's values stay the same,
// as an approximate layer's weight operand does from call to call.
// Per run of depth K, FBGEMM's u8·s8 GEMM ran 1.6–2.2 times as fast as
// LibTorch's float32 GEMM on ViT shapes on an AVX2 CPU, and 2.1–6.2 times
// with VNNI (bench/results/gemm_paths.md), so terms that take no more runs
// here than float32 GEMMs there are faster here (structured_gemm.h chooses).
//
// Thread-safety: reentrant; the GEMM runs on LibTorch's intra-op threads.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_U8S8_GEMM_H_
#define TRANSAXX_LIBS_APPROX_TORCH_U8S8_GEMM_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "libs/approx/u8s8_terms.h"

namespace transaxx::approx {

// Whether this CPU runs FBGEMM's u8·s8 GEMM.
bool U8S8GemmAvailable();

// Whether FBGEMM's u8·s8 kernels add the products at depths 2i and 2i + 1
// in saturating int16 (AVX2 and AVX-512 without VNNI), the `saturating_pairs`
// that U8S8Groups must lay the terms out for; false where they run VNNI.
// Follows FBGEMM's instruction set, which its FBGEMM_ENABLE_INSTRUCTIONS
// variable or fbgemmForceIsa can lower from the CPU's best.
bool U8S8PairSumsSaturate();

// Σ_g weight_g · (group g's sums) for int8 a [M, K] and w [K, N] on the CPU,
// read as int32 [M, N], or (`as_float`) converted to float32.
// Throws c10::Error where a group laid out for VNNI (saturating_pairs false)
// meets kernels whose pair sums saturate: FBGEMM's instruction set was
// lowered after the layout was built.
// REQUIRES: U8S8GemmAvailable(); a and w int8 [M, K] and [K, N] on the CPU;
// M, N and every group's depth below 2^31; FBGEMM's instruction set is not
// changed while the call runs.
at::Tensor U8S8GemmSums(const std::vector<U8S8Group>& groups, const at::Tensor& a,
                        const at::Tensor& w, bool as_float);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_U8S8_GEMM_H_
