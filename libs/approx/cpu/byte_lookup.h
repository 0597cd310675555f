// A 256-entry byte table held in four AVX-512 registers, and the lookup of
// 64 bytes in it at once: the building block of the byte maps
// (byte_map.h) and of the avx512 table kernel's direct form
// (table_gemm.h), which looks up the low and the high bytes of a table row.
//
// vpermi2b indexes two registers (128 entries) by a byte's low 7 bits, so
// one permute covers entries 0..127 and one 128..255, and the byte's top bit
// picks between them.
//
// REQUIRES: callers are compiled for, or carry the target attribute of,
// TRANSAXX_AVX512_VBMI, and run on a CPU with those instructions.
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_APPROX_CPU_BYTE_LOOKUP_H_
#define TRANSAXX_LIBS_APPROX_CPU_BYTE_LOOKUP_H_

#include <immintrin.h>

#include <cstdint>

#define TRANSAXX_AVX512_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))

namespace transaxx::approx {

// A table of 256 bytes, a quarter per register.
struct ByteQuarters {
  __m512i q[4];
};

// REQUIRES: table holds 256 bytes.
TRANSAXX_AVX512_VBMI inline ByteQuarters LoadQuarters(const uint8_t* table) {
  ByteQuarters m;
  for (int i = 0; i < 4; ++i) m.q[i] = _mm512_loadu_si512(table + 64 * i);
  return m;
}

// table[byte] for each of the 64 bytes, given their top bits
// (_mm512_movepi8_mask(bytes)), which callers that look the same bytes up
// in several tables compute once.
TRANSAXX_AVX512_VBMI inline __m512i LookUp(const ByteQuarters& m, __m512i bytes, __mmask64 top) {
  const __m512i lower = _mm512_permutex2var_epi8(m.q[0], bytes, m.q[1]);
  const __m512i upper = _mm512_permutex2var_epi8(m.q[2], bytes, m.q[3]);
  return _mm512_mask_blend_epi8(top, lower, upper);
}

// table[byte] for each of the 64 bytes.
TRANSAXX_AVX512_VBMI inline __m512i LookUp(const ByteQuarters& m, __m512i bytes) {
  return LookUp(m, bytes, _mm512_movepi8_mask(bytes));
}

// The mask of the first `count` bytes of 64 (all of them from 64 on).
// REQUIRES: count >= 0.
inline __mmask64 BytePrefix(int64_t count) {
  return count >= 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
}

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CPU_BYTE_LOOKUP_H_
