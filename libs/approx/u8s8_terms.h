// The int8 terms of a structured multiplier (int8_terms.h) laid out for
// u8·s8 GEMMs with int32 sums, such as FBGEMM's, which LibTorch ships for
// x86 CPUs. With VNNI, their kernels add four u8·s8 products at a time into
// the int32 sum (vpdpbusd), and every term runs alone. Without VNNI, their
// AVX2 and AVX-512 kernels multiply unsigned by signed bytes with
// vpmaddubsw, which adds the products at depths 2i and 2i + 1 in saturating
// int16 before they reach the int32 sum: a sum is exact only while every
// such pair stays within -32768..32767. The saturating layout keeps every
// pair there:
//   - A term's a side becomes unsigned, u(a) = a_map(a) / 2^p + offset in
//     0..255, and its b side s(b) = b_map(b) / 2^q. The powers of two p and
//     q (common factors of all the map's values) move into the weight only
//     where the term's pairs would not fit otherwise, as for masking
//     multipliers' (a & ~1) = 2·(a >> 1): elsewhere they would part a term
//     from the partners of its group. The offset's share, offset · Σ_k
//     s(W[k][n]), comes off column n after the GEMM (in both layouts).
//   - A term whose products, two in a row, fit int16 runs alone: its K
//     depths in a row, and a zero depth after an odd K, so that the next
//     run starts on a pair.
//   - A term with larger products (a full 8-bit product: u = a + 128 up to
//     255 times b down to -128 is -32,640) runs interleaved with a partner,
//     depth 2k its own and 2k + 1 the partner's: a term of its group whose
//     products fit beside it, else zeros.
// So the identity term of a low-rank multiplier takes one of the small
// separable terms along (theirs are single digits on the shared tables),
// and R + 1 terms cost R + 1 runs of depth K, as R + 1 terms do in float32;
// an exact multiplier's full-range a·b costs two, where with VNNI it costs
// one.
//
// Thread-safety: pure functions; the structs are plain values.
#ifndef TRANSAXX_LIBS_APPROX_U8S8_TERMS_H_
#define TRANSAXX_LIBS_APPROX_U8S8_TERMS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "libs/approx/int8_terms.h"

namespace transaxx::approx {

struct U8S8Term {
  std::array<uint8_t, 256> u_map{};  // indexed by the operand's byte (uint8)a
  std::array<int8_t, 256> s_map{};
  int32_t offset = 0;  // u_map - offset is the term's a side
};

// Depths of the concatenated GEMM given to terms[first], and to
// terms[second] interleaved with it (second < 0: first alone).
struct U8S8Run {
  int first = 0;
  int second = -1;
};

// One u8·s8 GEMM: Σ_t Σ_k (u_t(A[m][k]) - offset_t) · s_t(W[k][n]) over its
// terms, to be multiplied by `weight` (modulo 2^32, as in int8_terms.h).
struct U8S8Group {
  uint32_t weight = 1;
  std::vector<U8S8Term> terms;
  std::vector<U8S8Run> runs;
  // Laid out for a GEMM whose pair sums saturate (U8S8Groups' argument):
  // such a layout is exact on every u8·s8 GEMM, the other only on VNNI's.
  bool saturating_pairs = true;
};

// The groups of `terms`, with
// Σ_g weight_g · (group g's sums) = Σ_t weight_t · (a_map_t(A) · b_map_t(W))
// modulo 2^32 for every A and W: with `saturating_pairs` (a GEMM that adds
// the products at depths 2i and 2i + 1 in saturating int16) every such pair
// within int16, else every term alone in a run. Terms of weight 0 or with
// an all-zero map add nothing and are left out.
std::vector<U8S8Group> U8S8Groups(const std::vector<Int8Term>& terms, bool saturating_pairs);

// Depth of one run for operands K deep: K or K + 1 alone, 2·K interleaved.
int64_t U8S8RunDepth(const U8S8Run& run, int64_t K);

// Runs of depth K the groups take in all, each interleaved run counting two:
// what they cost against one float32 GEMM of depth K per int8 term.
int64_t U8S8Slots(const std::vector<U8S8Group>& groups);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_U8S8_TERMS_H_
