#include "libs/approx/cpu/table_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/approx/cpu/byte_lookup.h"
#include "libs/approx/reference_gemm.h"

namespace transaxx::approx {
namespace {

// The expanded kernels' blocks: 32 columns (four 8-lane int32 accumulators
// per row on avx2, two 16-lane ones on avx512) by as many values of k as
// fill 128 KB, a quarter or less of a core's L2 cache on current x86-64
// server CPUs (512 KB and up): 4 with int32 entries, 8 with int16. On the
// benchmark machine, blocks of 64 and 256 KB ran within noise of it on the
// benchmark's shapes, and 32 KB (its L1 cache) slower.
constexpr int64_t kColumns = 32;
constexpr int64_t kBlockBytes = 128 * 1024;
template <typename Entry>
constexpr int64_t kDepth = kBlockBytes / (256 * kColumns * sizeof(Entry));

// Storage for aligned vector loads and stores, on cache-line boundaries so
// that threads' strips never share a line: std::vector gives an
// over-aligned type its alignment.
struct alignas(64) CacheLine {
  int32_t value[16];
};

void ScalarRow(const int32_t* table, const int8_t* a, const int8_t* W, int32_t* c, int64_t K,
               int64_t N) {
  std::fill(c, c + N, 0);
  for (int64_t k = 0; k < K; ++k) {
    const int32_t* products = table + TableIndex(a[k], 0);
    const int8_t* w = W + k * N;
    for (int64_t n = 0; n < N; ++n) c[n] += products[static_cast<uint8_t>(w[n])];
  }
}

// Writes rows v = 0..3 of a block, eight 32-bit lanes each, at target +
// v · kColumns entries, from t[i] whose half h holds lane i + 4h of rows
// 0..3 (row v in its 32-bit lane v). Two rounds of unpacks, which work within
// 128-bit halves, transpose it. A lane is one int32 entry, or two int16
// entries of adjacent columns.
template <typename Entry>
__attribute__((target("avx2"))) inline void StoreTransposed(const __m256i t[4], Entry* target) {
  const __m256i lo01 = _mm256_unpacklo_epi32(t[0], t[1]), hi01 = _mm256_unpackhi_epi32(t[0], t[1]);
  const __m256i lo23 = _mm256_unpacklo_epi32(t[2], t[3]), hi23 = _mm256_unpackhi_epi32(t[2], t[3]);
  auto* out = reinterpret_cast<__m256i*>(target);
  constexpr int64_t kStride = kColumns * sizeof(Entry) / sizeof(__m256i);
  _mm256_store_si256(out, _mm256_unpacklo_epi64(lo01, lo23));
  _mm256_store_si256(out + kStride, _mm256_unpackhi_epi64(lo01, lo23));
  _mm256_store_si256(out + 2 * kStride, _mm256_unpacklo_epi64(hi01, hi23));
  _mm256_store_si256(out + 3 * kStride, _mm256_unpackhi_epi64(hi01, hi23));
}

// One orientation of the GEMM for the expanded kernels, row-major:
//   out[i][j] = Σ_k lookup[x[k][j] · 256 + s[i][k]]
// s is rows × depth, x is depth × columns, out is rows × columns. Entry is
// int32_t, or int16_t when every lookup entry fits it. The avx2 expansion
// reads `lookup`; the avx512 one (int16 only) reads the same entries as byte
// planes, planes[b · 65536 + v · 256 + x] = byte b (0 low, 1 high) of
// lookup[x · 256 + v], so that the 256 entries of one v are four 64-byte
// registers per byte.
// REQUIRES: columns is a multiple of kColumns; out is 64-byte aligned.
template <typename Entry>
struct Expansion {
  const Entry* lookup;
  const uint8_t* planes;
  const uint8_t* s;
  const uint8_t* x;
  int32_t* out;
  int64_t rows, depth, columns;
};

// block[kk][v][j] = lookup[x[k0 + kk][j0 + j] · 256 + v] for kk < kb: the
// products of every possible streamed value v with the block's columns,
// written a vector of columns at a time by transposing table rows. A vector's
// halves load table rows i and i + kHalf, so that every shuffle works within
// 128-bit halves and the 16 vector registers hold all of it: a full 16 × 16
// transpose spilled to the stack and took twice as long.
template <typename Entry>
__attribute__((target("avx2"))) void ExpandBlock(const Expansion<Entry>& e, int64_t k0, int64_t kb,
                                                 int64_t j0, Entry* block) {
  constexpr int kLanes = 32 / sizeof(Entry);
  constexpr int kHalf = kLanes / 2;
  for (int64_t kk = 0; kk < kb; ++kk) {
    const uint8_t* x = e.x + (k0 + kk) * e.columns + j0;
    for (int64_t j = 0; j < kColumns; j += kLanes) {
      const Entry* rows[kLanes];
      for (int i = 0; i < kLanes; ++i) rows[i] = e.lookup + 256 * x[j + i];
      Entry* target = block + kk * 256 * kColumns + j;
      for (int v = 0; v < 256; v += kHalf) {
        __m256i t[kHalf];
#pragma GCC unroll 8
        for (int i = 0; i < kHalf; ++i) {
          t[i] = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(rows[i + kHalf] + v),
                                     reinterpret_cast<const __m128i*>(rows[i] + v));
        }
        if constexpr (sizeof(Entry) == 4) {
          StoreTransposed(t, target + v * kColumns);
        } else {
          // Pairs of int16 columns become the 32-bit lanes of StoreTransposed:
          // for v .. v + 3, u[p] holds pair p (columns 2p, 2p + 1) in its low
          // half and pair p + 4 in its high half; u[p + 4] the same for v + 4 .. v + 7.
          __m256i u[8];
#pragma GCC unroll 4
          for (int p = 0; p < 4; ++p) {
            u[p] = _mm256_unpacklo_epi16(t[2 * p], t[2 * p + 1]);
            u[p + 4] = _mm256_unpackhi_epi16(t[2 * p], t[2 * p + 1]);
          }
          StoreTransposed(u, target + v * kColumns);
          StoreTransposed(u + 4, target + (v + 4) * kColumns);
        }
      }
    }
  }
}

// Eight int32 products, lanes 8·q .. 8·q + 7 of a block row.
template <typename Entry>
__attribute__((target("avx2"))) inline __m256i Products(const Entry* row, int q) {
  if constexpr (sizeof(Entry) == 4) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(row) + q);
  } else {
    return _mm256_cvtepi16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(row) + q));
  }
}

// out[i][j0 .. j0 + kColumns) += the block's rows selected by s[i][k0 .. k0 + kb).
template <typename Entry>
__attribute__((target("avx2"))) void AccumulateBlock(const Expansion<Entry>& e, const Entry* block,
                                                     int64_t k0, int64_t kb, int64_t j0) {
  for (int64_t i = 0; i < e.rows; ++i) {
    __m256i* out = reinterpret_cast<__m256i*>(e.out + i * e.columns + j0);
    __m256i acc0 = _mm256_load_si256(out), acc1 = _mm256_load_si256(out + 1),
            acc2 = _mm256_load_si256(out + 2), acc3 = _mm256_load_si256(out + 3);
    const uint8_t* s = e.s + i * e.depth + k0;
    for (int64_t kk = 0; kk < kb; ++kk) {
      const Entry* products = block + (kk * 256 + s[kk]) * kColumns;
      acc0 = _mm256_add_epi32(acc0, Products(products, 0));
      acc1 = _mm256_add_epi32(acc1, Products(products, 1));
      acc2 = _mm256_add_epi32(acc2, Products(products, 2));
      acc3 = _mm256_add_epi32(acc3, Products(products, 3));
    }
    _mm256_store_si256(out, acc0);
    _mm256_store_si256(out + 1, acc1);
    _mm256_store_si256(out + 2, acc2);
    _mm256_store_si256(out + 3, acc3);
  }
}

// GCC 12's AVX-512 intrinsics start from registers it deliberately leaves
// undefined, and it then warns of their use once they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

// The avx512 kernel's order of a block row's columns, and of the column
// values that one of its expansion steps indexes: byte (l, b) of those 64
// values is a column of the first (b < 8) or the second k, such that lane
// l's bytes 0..7 give entries 8l .. 8l + 7 of the first k's block row (the
// byte unpacks interleave within 128-bit lanes), bytes 8..15 the same of
// the second k's, and entry 2j of a block row is column j, entry 2j + 1
// column 16 + j, so that the accumulation's 16-bit pair sums take the two
// halves of the row apart (see AccumulateRowsAvx512).
constexpr std::array<uint8_t, 64> Int16Order() {
  std::array<uint8_t, 64> order{};
  for (int l = 0; l < 4; ++l) {
    for (int b = 0; b < 16; ++b) {
      const int entry = 8 * l + b % 8;
      const int column = entry % 2 ? 16 + entry / 2 : entry / 2;
      order[16 * l + b] = static_cast<uint8_t>((b < 8 ? 0 : 32) + column);
    }
  }
  return order;
}
alignas(64) constexpr std::array<uint8_t, 64> kInt16Order = Int16Order();

// ExpandBlock's int16 blocks by byte permutes, in the column order of
// Int16Order: for each v, the four registers of each byte plane of v are a
// 256-entry table that vpermi2b indexes with the 64 column values of two
// values of k (two permutes of 128 entries, chosen by the value's top bit),
// and byte unpacks join the low and high bytes into entries.
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni"))) void ExpandBlockAvx512(
    const Expansion<int16_t>& e, int64_t k0, int64_t kb, int64_t j0, int16_t* block) {
  constexpr int kPairs = kDepth<int16_t> / 2;
  const __m512i order = _mm512_load_si512(kInt16Order.data());
  // Every pair is computed, so that the loops unroll and the registers stay
  // registers; pairs past a depth tail index with zeros and store nothing.
  __m512i index[kPairs];
  __mmask64 top[kPairs];
#pragma GCC unroll 8
  for (int p = 0; p < kPairs; ++p) {
    // Rows of x past the block's depth are neither read nor pointed at.
    const auto row = [&](int64_t kk) {
      return reinterpret_cast<const __m256i*>(e.x + (k0 + kk) * e.columns + j0);
    };
    const __m256i first = 2 * p < kb ? _mm256_loadu_si256(row(2 * p)) : _mm256_setzero_si256();
    const __m256i second =
        2 * p + 1 < kb ? _mm256_loadu_si256(row(2 * p + 1)) : _mm256_setzero_si256();
    index[p] = _mm512_permutexvar_epi8(
        order, _mm512_inserti64x4(_mm512_castsi256_si512(first), second, 1));
    top[p] = _mm512_movepi8_mask(index[p]);
  }
  for (int v = 0; v < 256; ++v) {
    const ByteQuarters low = LoadQuarters(e.planes + v * 256),
                       high = LoadQuarters(e.planes + 65536 + v * 256);
#pragma GCC unroll 8
    for (int p = 0; p < kPairs; ++p) {
      const __m512i lo = LookUp(low, index[p], top[p]), hi = LookUp(high, index[p], top[p]);
      int16_t* row = block + (2 * p * 256 + v) * kColumns;
      if (2 * p < kb) _mm512_store_si512(row, _mm512_unpacklo_epi8(lo, hi));
      if (2 * p + 1 < kb) {
        _mm512_store_si512(row + 256 * kColumns, _mm512_unpackhi_epi8(lo, hi));
      }
    }
  }
}

// AccumulateBlock with two 16-lane accumulators per row, for blocks in the
// column order of Int16Order: vpdpwssd adds the products of adjacent 16-bit
// pairs into 32 bits, so times (1, 0) it adds a row's even entries (columns
// 0..15) and times (0, 1) its odd ones (16..31), widening without shuffles.
// kFixedDepth is kb where the compiler may unroll the loop over k for it,
// else 0.
template <int64_t kFixedDepth>
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni"))) void AccumulateRowsAvx512(
    const Expansion<int16_t>& e, const int16_t* block, int64_t k0, int64_t kb, int64_t j0) {
  const int64_t depth = kFixedDepth > 0 ? kFixedDepth : kb;
  const __m512i even = _mm512_set1_epi32(1), odd = _mm512_set1_epi32(1 << 16);
  for (int64_t i = 0; i < e.rows; ++i) {
    int32_t* out = e.out + i * e.columns + j0;
    __m512i acc0 = _mm512_load_si512(out), acc1 = _mm512_load_si512(out + 16);
    const uint8_t* s = e.s + i * e.depth + k0;
#pragma GCC unroll 8
    for (int64_t kk = 0; kk < depth; ++kk) {
      const __m512i pairs = _mm512_load_si512(block + (kk * 256 + s[kk]) * kColumns);
      acc0 = _mm512_dpwssd_epi32(acc0, pairs, even);
      acc1 = _mm512_dpwssd_epi32(acc1, pairs, odd);
    }
    _mm512_store_si512(out, acc0);
    _mm512_store_si512(out + 16, acc1);
  }
}

void AccumulateBlockAvx512(const Expansion<int16_t>& e, const int16_t* block, int64_t k0,
                           int64_t kb, int64_t j0) {
  if (kb == kDepth<int16_t>) {
    AccumulateRowsAvx512<kDepth<int16_t>>(e, block, k0, kb, j0);
  } else {
    AccumulateRowsAvx512<0>(e, block, k0, kb, j0);
  }
}

// The direct form's sums for row m of C, columns [n0, n0 + width), from
// row m of A (`a`, K bytes): for each k, the 256 int16 products of A[m][k]
// with every value of W are two byte planes of four registers each (the
// low and the high bytes), which vpermi2b looks up with 64 bytes of W's row
// k at a time; byte unpacks join the bytes into entries, and vpdpwssd adds
// a vector's even entries times (1, 0) and its odd ones times (0, 1) into
// 32-bit sums. Each of the kChunks chunks of 64 columns keeps four 16-lane
// accumulators in registers across all of K, and the planes loaded for a k
// serve all chunks.
// REQUIRES: 0 < width <= 64 · kChunks; planes as Expansion's for an
// untransposed GEMM (v = A's value, x = W's).
template <int kChunks>
__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vnni"))) void DirectColumns(
    const uint8_t* planes, const uint8_t* a, const uint8_t* W, int64_t K, int64_t N, int64_t n0,
    int64_t width, int32_t* c) {
  const __m512i even = _mm512_set1_epi32(1), odd = _mm512_set1_epi32(1 << 16);
  __mmask64 mask[kChunks];
  __m512i acc[kChunks][4];
#pragma GCC unroll 4
  for (int q = 0; q < kChunks; ++q) {
    mask[q] = BytePrefix(width - 64 * q);
    for (__m512i& sum : acc[q]) sum = _mm512_setzero_si512();
  }
  for (int64_t k = 0; k < K; ++k) {
    const uint8_t* row = planes + 256 * a[k];
    const ByteQuarters low = LoadQuarters(row), high = LoadQuarters(row + 65536);
    const uint8_t* w = W + k * N + n0;
#pragma GCC unroll 4
    for (int q = 0; q < kChunks; ++q) {
      const __m512i bytes = _mm512_maskz_loadu_epi8(mask[q], w + 64 * q);
      const __mmask64 top = _mm512_movepi8_mask(bytes);
      const __m512i lo = LookUp(low, bytes, top), hi = LookUp(high, bytes, top);
      const __m512i first = _mm512_unpacklo_epi8(lo, hi), second = _mm512_unpackhi_epi8(lo, hi);
      acc[q][0] = _mm512_dpwssd_epi32(acc[q][0], first, even);
      acc[q][1] = _mm512_dpwssd_epi32(acc[q][1], first, odd);
      acc[q][2] = _mm512_dpwssd_epi32(acc[q][2], second, even);
      acc[q][3] = _mm512_dpwssd_epi32(acc[q][3], second, odd);
    }
  }
  // Lane 4l + j of accumulator i holds column 16l + 8(i / 2) + 2j + i % 2
  // (the unpacks work within 128-bit lanes l); dword unpacks of the even
  // and odd pairs make runs of four columns, which go to their places.
  for (int q = 0; q < kChunks; ++q) {
    alignas(64) int32_t runs[4][16];
    _mm512_store_si512(runs[0], _mm512_unpacklo_epi32(acc[q][0], acc[q][1]));
    _mm512_store_si512(runs[1], _mm512_unpackhi_epi32(acc[q][0], acc[q][1]));
    _mm512_store_si512(runs[2], _mm512_unpacklo_epi32(acc[q][2], acc[q][3]));
    _mm512_store_si512(runs[3], _mm512_unpackhi_epi32(acc[q][2], acc[q][3]));
    const int64_t count = std::min<int64_t>(64, width - 64 * q);
    for (int64_t j = 0; j < count; ++j) c[64 * q + j] = runs[j % 16 / 4][4 * (j / 16) + j % 4];
  }
}

#pragma GCC diagnostic pop

// The avx512 kernels' int16 entries as byte planes: planes[b · 65536 +
// v · 256 + x] = byte b (0 low, 1 high) of the product of streamed value v
// and column value x, so that the 256 entries of one v are four 64-byte
// registers per byte. Untransposed, v is A's value and x W's: plane b is
// byte b of int8_table[TableIndex(v, x)]; transposed, the table's operands
// swap roles.
std::vector<CacheLine> BytePlanes(const int32_t* table, bool transposed) {
  std::vector<CacheLine> planes(2 * 65536 / sizeof(CacheLine));
  uint8_t* low = reinterpret_cast<uint8_t*>(planes.data());
  uint8_t* high = low + 65536;
  if (!transposed) {
    // The table's entries in order, narrowed by vectors: built one entry at
    // a time on one thread, the planes were 3% of the direct form's samples
    // at attn.proj batch 1, and the other thread's wait in libgomp 7% more.
#pragma omp simd
    for (int i = 0; i < 65536; ++i) {
      low[i] = static_cast<uint8_t>(table[i]);
      high[i] = static_cast<uint8_t>(table[i] >> 8);
    }
    return planes;
  }
#pragma omp parallel for schedule(static)
  for (int v = 0; v < 256; ++v) {
    for (int x = 0; x < 256; ++x) {
      const int32_t entry = table[TableIndex(x, v)];
      low[v * 256 + x] = static_cast<uint8_t>(entry);
      high[v * 256 + x] = static_cast<uint8_t>(entry >> 8);
    }
  }
  return planes;
}

// The avx512 kernel's direct form: C = A (x) W row by row, each row's
// columns in groups of up to four 64-column chunks (DirectColumns).
void DirectGemm(const int32_t* table, const int8_t* A, const int8_t* W, int32_t* C, int64_t M,
                int64_t K, int64_t N) {
  const std::vector<CacheLine> planes = BytePlanes(table, /*transposed=*/false);
  const auto* p = reinterpret_cast<const uint8_t*>(planes.data());
  const auto* w = reinterpret_cast<const uint8_t*>(W);
  constexpr int64_t kGroup = 256;
  // Rows and groups are spread together, so that a few rows of A (the
  // transposed expanded form's last ones) still occupy every thread.
  const int64_t groups = (N + kGroup - 1) / kGroup;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t g = 0; g < groups; ++g) {
      const auto* a = reinterpret_cast<const uint8_t*>(A + m * K);
      const int64_t n0 = g * kGroup, width = std::min(kGroup, N - n0);
      int32_t* c = C + m * N + n0;
      switch ((width + 63) / 64) {
        case 1:
          DirectColumns<1>(p, a, w, K, N, n0, width, c);
          break;
        case 2:
          DirectColumns<2>(p, a, w, K, N, n0, width, c);
          break;
        case 3:
          DirectColumns<3>(p, a, w, K, N, n0, width, c);
          break;
        default:
          DirectColumns<4>(p, a, w, K, N, n0, width, c);
      }
    }
  }
}

// Adds the expansion's sums to e.out (zero it first for the plain sums).
template <TableKernel kKernel, typename Entry>
void RunExpansion(const Expansion<Entry>& e) {
  const int64_t blocks = e.columns / kColumns;
  constexpr int64_t depth = kDepth<Entry>;
#pragma omp parallel
  {
    std::vector<CacheLine> storage(kBlockBytes / sizeof(CacheLine));
    Entry* block = reinterpret_cast<Entry*>(storage.data());
#pragma omp for schedule(dynamic)
    for (int64_t b = 0; b < blocks; ++b) {
      for (int64_t k0 = 0; k0 < e.depth; k0 += depth) {
        const int64_t kb = std::min(depth, e.depth - k0);
        if constexpr (kKernel == TableKernel::kAvx512) {  // int16 entries only
          ExpandBlockAvx512(e, k0, kb, b * kColumns, block);
          AccumulateBlockAvx512(e, block, k0, kb, b * kColumns);
        } else {
          ExpandBlock(e, k0, kb, b * kColumns, block);
          AccumulateBlock(e, block, k0, kb, b * kColumns);
        }
      }
    }
  }
}

// out[j · out_stride + i] = in[i · in_stride + j] for an 8 × 8 square of
// int32: two rounds of unpacks within 128-bit halves, then 128-bit permutes.
__attribute__((target("avx2"))) void TransposeSquare(const int32_t* in, int64_t in_stride,
                                                     int32_t* out, int64_t out_stride) {
  __m256i r[8], t[8];
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i * in_stride));
  }
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
  }
  // r[h + q] holds column q (low half) and q + 4 (high half) of rows h .. h + 3.
  for (int h = 0; h < 8; h += 4) {
    r[h] = _mm256_unpacklo_epi64(t[h], t[h + 2]);
    r[h + 1] = _mm256_unpackhi_epi64(t[h], t[h + 2]);
    r[h + 2] = _mm256_unpacklo_epi64(t[h + 1], t[h + 3]);
    r[h + 3] = _mm256_unpackhi_epi64(t[h + 1], t[h + 3]);
  }
  for (int q = 0; q < 4; ++q) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + q * out_stride),
                        _mm256_permute2x128_si256(r[q], r[q + 4], 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (q + 4) * out_stride),
                        _mm256_permute2x128_si256(r[q], r[q + 4], 0x31));
  }
}

// The same for an 8 × 8 square of bytes, by SSE2 unpacks of 8-, 16- and
// 32-bit units: each register ends with two output rows.
void TransposeSquare(const uint8_t* in, int64_t in_stride, uint8_t* out, int64_t out_stride) {
  __m128i r[8], t[4];
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i * in_stride));
  }
  for (int i = 0; i < 4; ++i) t[i] = _mm_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
  // r[2h + c] holds columns 4c .. 4c + 3 of rows 4h .. 4h + 3, column by column.
  for (int h = 0; h < 2; ++h) {
    r[2 * h] = _mm_unpacklo_epi16(t[2 * h], t[2 * h + 1]);
    r[2 * h + 1] = _mm_unpackhi_epi16(t[2 * h], t[2 * h + 1]);
  }
  for (int c = 0; c < 2; ++c) {
    const __m128i low = _mm_unpacklo_epi32(r[c], r[2 + c]),
                  high = _mm_unpackhi_epi32(r[c], r[2 + c]);
    const __m128i rows[4] = {low, _mm_unpackhi_epi64(low, low), high,
                             _mm_unpackhi_epi64(high, high)};
    for (int q = 0; q < 4; ++q) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + (4 * c + q) * out_stride), rows[q]);
    }
  }
}

// out[j · out_stride + i] = in[i · in_stride + j] for i < rows, j < cols,
// in 64 × 64 tiles, so that the lines written stay in L1 while a tile is
// filled, spread over threads, and within tiles by 8 × 8 squares
// (TransposeSquare). Element by element, int32 transposes took a quarter of
// a transposed GEMM's time on ViT-S/16's mlp.fc1 at batch 1, whose rows of
// 1536 int32 put a tile's 64 lines in two sets of L1, and byte transposes a
// tenth.
// REQUIRES: AVX2 for int32.
template <typename T>
void Transpose(const T* in, int64_t rows, int64_t cols, int64_t in_stride, T* out,
               int64_t out_stride) {
  constexpr int64_t kTile = 64;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t i0 = 0; i0 < rows; i0 += kTile) {
    for (int64_t j0 = 0; j0 < cols; j0 += kTile) {
      const int64_t i1 = std::min(rows, i0 + kTile), j1 = std::min(cols, j0 + kTile);
      const auto one = [&](int64_t i, int64_t j) {
        out[j * out_stride + i] = in[i * in_stride + j];
      };
      int64_t i = i0;
      for (; i + 8 <= i1; i += 8) {
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
          TransposeSquare(in + i * in_stride + j, in_stride, out + j * out_stride + i, out_stride);
        }
        for (; j < j1; ++j) {
          for (int64_t square = i; square < i + 8; ++square) one(square, j);
        }
      }
      for (; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) one(i, j);
      }
    }
  }
}

// The expanded kernels: oriented so that the larger of M and N is the
// expansion's rows, which share every block.
template <TableKernel kKernel, typename Entry>
void ExpandedGemm(const int32_t* table, const int8_t* A, const int8_t* W, int32_t* C, int64_t M,
                  int64_t K, int64_t N) {
  const bool transposed = N > M;
  const int64_t rows = transposed ? N : M;
  const int64_t columns = transposed ? M : N;
  const int64_t padded = (columns + kColumns - 1) / kColumns * kColumns;
  std::vector<uint8_t> x(static_cast<size_t>(K * padded), 0);
  std::vector<uint8_t> s;
  // The entry of streamed value v and column value x: the table itself when
  // transposed (x = a, v = w), its transpose otherwise (x = w, v = a).
  const auto entry = [&](int x, int v) {
    return static_cast<Entry>(table[transposed ? TableIndex(x, v) : TableIndex(v, x)]);
  };
  std::vector<Entry> lookup;
  std::vector<CacheLine> planes;
  if constexpr (kKernel == TableKernel::kAvx512) {
    static_assert(sizeof(Entry) == 2, "the avx512 kernel expands int16 entries only");
    planes = BytePlanes(table, transposed);
  } else {
    lookup.resize(65536);
    for (int xv = 0; xv < 256; ++xv) {
      for (int v = 0; v < 256; ++v) lookup[xv * 256 + v] = entry(xv, v);
    }
  }
  const auto* a_bytes = reinterpret_cast<const uint8_t*>(A);
  const auto* w_bytes = reinterpret_cast<const uint8_t*>(W);
  std::vector<CacheLine> out(static_cast<size_t>(rows * padded / 16));
  Expansion<Entry> e{lookup.data(),
                     reinterpret_cast<const uint8_t*>(planes.data()),
                     a_bytes,
                     x.data(),
                     reinterpret_cast<int32_t*>(out.data()),
                     rows,
                     K,
                     padded};
  if (transposed) {
    // C^T = W^T (x) A^T: s = W^T, x = A^T.
    s.resize(static_cast<size_t>(N * K));
    Transpose(w_bytes, K, N, N, s.data(), K);
    Transpose(a_bytes, M, K, K, x.data(), padded);
    e.s = s.data();
  } else {
    for (int64_t k = 0; k < K; ++k) std::copy_n(w_bytes + k * N, N, x.data() + k * padded);
  }
  RunExpansion<kKernel>(e);
  if (transposed) {
    Transpose(e.out, N, M, padded, C, N);
  } else {
    for (int64_t m = 0; m < M; ++m) std::copy_n(e.out + m * padded, N, C + m * N);
  }
}

}  // namespace

bool TableKernelSupported(TableKernel kernel) {
  switch (kernel) {
    case TableKernel::kScalar:
      return true;
    case TableKernel::kAvx2:
      return __builtin_cpu_supports("avx2");
    case TableKernel::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

TableKernel BestTableKernel() {
  static const TableKernel best = [] {
    for (TableKernel kernel : {TableKernel::kAvx512, TableKernel::kAvx2}) {
      if (TableKernelSupported(kernel)) return kernel;
    }
    return TableKernel::kScalar;
  }();
  return best;
}

const char* TableKernelName(TableKernel kernel) {
  switch (kernel) {
    case TableKernel::kScalar:
      return "scalar";
    case TableKernel::kAvx2:
      return "avx2";
    case TableKernel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

TableKernel TableKernelFor(const Multiplier& multiplier, TableKernel kernel) {
  return kernel == TableKernel::kAvx512 && ExpandedEntryBits(multiplier) == 32 ? TableKernel::kAvx2
                                                                               : kernel;
}

Avx512Form Avx512FormFor(int64_t M, int64_t N) {
  return std::max(M, N) < kDirectBelow ? Avx512Form::kDirect : Avx512Form::kExpanded;
}

int ExpandedEntryBits(const Multiplier& multiplier) {
  return multiplier.int8_min() >= INT16_MIN && multiplier.int8_max() <= INT16_MAX ? 16 : 32;
}

absl::Status ApproxGemmTable(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                             int32_t* C, int64_t M, int64_t K, int64_t N, TableKernel kernel) {
  if (absl::Status s = CheckGemmArguments(multiplier, A, W, C, M, K, N); !s.ok()) return s;
  // The variant asked for, and the one that runs (its int32 fallback).
  const TableKernel runs = TableKernelFor(multiplier, kernel);
  for (TableKernel needed : {kernel, runs}) {
    if (!TableKernelSupported(needed)) {
      return absl::FailedPreconditionError(
          absl::StrCat("the ", TableKernelName(needed), " table kernel needs a CPU with ",
                       needed == TableKernel::kAvx2 ? "AVX2" : "AVX-512 F, BW, VBMI and VNNI"));
    }
  }
  const int32_t* table = multiplier.int8_table().data();
  switch (runs) {
    case TableKernel::kAvx512:
      if (Avx512FormFor(M, N) == Avx512Form::kDirect) {
        DirectGemm(table, A, W, C, M, K, N);
      } else if (N > M) {
        // Transposed, A's rows are the blocks' columns: the full blocks'
        // rows expanded, the rest direct.
        const int64_t full = M / kColumns * kColumns;
        if (full > 0) ExpandedGemm<TableKernel::kAvx512, int16_t>(table, A, W, C, full, K, N);
        if (M > full) DirectGemm(table, A + full * K, W, C + full * N, M - full, K, N);
      } else {
        ExpandedGemm<TableKernel::kAvx512, int16_t>(table, A, W, C, M, K, N);
      }
      return absl::OkStatus();
    case TableKernel::kAvx2:
      if (ExpandedEntryBits(multiplier) == 16) {
        ExpandedGemm<TableKernel::kAvx2, int16_t>(table, A, W, C, M, K, N);
      } else {
        ExpandedGemm<TableKernel::kAvx2, int32_t>(table, A, W, C, M, K, N);
      }
      return absl::OkStatus();
    case TableKernel::kScalar:
      break;
  }
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m) ScalarRow(table, A + m * K, W, C + m * N, K, N);
  return absl::OkStatus();
}

}  // namespace transaxx::approx
