#include "libs/approx/torch/structured_gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "libs/approx/int8_terms.h"
#include "libs/approx/torch/u8s8_gemm.h"
#include "libs/approx/u8s8_terms.h"

namespace transaxx::approx {
namespace {

// Every integer up to 2^24 is a float32, so a float32 sum of integer
// products whose magnitudes add up to at most this is exact in any order.
constexpr int64_t kExactFloatSum = int64_t{1} << 24;

using ByteMap = std::array<int8_t, 256>;

// Terms of one weight, their maps side by side along K.
struct Group {
  std::vector<ByteMap> a_maps, b_maps;
};

int MaxAbs(const ByteMap& map) {
  int most = 0;
  for (int8_t v : map) most = std::max(most, std::abs(static_cast<int>(v)));
  return most;
}

// Ranges [begin, begin + length) of a group's concatenated depth (term t
// covers [t·K, (t+1)·K)) in which the products' magnitude bounds add up to
// at most kExactFloatSum: each range is one exact float32 GEMM.
std::vector<std::pair<int64_t, int64_t>> ExactChunks(const Group& group, int64_t K) {
  std::vector<std::pair<int64_t, int64_t>> chunks;
  int64_t begin = 0, length = 0, bound = 0;
  for (size_t t = 0; t < group.a_maps.size(); ++t) {
    // At least 1: a zero map still takes a place in the GEMM.
    const int64_t product =
        std::max<int64_t>(1, int64_t{MaxAbs(group.a_maps[t])} * MaxAbs(group.b_maps[t]));
    for (int64_t left = K; left > 0;) {
      const int64_t fit = std::min(left, (kExactFloatSum - bound) / product);
      if (fit == 0) {
        chunks.push_back({begin, length});
        begin += length;
        length = bound = 0;
        continue;
      }
      length += fit;
      bound += fit * product;
      left -= fit;
    }
  }
  if (length > 0) chunks.push_back({begin, length});
  return chunks;
}

// The T maps of an int8 matrix x [R, C] as float32, side by side: along the
// columns, [R, T·C], for A (`along_columns`); along the rows, [T·R, C], for
// W. A 256-entry lookup per element, without a 64-bit index tensor.
at::Tensor Mapped(const std::vector<ByteMap>& maps, const at::Tensor& x,
                  bool along_columns) {
  const at::Tensor bytes = x.contiguous();
  const int64_t rows = bytes.size(0), cols = bytes.size(1);
  const int64_t t_count = static_cast<int64_t>(maps.size());
  at::Tensor out = at::empty(along_columns ? at::IntArrayRef{rows, t_count * cols}
                                           : at::IntArrayRef{t_count * rows, cols},
                             bytes.options().dtype(at::kFloat));
  const uint8_t* in = reinterpret_cast<const uint8_t*>(bytes.data_ptr<int8_t>());
  float* result = out.data_ptr<float>();
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t t = 0; t < t_count; ++t) {
      float lookup[256];
      for (int byte = 0; byte < 256; ++byte) lookup[byte] = maps[t][byte];
      for (int64_t r = begin; r < end; ++r) {
        float* target = along_columns ? result + r * t_count * cols + t * cols
                                      : result + (t * rows + r) * cols;
        const uint8_t* source = in + r * cols;
        for (int64_t c = 0; c < cols; ++c) target[c] = lookup[source[c]];
      }
    }
  });
  return out;
}

std::vector<Int8Term> Terms(const Structure& structure) {
  TORCH_CHECK(structure.path != KernelPath::kTable,
              "the structured GEMM needs a multiplier with an exact structure");
  return *Int8Terms(structure);
}

std::map<uint32_t, Group> Groups(const std::vector<Int8Term>& terms) {
  std::map<uint32_t, Group> groups;
  for (const Int8Term& term : terms) {
    if (term.weight == 0) continue;  // 128^(i+j) vanishes modulo 2^32 from i + j = 5 on
    groups[term.weight].a_maps.push_back(term.a_map);
    groups[term.weight].b_maps.push_back(term.b_map);
  }
  return groups;
}

// ChosenStructuredEngine for a structure of these terms, whose u8·s8 layout
// is `u8s8`: u8·s8 where it runs here and takes no more runs of depth K than
// float32 takes terms (each a GEMM of depth K; weight-0 terms are skipped).
std::optional<StructuredEngine> Choose(const std::vector<Int8Term>& terms,
                                       const std::vector<U8S8Group>& u8s8) {
  const int64_t float_terms =
      std::count_if(terms.begin(), terms.end(), [](const Int8Term& t) { return t.weight != 0; });
  if (U8S8GemmAvailable() && U8S8Slots(u8s8) <= float_terms) return StructuredEngine::kU8S8;
  if (FloatMatmulIsIeee()) return StructuredEngine::kFloat32;
  return std::nullopt;
}

// Rows of A mapped at a time: a block of mapped operands of 8 MB (more
// only where 64 rows are deeper) is reused from the heap, where mapping all
// of a large A at once takes fresh pages from the system on every call
// (page faults cost about as much as a float GEMM's pass over its output).
int64_t BlockRows(const Group& group, int64_t K) {
  constexpr int64_t kBlockFloats = int64_t{2} << 20;
  const int64_t depth = std::max<int64_t>(1, static_cast<int64_t>(group.a_maps.size()) * K);
  return std::max<int64_t>(64, kBlockFloats / depth);
}

// The sums as float32 [M, N] when a single exact float GEMM gives them all
// (one group of weight 1 in one chunk); an undefined tensor otherwise.
at::Tensor SingleGemm(const std::map<uint32_t, Group>& groups, const at::Tensor& a,
                      const at::Tensor& w) {
  if (groups.size() != 1 || groups.begin()->first != 1) return {};
  const Group& group = groups.begin()->second;
  const int64_t M = a.size(0), K = a.size(1);
  if (ExactChunks(group, K).size() > 1) return {};
  const at::Tensor y = Mapped(group.b_maps, w, false);
  at::Tensor out = at::empty({M, w.size(1)}, a.options().dtype(at::kFloat));
  const int64_t block = BlockRows(group, K);
  for (int64_t r = 0; r < M; r += block) {
    const int64_t rows = std::min(block, M - r);
    at::Tensor target = out.narrow(0, r, rows);
    at::mm_out(target, Mapped(group.a_maps, a.narrow(0, r, rows), true), y);
    // A GEMM that starts a sum with a product such as -3·0 gives -0.0, which
    // the int32 sums stand for as +0.0; -0.0 + 0.0 is +0.0.
    float* values = target.data_ptr<float>();
    at::parallel_for(0, rows * target.size(1), 1 << 14, [&](int64_t from, int64_t to) {
      for (int64_t i = from; i < to; ++i) values[i] += 0.0f;
    });
  }
  return out;
}

// Σ weight · group sum modulo 2^32 (int8_terms.h) in wrapping uint32
// arithmetic, one exact float GEMM per chunk added in as it comes; the
// int32 the total stands for is the true sum. Returned as int32, or
// (`as_float`) converted to float32 by the last chunk's pass, in place of
// that chunk's GEMM result.
at::Tensor ChunkedSums(const std::map<uint32_t, Group>& groups, const at::Tensor& a,
                       const at::Tensor& w, bool as_float) {
  const int64_t M = a.size(0), K = a.size(1), N = w.size(1);
  struct Step {
    uint32_t weight;
    const Group* group;
    std::vector<std::pair<int64_t, int64_t>> chunks;
  };
  std::vector<Step> plan;
  size_t chunk_count = 0;
  for (const auto& [weight, group] : groups) {
    plan.push_back({weight, &group, ExactChunks(group, K)});
    chunk_count += plan.back().chunks.size();
  }
  const at::ScalarType type = as_float ? at::kFloat : at::kInt;
  if (chunk_count == 0) return at::zeros({M, N}, a.options().dtype(type));
  std::vector<at::Tensor> mapped_w;
  int64_t block = M;
  for (const Step& step : plan) {
    mapped_w.push_back(Mapped(step.group->b_maps, w, false));
    block = std::min(block, BlockRows(*step.group, K));
  }
  at::Tensor total = at::empty({M, N}, a.options().dtype(at::kInt));
  at::Tensor chunk = at::empty({M, N}, a.options().dtype(at::kFloat));
  for (int64_t r = 0; r < M; r += block) {
    const int64_t rows = std::min(block, M - r);
    const at::Tensor a_rows = a.narrow(0, r, rows);
    at::Tensor sums_rows = chunk.narrow(0, r, rows);
    uint32_t* acc = reinterpret_cast<uint32_t*>(total.data_ptr<int32_t>()) + r * N;
    float* sums = sums_rows.data_ptr<float>();
    size_t done = 0;
    for (size_t g = 0; g < plan.size(); ++g) {
      const uint32_t weight = plan[g].weight;
      const at::Tensor x = Mapped(plan[g].group->a_maps, a_rows, true);
      for (const auto& [begin, length] : plan[g].chunks) {
        at::mm_out(sums_rows, x.narrow(1, begin, length), mapped_w[g].narrow(0, begin, length));
        const bool first = done == 0, last = ++done == chunk_count;
        at::parallel_for(0, rows * N, 1 << 14, [&](int64_t from, int64_t to) {
          for (int64_t i = from; i < to; ++i) {
            // An exact integer of at most 2^24: the conversion is exact.
            const uint32_t term = weight * static_cast<uint32_t>(static_cast<int32_t>(sums[i]));
            const uint32_t sum = first ? term : acc[i] + term;
            if (last && as_float) {
              sums[i] = static_cast<float>(static_cast<int32_t>(sum));
            } else {
              acc[i] = sum;
            }
          }
        });
      }
    }
  }
  return as_float ? chunk : total;
}

void CheckOperands(const at::Tensor& a, const at::Tensor& w) {
  TORCH_CHECK(a.is_cpu() && w.is_cpu(), "the structured GEMM runs on the CPU");
  TORCH_CHECK(a.scalar_type() == at::kChar && w.scalar_type() == at::kChar,
              "the structured GEMM takes int8 operands, got ", a.scalar_type(), " and ",
              w.scalar_type());
  TORCH_CHECK(a.dim() == 2 && w.dim() == 2 && a.size(1) == w.size(0),
              "the structured GEMM takes [M, K] and [K, N] operands, got ", a.sizes(), " and ",
              w.sizes());
}

// The sums as int32, or (`as_float`) float32, by `engine` or the chosen one.
at::Tensor Sums(const Structure& structure, const at::Tensor& a, const at::Tensor& w,
                std::optional<StructuredEngine> engine, bool as_float) {
  CheckOperands(a, w);
  const std::vector<Int8Term> terms = Terms(structure);
  // The u8·s8 layout, built only where the choice or the u8·s8 engine needs it.
  const std::vector<U8S8Group> u8s8 =
      engine == StructuredEngine::kFloat32 ? std::vector<U8S8Group>{}
                                           : U8S8Groups(terms, U8S8PairSumsSaturate());
  if (!engine) engine = Choose(terms, u8s8);
  TORCH_CHECK(engine.has_value(),
              "the structured GEMM has no engine for this multiplier here: its float32 engine "
              "needs IEEE float32 matmuls, but this process allows reduced precision (float32 "
              "matmul precision 'high' or 'medium', tf32 or bf16), and the u8·s8 engine is "
              "taken only where FBGEMM supports the CPU and its runs are no more than float32's "
              "terms");
  if (*engine == StructuredEngine::kU8S8) {
    TORCH_CHECK(U8S8GemmAvailable(),
                "the u8·s8 engine needs a CPU that FBGEMM supports (AVX2 or AVX-512)");
    return U8S8GemmSums(u8s8, a, w, as_float);
  }
  TORCH_CHECK(FloatMatmulIsIeee(),
              "the structured GEMM's float32 engine needs IEEE float32 matmuls, but this process "
              "allows reduced precision (float32 matmul precision 'high' or 'medium', tf32 or "
              "bf16)");
  const std::map<uint32_t, Group> groups = Groups(terms);
  const at::Tensor single = SingleGemm(groups, a, w);
  if (single.defined()) return as_float ? single : single.to(at::kInt);
  return ChunkedSums(groups, a, w, as_float);
}

}  // namespace

bool FloatMatmulIsIeee() {
  const at::Context& context = at::globalContext();
  if (context.float32MatmulPrecision() != at::Float32MatmulPrecision::HIGHEST) return false;
  for (const auto& [backend, op] : {std::pair{at::Float32Backend::GENERIC, at::Float32Op::ALL},
                                    {at::Float32Backend::MKLDNN, at::Float32Op::ALL},
                                    {at::Float32Backend::MKLDNN, at::Float32Op::MATMUL}}) {
    const at::Float32Precision p = context.float32Precision(backend, op);
    if (p == at::Float32Precision::TF32 || p == at::Float32Precision::BF16 ||
        p == at::Float32Precision::BF16X9) {
      return false;
    }
  }
  return true;
}

const char* StructuredEngineName(StructuredEngine engine) {
  return engine == StructuredEngine::kU8S8 ? "u8·s8 GEMM (FBGEMM)" : "float32 GEMM";
}

std::optional<StructuredEngine> ChosenStructuredEngine(const Structure& structure) {
  if (structure.path == KernelPath::kTable) return std::nullopt;
  const std::vector<Int8Term> terms = Terms(structure);
  return Choose(terms, U8S8Groups(terms, U8S8PairSumsSaturate()));
}

at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a, const at::Tensor& w,
                              std::optional<StructuredEngine> engine) {
  return Sums(structure, a, w, engine, false);
}

at::Tensor StructuredGemmFloat(const Structure& structure, const at::Tensor& a,
                               const at::Tensor& w, std::optional<StructuredEngine> engine) {
  return Sums(structure, a, w, engine, true);
}

}  // namespace transaxx::approx
