#include "libs/approx/torch/u8s8_gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fbgemm/Fbgemm.h>
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libs/approx/cpu/byte_map.h"
#include "libs/approx/torch/weight_operand_cache.h"

namespace transaxx::approx {
namespace {

// Where each run starts in the group's concatenated depth.
std::vector<int64_t> RunStarts(const U8S8Group& group, int64_t K) {
  std::vector<int64_t> starts;
  int64_t depth = 0;
  for (const U8S8Run& run : group.runs) {
    starts.push_back(depth);
    depth += U8S8RunDepth(run, K);
  }
  starts.push_back(depth);
  return starts;
}

// u [rows, depth] into `u`: each row's bytes of A through the runs' u maps.
void MapA(const U8S8Group& group, const std::vector<int64_t>& starts, const uint8_t* a,
          int64_t rows, int64_t K, std::vector<uint8_t>& u) {
  const int64_t depth = starts.back();
  // Every byte is written below, the zero after an odd K included.
  u.resize(static_cast<size_t>(rows * depth));
  for (int64_t m = 0; m < rows; ++m) {
    const uint8_t* row = a + m * K;
    for (size_t r = 0; r < group.runs.size(); ++r) {
      const U8S8Run& run = group.runs[r];
      uint8_t* out = u.data() + m * depth + starts[r];
      const ByteMap& first = group.terms[run.first].u_map;
      if (run.second < 0) {
        MapBytes(first, row, K, out);
        if (K % 2 != 0) out[K] = 0;
      } else {
        MapBytesInterleaved(first, group.terms[run.second].u_map, row, K, out);
      }
    }
  }
}

// A group's W side: s [depth, N] (W's rows through the runs' s maps) packed
// for FBGEMM, and each column's share of the offsets, Σ_t offset_t · Σ_k
// s_t(W[k][n]).
struct PreparedW {
  std::vector<int64_t> starts;
  std::vector<int8_t> s;  // kept: the packed matrix holds a pointer to it
  // Shared across threads by the cache; FBGEMM reads it as a non-const
  // matrix.
  std::shared_ptr<fbgemm::PackBMatrix<int8_t>> packed;
  std::vector<uint32_t> correction;
};

PreparedW PrepareW(const U8S8Group& group, const uint8_t* w, int64_t K, int64_t N) {
  PreparedW p;
  p.starts = RunStarts(group, K);
  const int64_t depth = p.starts.back();
  p.s.assign(static_cast<size_t>(depth * N), 0);
  p.correction.assign(static_cast<size_t>(N), 0);
  at::parallel_for(0, N, 64, [&](int64_t begin, int64_t end) {
    for (size_t r = 0; r < group.runs.size(); ++r) {
      const U8S8Run& run = group.runs[r];
      for (const int t : {run.first, run.second}) {
        if (t < 0) continue;
        const U8S8Term& term = group.terms[t];
        // Interleaved runs put the first term at even depths, the second
        // at odd ones.
        const int64_t step = run.second < 0 ? 1 : 2;
        int8_t* out = p.s.data() + (p.starts[r] + (t == run.first ? 0 : 1)) * N;
        for (int64_t k = 0; k < K; ++k) {
          const uint8_t* row = w + k * N;
          int8_t* target = out + k * step * N;
          for (int64_t n = begin; n < end; ++n) {
            const int8_t value = term.s_map[row[n]];
            target[n] = value;
            p.correction[n] += static_cast<uint32_t>(term.offset) * static_cast<uint32_t>(value);
          }
        }
      }
    }
  });
  if (depth > 0) {
    p.packed = std::make_shared<fbgemm::PackBMatrix<int8_t>>(
        fbgemm::matrix_op_t::NoTranspose, static_cast<int32_t>(depth), static_cast<int32_t>(N),
        p.s.data(), static_cast<int32_t>(N));
  }
  return p;
}

// raw = u · s [rows, N] by FBGEMM on the calling thread. raw is also
// FBGEMM's accumulation buffer: given the output itself, it sums there and
// skips the copy of its tiles.
void Gemm(const std::vector<uint8_t>& u, int64_t rows, int64_t depth, int64_t N,
          fbgemm::PackBMatrix<int8_t>& packed_s, int32_t* raw) {
  fbgemm::PackAMatrix<uint8_t> packed_u(fbgemm::matrix_op_t::NoTranspose,
                                        static_cast<int32_t>(rows), static_cast<int32_t>(depth),
                                        u.data(), static_cast<int32_t>(depth));
  fbgemm::DoNothing<int32_t, int32_t> nothing;
  fbgemm::memCopy<> copy(nothing);
  fbgemm::fbgemmPacked(packed_u, packed_s, raw, raw, static_cast<uint32_t>(N), copy,
                       /*thread_id=*/0, /*num_threads=*/1);
}

// Where one group's sums of a block of rows go: the running total of the
// groups before it (`acc`, or none for the first group), and, for the last
// group, the result as float32 or int32 rows of N; else back into acc.
struct Combined {
  uint32_t* acc;
  bool first, last;
  float* floats;
  int32_t* ints;
};

// total = (acc) + weight · (raw - correction[n]) in wrapping uint32 over
// rows [rows, N] of raw, into `to`; the int32 the last total stands for is
// the true sum. AVX2 (which FBGEMM needs too), 8 columns at a time: the
// compiler does not vectorize this loop at -O2.
__attribute__((target("avx2"))) void Combine(const int32_t* raw, const uint32_t* correction,
                                             uint32_t weight, int64_t rows, int64_t N,
                                             const Combined& to) {
  const __m256i w = _mm256_set1_epi32(static_cast<int32_t>(weight));
  for (int64_t m = 0; m < rows; ++m) {
    const int64_t row = m * N;
    int64_t n = 0;
    for (; n + 8 <= N; n += 8) {
      const int64_t i = row + n;
      const auto* c = reinterpret_cast<const __m256i*>(correction + n);
      __m256i total = _mm256_mullo_epi32(
          w, _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(raw + i)),
                              _mm256_loadu_si256(c)));
      if (!to.first) {
        total = _mm256_add_epi32(total,
                                 _mm256_loadu_si256(reinterpret_cast<const __m256i*>(to.acc + i)));
      }
      if (!to.last) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(to.acc + i), total);
      } else if (to.floats != nullptr) {
        _mm256_storeu_ps(to.floats + i, _mm256_cvtepi32_ps(total));
      } else {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(to.ints + i), total);
      }
    }
    for (; n < N; ++n) {
      const int64_t i = row + n;
      const uint32_t total =
          (to.first ? 0u : to.acc[i]) + weight * (static_cast<uint32_t>(raw[i]) - correction[n]);
      if (!to.last) {
        to.acc[i] = total;
      } else if (to.floats != nullptr) {
        to.floats[i] = static_cast<float>(static_cast<int32_t>(total));
      } else {
        to.ints[i] = static_cast<int32_t>(total);
      }
    }
  }
}

// Whether FBGEMM's kernels for `isa` add pairs of products in saturating
// int16: all but the VNNI ones.
bool PairSumsSaturate(fbgemm::inst_set_t isa) {
  return isa != fbgemm::inst_set_t::avx512_vnni && isa != fbgemm::inst_set_t::avx512_vnni_ymm;
}

// The groups' content and FBGEMM's instruction set `isa`, which W's packing
// follows, naming the derivation of their prepared W in the weight cache:
// equal keys, equal groups packed alike.
std::string CacheKind(const std::vector<U8S8Group>& groups, fbgemm::inst_set_t isa) {
  std::string kind = "u8s8 prepared W";
  auto append = [&](const void* data, size_t size) {
    kind.append(static_cast<const char*>(data), size);
  };
  append(&isa, sizeof isa);
  for (const U8S8Group& g : groups) {
    append(&g.weight, sizeof g.weight);
    const size_t terms = g.terms.size(), runs = g.runs.size();
    append(&terms, sizeof terms);
    for (const U8S8Term& t : g.terms) {
      append(t.u_map.data(), t.u_map.size());
      append(t.s_map.data(), t.s_map.size());
      append(&t.offset, sizeof t.offset);
    }
    append(&runs, sizeof runs);
    for (const U8S8Run& r : g.runs) {
      append(&r.first, sizeof r.first);
      append(&r.second, sizeof r.second);
    }
  }
  return kind;
}

// Rows of A a thread takes at a time: about 1 MB of mapped bytes for the
// deepest group (at least 64 rows), so that the mapped rows and the int32
// blocks are reused from the heap, where whole-matrix buffers take fresh
// pages from the system on every call.
int64_t BlockRows(const std::vector<PreparedW>& prepared) {
  int64_t depth = 1;
  for (const PreparedW& p : prepared) depth = std::max(depth, p.starts.back());
  return std::max<int64_t>(64, (int64_t{1} << 20) / depth);
}

// Rows [begin, end) of the sums into `floats` or `ints` (rows of N), on the
// calling thread: per block of rows and group, A's rows mapped, FBGEMM's
// GEMM, and the group's share added in while its sums are still in cache.
void SumRows(const std::vector<U8S8Group>& groups, const std::vector<PreparedW>& prepared,
             const uint8_t* a, int64_t K, int64_t N, int64_t begin, int64_t end, float* floats,
             int32_t* ints) {
  const int64_t block = std::min(end - begin, BlockRows(prepared));
  std::vector<uint8_t> u;
  // Written in full before they are read: no need to zero them.
  const size_t size = static_cast<size_t>(block * N);
  const auto raw = std::make_unique_for_overwrite<int32_t[]>(size);
  const auto acc = std::make_unique_for_overwrite<uint32_t[]>(groups.size() > 1 ? size : 0);
  for (int64_t r = begin; r < end; r += block) {
    const int64_t rows = std::min(block, end - r);
    for (size_t g = 0; g < groups.size(); ++g) {
      MapA(groups[g], prepared[g].starts, a + r * K, rows, K, u);
      Gemm(u, rows, prepared[g].starts.back(), N, *prepared[g].packed, raw.get());
      const Combined to{acc.get(), g == 0, g + 1 == groups.size(),
                        floats != nullptr ? floats + r * N : nullptr,
                        ints != nullptr ? ints + r * N : nullptr};
      Combine(raw.get(), prepared[g].correction.data(), groups[g].weight, rows, N, to);
    }
  }
}

}  // namespace

bool U8S8GemmAvailable() {
  static const bool available = fbgemm::fbgemmSupportedCPU();
  return available;
}

bool U8S8PairSumsSaturate() { return PairSumsSaturate(fbgemm::fbgemmInstructionSet()); }

at::Tensor U8S8GemmSums(const std::vector<U8S8Group>& groups, const at::Tensor& a,
                        const at::Tensor& w, bool as_float) {
  // One reading for the check and W's packing.
  const fbgemm::inst_set_t isa = fbgemm::fbgemmInstructionSet();
  for (const U8S8Group& group : groups) {
    TORCH_CHECK(group.saturating_pairs || !PairSumsSaturate(isa),
                "u8·s8 groups laid out for VNNI's int32 sums met FBGEMM kernels whose pair sums "
                "saturate: its instruction set was lowered after the layout was built; build the "
                "groups with U8S8Groups(terms, U8S8PairSumsSaturate())");
  }
  const at::Tensor a_bytes = a.contiguous();
  const int64_t M = a.size(0), K = a.size(1), N = w.size(1);
  const auto* a_data = reinterpret_cast<const uint8_t*>(a_bytes.data_ptr<int8_t>());
  if (M == 0 || N == 0 || K == 0 || groups.empty()) {
    return at::zeros({M, N}, a.options().dtype(as_float ? at::kFloat : at::kInt));
  }
  const auto cached = std::static_pointer_cast<const std::vector<PreparedW>>(
      CachedDerivedValue(w, CacheKind(groups, isa), [&] {
        const at::Tensor w_bytes = w.contiguous();
        const auto* w_data = reinterpret_cast<const uint8_t*>(w_bytes.data_ptr<int8_t>());
        auto built = std::make_shared<std::vector<PreparedW>>();
        for (const U8S8Group& group : groups) built->push_back(PrepareW(group, w_data, K, N));
        return std::shared_ptr<const void>(std::move(built));
      }));
  const std::vector<PreparedW>& prepared = *cached;
  at::Tensor out = at::empty({M, N}, a.options().dtype(as_float ? at::kFloat : at::kInt));
  float* floats = as_float ? out.data_ptr<float>() : nullptr;
  int32_t* ints = as_float ? nullptr : out.data_ptr<int32_t>();
  // One part of A's rows per intra-op thread, each taken from mapping to
  // result: no barrier between the steps, and each step's data still in the
  // thread's cache. at::parallel_for hands one part to each thread (all of
  // them to the caller inside another parallel region) and passes an
  // exception on to the caller.
  const int64_t parts = at::get_num_threads();
  at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t t = first; t < last; ++t) {
      const int64_t begin = M * t / parts, end = M * (t + 1) / parts;
      if (begin < end) SumRows(groups, prepared, a_data, K, N, begin, end, floats, ints);
    }
  });
  return out;
}

}  // namespace transaxx::approx
