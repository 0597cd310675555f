#include "libs/approx/torch/structured_gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "libs/approx/int8_terms.h"

namespace transaxx::approx {
namespace {

// Products of two int8 values are at most 2^14 in magnitude, so float32
// sums of up to 2^10 of them are exact integers (at most 2^24).
constexpr int64_t kExactFloatDepth = (int64_t{1} << 24) / (128 * 128);

using ByteMap = std::array<int8_t, 256>;

// The T maps of an int8 matrix x [R, C] as float32, side by side: along the
// columns, [R, T·C], for A (`along_columns`); along the rows, [T·R, C], for
// W. A 256-entry lookup per element, without a 64-bit index tensor.
at::Tensor Mapped(const std::vector<const ByteMap*>& maps, const at::Tensor& x,
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
      for (int byte = 0; byte < 256; ++byte) lookup[byte] = (*maps[t])[byte];
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

// x·y exactly, for integer-valued x [M, D] and y [D, N] whose products are
// at most 2^14 in magnitude: one float32 GEMM per chunk of D, each chunk's
// sum an exact integer of at most 2^24, added in int32 when no sum of D products
// can leave it (D <= kMaxInt8TermDepth), else in int64.
at::Tensor ExactProduct(const at::Tensor& x, const at::Tensor& y) {
  const int64_t depth = x.size(1);
  if (depth <= kExactFloatDepth) return at::mm(x, y).to(at::kInt);
  const at::ScalarType type = depth <= kMaxInt8TermDepth ? at::kInt : at::kLong;
  at::Tensor sum = at::zeros({x.size(0), y.size(1)}, x.options().dtype(type));
  for (int64_t begin = 0; begin < depth; begin += kExactFloatDepth) {
    const int64_t length = std::min(kExactFloatDepth, depth - begin);
    sum.add_(at::mm(x.narrow(1, begin, length), y.narrow(0, begin, length)).to(type));
  }
  return sum;
}

}  // namespace

at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a,
                              const at::Tensor& w) {
  TORCH_CHECK(structure.path != KernelPath::kTable,
              "the structured GEMM needs a multiplier with an exact structure");
  TORCH_CHECK(a.is_cpu() && w.is_cpu(), "the structured GEMM runs on the CPU");
  const std::vector<Int8Term> terms = *Int8Terms(structure);
  // Terms of equal weight are one GEMM, their operands side by side along K.
  std::map<uint32_t, std::pair<std::vector<const ByteMap*>, std::vector<const ByteMap*>>> groups;
  for (const Int8Term& term : terms) {
    if (term.weight == 0) continue;  // 128^(i+j) vanishes modulo 2^32 from i + j = 5 on
    groups[term.weight].first.push_back(&term.a_map);
    groups[term.weight].second.push_back(&term.b_map);
  }
  if (groups.size() == 1 && groups.begin()->first == 1) {
    const auto& [a_maps, b_maps] = groups.begin()->second;
    const at::Tensor sum = ExactProduct(Mapped(a_maps, a, true), Mapped(b_maps, w, false));
    return sum.to(at::kInt);  // the true sum, which fits int32 (REQUIRES)
  }
  // Σ weight · sum modulo 2^32 (int8_terms.h), in one pass of unsigned
  // arithmetic, which wraps; the int32 it stands for is the true sum.
  at::Tensor total = at::zeros({a.size(0), w.size(1)}, a.options().dtype(at::kInt));
  uint32_t* acc = reinterpret_cast<uint32_t*>(total.data_ptr<int32_t>());
  for (const auto& [weight, maps] : groups) {
    const at::Tensor sum =
        ExactProduct(Mapped(maps.first, a, true), Mapped(maps.second, w, false)).contiguous();
    const bool wide = sum.scalar_type() == at::kLong;
    const int32_t* narrow = wide ? nullptr : sum.data_ptr<int32_t>();
    const int64_t* full = wide ? sum.data_ptr<int64_t>() : nullptr;
    at::parallel_for(0, total.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const uint32_t low = wide ? static_cast<uint32_t>(full[i]) : static_cast<uint32_t>(narrow[i]);
        acc[i] += weight * low;
      }
    });
  }
  return total;
}

}  // namespace transaxx::approx
