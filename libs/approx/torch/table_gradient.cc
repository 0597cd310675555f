#include "libs/approx/torch/table_gradient.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace transaxx::approx {
namespace {

// Singular values below this fraction of the largest are rounding noise of
// an exactly low-rank residual.
constexpr double kNegligible = 1e-9;

int32_t At(const Multiplier& m, int a, int b) { return m.int8_table()[TableIndex(a, b)]; }

// Central difference of f over -128..127, one-sided at the ends.
template <typename F>
double Difference(int x, F f) {
  if (x == -128) return f(-127) - f(-128);
  if (x == 127) return f(127) - f(126);
  return (f(x + 1) - f(x - 1)) / 2.0;
}

// Factors (u, v) of `residual` [256, 256] (double) with u[r] ⊗ v[r] summing
// to its truncated SVD, and the relative norm of what is dropped.
std::pair<std::pair<at::Tensor, at::Tensor>, double> Factor(const at::Tensor& residual) {
  auto [u, s, vh] = at::linalg_svd(residual, /*full_matrices=*/false);
  const double top = s[0].item<double>();
  const double total = s.square().sum().item<double>();
  int64_t rank = 0;
  while (rank < TableGradient::kMaxRank && rank < s.size(0) && top > 0 &&
         s[rank].item<double>() > kNegligible * top) {
    ++rank;
  }
  const double kept = s.narrow(0, 0, rank).square().sum().item<double>();
  const double dropped = total > 0 ? std::sqrt(std::max(0.0, total - kept) / total) : 0.0;
  const at::Tensor root = s.narrow(0, 0, rank).sqrt();
  at::Tensor left = (u.narrow(1, 0, rank) * root).t().contiguous().to(at::kFloat);
  at::Tensor right = (vh.narrow(0, 0, rank) * root.unsqueeze(1)).contiguous().to(at::kFloat);
  return {{std::move(left), std::move(right)}, dropped};
}

}  // namespace

double TableDerivativeA(const Multiplier& multiplier, int a, int b) {
  return Difference(a, [&](int x) { return static_cast<double>(At(multiplier, x, b)); });
}

double TableDerivativeB(const Multiplier& multiplier, int a, int b) {
  return Difference(b, [&](int y) { return static_cast<double>(At(multiplier, a, y)); });
}

TableGradient ComputeTableGradient(const Multiplier& multiplier) {
  at::Tensor da = at::empty({256, 256}, at::kDouble);
  at::Tensor db = at::empty({256, 256}, at::kDouble);
  double* pa = da.data_ptr<double>();
  double* pb = db.data_ptr<double>();
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      const int64_t i = (a + 128) * 256 + (b + 128);
      pa[i] = TableDerivativeA(multiplier, a, b) - b;
      pb[i] = TableDerivativeB(multiplier, a, b) - a;
    }
  }
  TableGradient out;
  auto [a_factors, a_dropped] = Factor(da);
  auto [b_factors, b_dropped] = Factor(db);
  out.da_u = std::move(a_factors.first);
  out.da_v = std::move(a_factors.second);
  out.db_p = std::move(b_factors.first);
  out.db_q = std::move(b_factors.second);
  out.da_dropped = a_dropped;
  out.db_dropped = b_dropped;
  return out;
}

std::shared_ptr<const TableGradient> CachedTableGradient(const Multiplier& multiplier) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const TableGradient>>();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = cache->find(multiplier.cache_key()); it != cache->end()) return it->second;
  }
  auto shared = std::make_shared<const TableGradient>(ComputeTableGradient(multiplier));
  std::lock_guard<std::mutex> lock(mu);
  return cache->emplace(multiplier.cache_key(), std::move(shared)).first->second;
}

}  // namespace transaxx::approx
