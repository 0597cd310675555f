#include "libs/approx/torch/structured_gemm.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>

namespace transaxx::approx {
namespace {

// One term X·Y of the sum with a bound on |x|·|y| for its entries.
struct Term {
  at::Tensor x;  // [M, K], integer values
  at::Tensor y;  // [K, N], integer values
  int64_t max_product;
};

// The largest |value| of an int8 operand: -128 may appear in data that was
// not produced by narrow-range quantization.
constexpr int64_t kInt8MaxAbs = 128;

int64_t MaxAbs(const std::array<int64_t, 256>& values) {
  int64_t m = 0;
  for (int64_t v : values) m = std::max(m, std::abs(v));
  return m;
}

// values[byte of x] for every element of the int8 tensor x.
at::Tensor Apply(const std::array<int64_t, 256>& values, const at::Tensor& x) {
  const at::Tensor lookup =
      at::tensor(at::ArrayRef<int64_t>(values.data(), values.size()), x.options().dtype(at::kLong));
  return lookup.index_select(0, x.view(at::kByte).to(at::kLong).flatten()).view(x.sizes());
}

// X·Y exactly, as int64.
at::Tensor ExactProduct(const Term& term) {
  constexpr int64_t kFloatExact = int64_t{1} << 24;
  constexpr int64_t kDoubleExact = int64_t{1} << 53;
  const int64_t product = std::max<int64_t>(term.max_product, 1);
  at::ScalarType type = at::kFloat;
  int64_t chunk = kFloatExact / product;
  if (chunk < 256) {
    type = at::kDouble;
    chunk = kDoubleExact / product;
  }
  const at::Tensor x = term.x.to(type);
  const at::Tensor y = term.y.to(type);
  const int64_t k = x.size(1);
  if (k <= chunk) return at::mm(x, y).to(at::kLong);
  at::Tensor sum = at::zeros({x.size(0), y.size(1)}, x.options().dtype(at::kLong));
  for (int64_t begin = 0; begin < k; begin += chunk) {
    const int64_t length = std::min(chunk, k - begin);
    sum.add_(at::mm(x.narrow(1, begin, length), y.narrow(0, begin, length)).to(at::kLong));
  }
  return sum;
}

}  // namespace

at::Tensor StructuredGemmInt8(const Structure& structure, const at::Tensor& a,
                              const at::Tensor& w) {
  TORCH_CHECK(structure.path != KernelPath::kTable,
              "the structured GEMM needs a multiplier with an exact structure");
  std::vector<Term> terms;
  switch (structure.path) {
    case KernelPath::kExactInt8:
      terms.push_back({a, w, kInt8MaxAbs * kInt8MaxAbs});
      break;
    case KernelPath::kMask:
      terms.push_back({a.bitwise_and(~structure.mask->a_mask), w.bitwise_and(~structure.mask->b_mask),
                       kInt8MaxAbs * kInt8MaxAbs});
      break;
    case KernelPath::kLowRank: {
      const Decomposition& d = *structure.decomposition;
      terms.push_back({a, w, kInt8MaxAbs * kInt8MaxAbs});
      for (int r = 0; r < d.rank; ++r) {
        terms.push_back({Apply(d.f[r], a), Apply(d.g[r], w), MaxAbs(d.f[r]) * MaxAbs(d.g[r])});
      }
      break;
    }
    case KernelPath::kTable:
      break;
  }
  at::Tensor sum = ExactProduct(terms[0]);
  for (size_t t = 1; t < terms.size(); ++t) sum.add_(ExactProduct(terms[t]));
  return sum.to(at::kInt);
}

}  // namespace transaxx::approx
