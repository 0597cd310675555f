#include "libs/approx/torch/structured_gemm.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "libs/approx/int8_terms.h"

namespace transaxx::approx {
namespace {

// Products of two int8 values are at most 2^14 in magnitude, so float32
// sums of up to 2^10 of them are exact integers (below 2^24).
constexpr int64_t kExactFloatDepth = (int64_t{1} << 24) / (128 * 128);
constexpr int64_t kLow32 = 0xFFFFFFFFll;

// The terms' maps of the operand's bytes, side by side along `dim` (1 for
// A's columns, 0 for W's rows), as float32.
at::Tensor Mapped(const std::vector<const std::array<int8_t, 256>*>& maps,
                  const at::Tensor& bytes, int64_t dim) {
  std::vector<at::Tensor> parts;
  const at::Tensor index = bytes.flatten();
  for (const std::array<int8_t, 256>* map : maps) {
    const at::Tensor lookup =
        at::tensor(at::ArrayRef<int8_t>(map->data(), map->size()), bytes.options().dtype(at::kChar))
            .to(at::kFloat);
    parts.push_back(lookup.index_select(0, index).view(bytes.sizes()));
  }
  return at::cat(parts, dim);
}

// x·y exactly, for integer-valued x [M, D] and y [D, N] whose products are
// at most 2^14 in magnitude: one float32 GEMM per chunk of D, each chunk's
// sum an exact integer below 2^24, added in int32 when no sum of D products
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
  const std::vector<Int8Term> terms = *Int8Terms(structure);
  // Terms of equal weight are one GEMM, their operands side by side along K.
  std::map<uint32_t, std::pair<std::vector<const std::array<int8_t, 256>*>,
                               std::vector<const std::array<int8_t, 256>*>>>
      groups;
  for (const Int8Term& term : terms) {
    if (term.weight == 0) continue;  // 128^(i+j) vanishes modulo 2^32 from i + j = 5 on
    groups[term.weight].first.push_back(&term.a_map);
    groups[term.weight].second.push_back(&term.b_map);
  }
  const at::Tensor a_bytes = a.view(at::kByte).to(at::kLong);
  const at::Tensor w_bytes = w.view(at::kByte).to(at::kLong);
  if (groups.size() == 1 && groups.begin()->first == 1) {
    const auto& [a_maps, b_maps] = groups.begin()->second;
    const at::Tensor sum = ExactProduct(Mapped(a_maps, a_bytes, 1), Mapped(b_maps, w_bytes, 0));
    return sum.to(at::kInt);  // the true sum, which fits int32 (REQUIRES)
  }
  // Σ weight · sum modulo 2^32 (int8_terms.h): weights are powers of 128
  // below 2^32, at most 2^28, so each product stays below 2^60.
  at::Tensor total = at::zeros({a.size(0), w.size(1)}, a.options().dtype(at::kLong));
  for (const auto& [weight, maps] : groups) {
    TORCH_CHECK(weight <= (uint32_t{1} << 28), "unexpected int8 term weight ", weight);
    const at::Tensor sum =
        ExactProduct(Mapped(maps.first, a_bytes, 1), Mapped(maps.second, w_bytes, 0));
    total.add_(sum.to(at::kLong).bitwise_and(kLow32).mul(static_cast<int64_t>(weight)))
        .bitwise_and_(kLow32);
  }
  // Back from 0 .. 2^32 - 1 to the int32 it stands for.
  total.sub_(total.ge(int64_t{1} << 31).to(at::kLong).mul(int64_t{1} << 32));
  return total.to(at::kInt);
}

}  // namespace transaxx::approx
