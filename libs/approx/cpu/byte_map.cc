#include "libs/approx/cpu/byte_map.h"

#include <immintrin.h>

namespace transaxx::approx {
namespace {

void MapBytesScalar(const ByteMap& map, const uint8_t* in, int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = map[in[i]];
}

void MapBytesInterleavedScalar(const ByteMap& first, const ByteMap& second, const uint8_t* in,
                               int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) {
    out[2 * i] = first[in[i]];
    out[2 * i + 1] = second[in[i]];
  }
}

#define TRANSAXX_AVX512_VBMI __attribute__((target("avx512f,avx512bw,avx512vbmi")))

// A map held in four registers, a quarter each.
struct Quarters {
  __m512i q[4];
};

TRANSAXX_AVX512_VBMI inline Quarters Load(const ByteMap& map) {
  Quarters m;
  for (int i = 0; i < 4; ++i) m.q[i] = _mm512_loadu_si512(map.data() + 64 * i);
  return m;
}

// map[byte] for each of 64 bytes: vpermi2b indexes two quarters by bits
// 0..6, so one lookup covers entries 0..127 and one 128..255; bit 7 picks.
TRANSAXX_AVX512_VBMI inline __m512i Lookup(const Quarters& m, __m512i bytes) {
  const __m512i lower = _mm512_permutex2var_epi8(m.q[0], bytes, m.q[1]);
  const __m512i upper = _mm512_permutex2var_epi8(m.q[2], bytes, m.q[3]);
  return _mm512_mask_blend_epi8(_mm512_movepi8_mask(bytes), lower, upper);
}

// The first `count` (0..64) bytes.
inline __mmask64 Prefix(int64_t count) {
  return count >= 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1;
}

TRANSAXX_AVX512_VBMI void MapBytesAvx512(const ByteMap& map, const uint8_t* in, int64_t n,
                                         uint8_t* out) {
  const Quarters m = Load(map);
  for (int64_t i = 0; i < n; i += 64) {
    const __mmask64 mask = Prefix(n - i);
    _mm512_mask_storeu_epi8(out + i, mask, Lookup(m, _mm512_maskz_loadu_epi8(mask, in + i)));
  }
}

TRANSAXX_AVX512_VBMI void MapBytesInterleavedAvx512(const ByteMap& first, const ByteMap& second,
                                                    const uint8_t* in, int64_t n, uint8_t* out) {
  const Quarters f = Load(first), s = Load(second);
  // Byte unpacks pair the bytes within 128-bit lanes: lane j of `low`
  // holds inputs 16j..16j+7 as pairs, of `high` 16j+8..16j+15. These
  // quadword orders put the lanes back in input order, 32 inputs each.
  alignas(64) static constexpr int64_t kFront[8] = {0, 1, 8, 9, 2, 3, 10, 11};
  alignas(64) static constexpr int64_t kBack[8] = {4, 5, 12, 13, 6, 7, 14, 15};
  const __m512i front = _mm512_load_si512(kFront), back = _mm512_load_si512(kBack);
  for (int64_t i = 0; i < n; i += 64) {
    const int64_t count = n - i;
    const __m512i bytes = _mm512_maskz_loadu_epi8(Prefix(count), in + i);
    const __m512i a = Lookup(f, bytes), b = Lookup(s, bytes);
    const __m512i low = _mm512_unpacklo_epi8(a, b), high = _mm512_unpackhi_epi8(a, b);
    _mm512_mask_storeu_epi8(out + 2 * i, Prefix(2 * count),
                            _mm512_permutex2var_epi64(low, front, high));
    if (count > 32) {
      _mm512_mask_storeu_epi8(out + 2 * i + 64, Prefix(2 * count - 64),
                              _mm512_permutex2var_epi64(low, back, high));
    }
  }
}

#undef TRANSAXX_AVX512_VBMI

}  // namespace

bool ByteMapKernelSupported(ByteMapKernel kernel) {
  switch (kernel) {
    case ByteMapKernel::kScalar:
      return true;
    case ByteMapKernel::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vbmi");
  }
  return false;
}

ByteMapKernel BestByteMapKernel() {
  static const ByteMapKernel best = ByteMapKernelSupported(ByteMapKernel::kAvx512)
                                        ? ByteMapKernel::kAvx512
                                        : ByteMapKernel::kScalar;
  return best;
}

void MapBytes(const ByteMap& map, const uint8_t* in, int64_t n, uint8_t* out,
              ByteMapKernel kernel) {
  if (kernel == ByteMapKernel::kAvx512) {
    MapBytesAvx512(map, in, n, out);
  } else {
    MapBytesScalar(map, in, n, out);
  }
}

void MapBytesInterleaved(const ByteMap& first, const ByteMap& second, const uint8_t* in, int64_t n,
                         uint8_t* out, ByteMapKernel kernel) {
  if (kernel == ByteMapKernel::kAvx512) {
    MapBytesInterleavedAvx512(first, second, in, n, out);
  } else {
    MapBytesInterleavedScalar(first, second, in, n, out);
  }
}

}  // namespace transaxx::approx
