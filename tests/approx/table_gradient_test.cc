// Table-aware gradients (table_gradient.h, approx_ops.h): the factored
// finite differences against the table itself, and the ops' backward passes
// against plain loops over the definition, on the real EvoApprox tables.
#include "libs/approx/torch/table_gradient.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "libs/approx/builtin.h"
#include "libs/approx/quantization.h"
#include "libs/approx/table_io.h"
#include "libs/approx/torch/approx_ops.h"

namespace transaxx::approx {
namespace {

Multiplier Evo(const std::string& name) {
  const Signedness signedness = *SignednessFromEvoName(name);
  absl::StatusOr<Table> table = ReadEvoApproxLut(
      (std::filesystem::path(TRANSAXX_EVOAPPROX_DIR) / (name + ".lut")).string(), signedness);
  EXPECT_TRUE(table.ok()) << table.status();
  return *Multiplier::Create("evo:" + name, signedness, *table);
}

std::vector<std::string> EvoNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(TRANSAXX_EVOAPPROX_DIR)) {
    if (entry.path().extension() == ".lut") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Multiplier Exact() {
  return *Multiplier::Create("exact", Signedness::kSigned, ExactTable(Signedness::kSigned));
}

Multiplier RandomMultiplier() {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> dist(-(1 << 14), 1 << 14);
  Table table;
  for (int32_t& entry : table) entry = dist(rng);
  return *Multiplier::Create("random", Signedness::kSigned, table);
}

// Largest |factored - table| of DA and DB over all 65,536 operand pairs,
// relative to the largest |DA| or |DB|.
double FactoredError(const Multiplier& m, const TableGradient& g) {
  const at::Tensor da = at::mm(g.da_u.t().to(at::kDouble), g.da_v.to(at::kDouble));
  const at::Tensor db = at::mm(g.db_p.t().to(at::kDouble), g.db_q.to(at::kDouble));
  const auto das = da.accessor<double, 2>(), dbs = db.accessor<double, 2>();
  double worst = 0, scale = 1;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      const double ra = b + das[a + 128][b + 128];
      const double rb = a + dbs[a + 128][b + 128];
      const double ta = TableDerivativeA(m, a, b), tb = TableDerivativeB(m, a, b);
      worst = std::max({worst, std::abs(ra - ta), std::abs(rb - tb)});
      scale = std::max({scale, std::abs(ta), std::abs(tb)});
    }
  }
  return worst / scale;
}

TEST(TableGradientTest, FiniteDifferencesOfTheTable) {
  const Multiplier exact = Exact();
  EXPECT_EQ(TableDerivativeA(exact, 5, -7), -7);
  EXPECT_EQ(TableDerivativeB(exact, 5, -7), 5);
  EXPECT_EQ(TableDerivativeA(exact, -128, 3), 3);  // one-sided ends
  EXPECT_EQ(TableDerivativeB(exact, 3, 127), 3);
  const Multiplier m = Evo("mul8s_1L2N");
  EXPECT_DOUBLE_EQ(TableDerivativeA(m, 10, 20), (m(11, 20) - m(9, 20)) / 2.0);
  EXPECT_DOUBLE_EQ(TableDerivativeB(m, 10, 20), (m(10, 21) - m(10, 19)) / 2.0);
}

TEST(TableGradientTest, ExactMultiplierHasNoResidual) {
  const TableGradient g = ComputeTableGradient(Exact());
  EXPECT_EQ(g.da_u.size(0), 0);
  EXPECT_EQ(g.db_q.size(0), 0);
  EXPECT_EQ(g.da_dropped, 0);
}

// Every signed EvoApprox table has error rank <= 4, so the factors hold it
// exactly; unsigned ones (sign-magnitude in int8) and a random table keep
// at most kMaxRank terms and say what they drop.
TEST(TableGradientTest, FactorsReproduceEveryEvoApproxTable) {
  for (const std::string& name : EvoNames()) {
    const Multiplier m = Evo(name);
    const TableGradient g = ComputeTableGradient(m);
    EXPECT_LE(g.da_u.size(0), TableGradient::kMaxRank) << name;
    if (m.is_signed()) {
      EXPECT_LE(g.da_u.size(0), 4) << name;
      EXPECT_LE(g.db_p.size(0), 4) << name;
      EXPECT_LT(g.da_dropped, 1e-6) << name;
      EXPECT_LT(FactoredError(m, g), 1e-5) << name;
    }
  }
  const TableGradient random = ComputeTableGradient(RandomMultiplier());
  EXPECT_EQ(random.da_u.size(0), TableGradient::kMaxRank);
  EXPECT_GT(random.da_dropped, 0.1);
}

TEST(TableGradientTest, CachedPerContentHash) {
  const Multiplier m = Evo("mul8s_1L2N");
  EXPECT_EQ(CachedTableGradient(m).get(), CachedTableGradient(Evo("mul8s_1L2N")).get());
  EXPECT_NE(CachedTableGradient(m).get(), CachedTableGradient(Exact()).get());
}

std::vector<at::Tensor> Leaves(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> leaves;
  for (const at::Tensor& t : tensors) leaves.push_back(t.detach().clone().requires_grad_(true));
  return leaves;
}

void ExpectClose(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
  ASSERT_TRUE(actual.defined()) << what;
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  EXPECT_LT((actual - expected).abs().max().item<double>() / scale, 1e-5) << what;
}

// Plain loops over the definition for x [M, K] · wᵀ, w [N, K], per-channel
// weight scales: dL/dx[m,k] = Σ_n g (w[n,k] + sw[n] (DA - qw)), and
// dL/dw[n,k] = Σ_m g (x[m,k] + sa (DB - qx)).
std::pair<at::Tensor, at::Tensor> ReferenceLinearGrads(const Multiplier& m, const at::Tensor& x,
                                                       const at::Tensor& w, float amax,
                                                       const at::Tensor& g) {
  const QuantParams xp = *QuantParamsFromAmax(std::vector<float>{amax});
  const at::Tensor w_amax = w.abs().amax(1).contiguous();
  const QuantParams wp = *QuantParamsFromAmax(
      std::span<const float>(w_amax.data_ptr<float>(), static_cast<size_t>(w.size(0))));
  const at::Tensor qx = QuantizeInt8(x, xp), qw = QuantizeInt8(w, wp);
  at::Tensor gx = at::zeros_like(x), gw = at::zeros_like(w);
  for (int64_t i = 0; i < x.size(0); ++i) {
    for (int64_t n = 0; n < w.size(0); ++n) {
      const double gin = g[i][n].item<double>();
      for (int64_t k = 0; k < x.size(1); ++k) {
        const int a = qx[i][k].item<int>(), b = qw[n][k].item<int>();
        gx[i][k] += gin * (w[n][k].item<double>() + wp.scales[n] * (TableDerivativeA(m, a, b) - b));
        gw[n][k] += gin * (x[i][k].item<double>() + xp.scales[0] * (TableDerivativeB(m, a, b) - a));
      }
    }
  }
  return {gx, gw};
}

TEST(TableGradientTest, LinearBackwardFollowsTheTable) {
  at::manual_seed(1);
  const at::Tensor x = at::randn({6, 10}), w = at::randn({5, 10}), bias = at::randn({5});
  const at::Tensor g = at::randn({6, 5});
  for (const std::string name : {"mul8s_1L2N", "mul8s_1KVA", "mul8u_2V0"}) {
    const Multiplier m = Evo(name);
    const std::shared_ptr<const TableGradient> tg = CachedTableGradient(m);
    std::vector<at::Tensor> leaves = Leaves({x, w, bias});
    (ApproxLinear(leaves[0], leaves[1], leaves[2], m, 2.0f, WeightQuantization::kPerChannel,
                  tg.get()) *
     g)
        .sum()
        .backward();
    if (tg->da_dropped > 1e-6 || tg->db_dropped > 1e-6) continue;  // truncated: an estimate
    auto [gx, gw] = ReferenceLinearGrads(m, x, w, 2.0f, g);
    ExpectClose(leaves[0].grad(), gx, name + " input");
    ExpectClose(leaves[1].grad(), gw, name + " weight");
    ExpectClose(leaves[2].grad(), g.sum(0), name + " bias");
    // The table differs from exact products, so the gradient differs from
    // the straight-through one.
    std::vector<at::Tensor> ste = Leaves({x, w, bias});
    (ApproxLinear(ste[0], ste[1], ste[2], m, 2.0f, WeightQuantization::kPerChannel) * g)
        .sum()
        .backward();
    EXPECT_FALSE(at::allclose(ste[0].grad(), leaves[0].grad())) << name;
  }
}

// With an exact table the table-aware gradients are the straight-through
// ones, for every op.
TEST(TableGradientTest, ExactTableGivesStraightThroughGradients) {
  at::manual_seed(2);
  const Multiplier exact = Exact();
  const TableGradient tg = ComputeTableGradient(exact);
  auto check = [](const std::vector<at::Tensor>& values, const auto& op) {
    std::vector<at::Tensor> table = Leaves(values), ste = Leaves(values);
    op(table, true).sum().backward();
    op(ste, false).sum().backward();
    for (size_t i = 0; i < values.size(); ++i) {
      ExpectClose(table[i].grad(), ste[i].grad(), "operand " + std::to_string(i));
    }
  };
  check({at::randn({3, 8}), at::randn({4, 8}), at::randn({4})},
        [&](const std::vector<at::Tensor>& t, bool aware) {
          return ApproxLinear(t[0], t[1], t[2], exact, 2.0f, WeightQuantization::kPerTensor,
                              aware ? &tg : nullptr);
        });
  check({at::randn({2, 3, 7, 6}), at::randn({4, 3, 3, 3}), at::randn({4})},
        [&](const std::vector<at::Tensor>& t, bool aware) {
          return ApproxConv2d(t[0], t[1], t[2], exact, 2.0f, WeightQuantization::kPerChannel,
                              {2, 1}, {1, 0}, aware ? &tg : nullptr);
        });
  check({at::randn({2, 1, 4, 6}), at::randn({3, 6, 5})},
        [&](const std::vector<at::Tensor>& t, bool aware) {
          return ApproxMatmul(t[0], t[1], exact, 2.0f, 2.0f, aware ? &tg : nullptr);
        });
}

// Conv2d is a GEMM over im2col patches: its table-aware gradients are those
// of the linear op on the (differentiable) patches.
TEST(TableGradientTest, Conv2dBackwardIsTheLinearOneOnPatches) {
  at::manual_seed(3);
  const Multiplier m = Evo("mul8s_1L2N");
  const std::shared_ptr<const TableGradient> tg = CachedTableGradient(m);
  const at::Tensor x = at::randn({2, 3, 7, 6}), w = at::randn({4, 3, 3, 3});
  std::vector<at::Tensor> conv = Leaves({x, w}), linear = Leaves({x, w});
  const at::Tensor out = ApproxConv2d(conv[0], conv[1], std::nullopt, m, 2.0f,
                                      WeightQuantization::kPerChannel, {2, 1}, {1, 0}, tg.get());
  const at::Tensor g = at::randn(out.sizes());
  (out * g).sum().backward();
  const at::Tensor patches =
      at::im2col(linear[0], {3, 3}, {1, 1}, {1, 0}, {2, 1}).transpose(1, 2).reshape({-1, 27});
  const at::Tensor rows = ApproxLinear(patches, linear[1].reshape({4, 27}), std::nullopt, m, 2.0f,
                                       WeightQuantization::kPerChannel, tg.get());
  (rows * g.permute({0, 2, 3, 1}).reshape({-1, 4})).sum().backward();
  ExpectClose(conv[0].grad(), linear[0].grad(), "input");
  ExpectClose(conv[1].grad(), linear[1].grad(), "weight");
}

// A matmul is the linear op with b = wᵀ and one scale for b; broadcast batch
// dimensions sum the gradients of their copies.
TEST(TableGradientTest, MatmulBackwardFollowsTheTable) {
  at::manual_seed(4);
  const Multiplier m = Evo("mul8s_1KVA");
  const std::shared_ptr<const TableGradient> tg = CachedTableGradient(m);
  const at::Tensor a = at::randn({2, 1, 4, 6}), b = at::randn({3, 6, 5});
  const at::Tensor g = at::randn({2, 3, 4, 5});
  std::vector<at::Tensor> batched = Leaves({a, b});
  (ApproxMatmul(batched[0], batched[1], m, 2.0f, 2.5f, tg.get()) * g).sum().backward();
  std::vector<at::Tensor> each = Leaves({a, b});
  for (int64_t i = 0; i < 2; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      (ApproxMatmul(each[0][i][0], each[1][j], m, 2.0f, 2.5f, tg.get()) * g[i][j])
          .sum()
          .backward();
    }
  }
  ExpectClose(batched[0].grad(), each[0].grad(), "a");
  ExpectClose(batched[1].grad(), each[1].grad(), "b");
  // The 2-D case against the loops (per-tensor scale of b = wᵀ).
  const at::Tensor a2 = a[0][0], b2 = b[0], g2 = g[0][0];
  std::vector<at::Tensor> plain = Leaves({a2, b2});
  (ApproxMatmul(plain[0], plain[1], m, 2.0f, 2.5f, tg.get()) * g2).sum().backward();
  const float sa = *ScaleFromAmax(2.0f), sb = *ScaleFromAmax(2.5f);
  const at::Tensor qa = QuantizeInt8(a2, {{sa}}), qb = QuantizeInt8(b2, {{sb}});
  at::Tensor ga = at::zeros_like(a2), gb = at::zeros_like(b2);
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t n = 0; n < 5; ++n) {
      for (int64_t k = 0; k < 6; ++k) {
        const int x = qa[i][k].item<int>(), y = qb[k][n].item<int>();
        const double gin = g2[i][n].item<double>();
        ga[i][k] += gin * (b2[k][n].item<double>() + sb * (TableDerivativeA(m, x, y) - y));
        gb[k][n] += gin * (a2[i][k].item<double>() + sa * (TableDerivativeB(m, x, y) - x));
      }
    }
  }
  ExpectClose(plain[0].grad(), ga, "a (loops)");
  ExpectClose(plain[1].grad(), gb, "b (loops)");
}

}  // namespace
}  // namespace transaxx::approx
