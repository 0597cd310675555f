#include "libs/approx/cpu/byte_map.h"

#include <immintrin.h>

#include "libs/approx/cpu/byte_lookup.h"

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

TRANSAXX_AVX512_VBMI void MapBytesAvx512(const ByteMap& map, const uint8_t* in, int64_t n,
                                         uint8_t* out) {
  const ByteQuarters m = LoadQuarters(map.data());
  for (int64_t i = 0; i < n; i += 64) {
    const __mmask64 mask = BytePrefix(n - i);
    _mm512_mask_storeu_epi8(out + i, mask, LookUp(m, _mm512_maskz_loadu_epi8(mask, in + i)));
  }
}

TRANSAXX_AVX512_VBMI void MapBytesInterleavedAvx512(const ByteMap& first, const ByteMap& second,
                                                    const uint8_t* in, int64_t n, uint8_t* out) {
  const ByteQuarters f = LoadQuarters(first.data()), s = LoadQuarters(second.data());
  // Byte unpacks pair the bytes within 128-bit lanes: lane j of `low`
  // holds inputs 16j..16j+7 as pairs, of `high` 16j+8..16j+15. These
  // quadword orders put the lanes back in input order, 32 inputs each.
  alignas(64) static constexpr int64_t kFront[8] = {0, 1, 8, 9, 2, 3, 10, 11};
  alignas(64) static constexpr int64_t kBack[8] = {4, 5, 12, 13, 6, 7, 14, 15};
  const __m512i front = _mm512_load_si512(kFront), back = _mm512_load_si512(kBack);
  for (int64_t i = 0; i < n; i += 64) {
    const int64_t count = n - i;
    const __m512i bytes = _mm512_maskz_loadu_epi8(BytePrefix(count), in + i);
    const __m512i a = LookUp(f, bytes), b = LookUp(s, bytes);
    const __m512i low = _mm512_unpacklo_epi8(a, b), high = _mm512_unpackhi_epi8(a, b);
    _mm512_mask_storeu_epi8(out + 2 * i, BytePrefix(2 * count),
                            _mm512_permutex2var_epi64(low, front, high));
    if (count > 32) {
      _mm512_mask_storeu_epi8(out + 2 * i + 64, BytePrefix(2 * count - 64),
                              _mm512_permutex2var_epi64(low, back, high));
    }
  }
}

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
