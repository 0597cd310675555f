#include "libs/approx/torch/approx_ops.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <omp.h>
#include <torch/cuda.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "libs/approx/builtin.h"
#include "libs/approx/quantization.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/table_io.h"

namespace transaxx::approx {
namespace {

Multiplier ReadLut(const std::filesystem::path& path) {
  const std::string name = path.stem().string();
  const Signedness signedness = *SignednessFromEvoName(name);
  absl::StatusOr<Table> table = ReadEvoApproxLut(path.string(), signedness);
  EXPECT_TRUE(table.ok()) << table.status();
  return *Multiplier::Create("evo:" + name, signedness, *table);
}

Multiplier Evo(const std::string& name) {
  return ReadLut(std::filesystem::path(TRANSAXX_EVOAPPROX_DIR) / (name + ".lut"));
}

Multiplier Exact() {
  return *Multiplier::Create("exact", Signedness::kSigned, ExactTable(Signedness::kSigned));
}

// Random entries, T(0, w) != 0 included, so padding taps show.
Multiplier RandomMultiplier() {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> dist(-(1 << 15), 1 << 15);
  Table table;
  for (int32_t& entry : table) entry = dist(rng);
  return *Multiplier::Create("random", Signedness::kSigned, table);
}

// exact, a random table and the 19 EvoApprox tables.
std::vector<Multiplier> AllMultipliers() {
  std::vector<Multiplier> multipliers = {Exact(), RandomMultiplier()};
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(TRANSAXX_EVOAPPROX_DIR)) {
    if (entry.path().extension() == ".lut") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths.size(), 19u);
  for (const auto& path : paths) multipliers.push_back(ReadLut(path));
  return multipliers;
}

int32_t Entry(const Multiplier& m, int a, int w) { return m.int8_table()[TableIndex(a, w)]; }

float Scale(float amax) { return *ScaleFromAmax(amax); }

float AbsMax(const at::Tensor& t) { return t.abs().max().item<float>(); }

// The weight scale of each output channel (first dimension), as the ops
// compute it: max |w| per channel or over the whole tensor.
std::vector<float> WeightScales(const at::Tensor& w, WeightQuantization quantization) {
  std::vector<float> scales(w.size(0));
  for (int64_t o = 0; o < w.size(0); ++o) {
    scales[o] = Scale(quantization == WeightQuantization::kPerChannel ? AbsMax(w[o]) : AbsMax(w));
  }
  return scales;
}

// The quantize-dequantize of a tensor with one scale per first-dimension
// slice (scales.size() == 1: per tensor).
at::Tensor FakeQuantize(const at::Tensor& x, const std::vector<float>& scales) {
  at::Tensor out = x.contiguous().clone();
  const int64_t slice = out.numel() / static_cast<int64_t>(scales.size());
  float* data = out.data_ptr<float>();
  for (int64_t i = 0; i < out.numel(); ++i) {
    const float scale = scales[i / slice];
    data[i] = DequantizeValue(QuantizeValue(data[i], scale), scale);
  }
  return out;
}

// The naive approximate linear: quantize each value, sum table entries in
// 64 bits, dequantize with (activation scale x weight scale), add the bias.
at::Tensor NaiveLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                       const Multiplier& m, float amax, WeightQuantization quantization) {
  const float sa = Scale(amax);
  const std::vector<float> sw = WeightScales(w, quantization);
  const auto xa = x.accessor<float, 2>();
  const auto wa = w.accessor<float, 2>();
  at::Tensor out = at::empty({x.size(0), w.size(0)});
  for (int64_t i = 0; i < x.size(0); ++i) {
    for (int64_t o = 0; o < w.size(0); ++o) {
      int64_t sum = 0;
      for (int64_t k = 0; k < x.size(1); ++k) {
        sum += Entry(m, QuantizeValue(xa[i][k], sa), QuantizeValue(wa[o][k], sw[o]));
      }
      out[i][o] = static_cast<float>(sum) * (sa * sw[o]) + bias[o].item<float>();
    }
  }
  return out;
}

// The naive approximate conv2d, straight from the definition; padding taps
// are activation 0 and contribute T(0, w) like any other tap.
at::Tensor NaiveConv2d(const at::Tensor& x, const at::Tensor& w, const at::Tensor& bias,
                       const Multiplier& m, float amax, WeightQuantization quantization,
                       std::array<int64_t, 2> stride, std::array<int64_t, 2> padding) {
  const float sa = Scale(amax);
  const std::vector<float> sw = WeightScales(w, quantization);
  const auto xa = x.accessor<float, 4>();
  const auto wa = w.accessor<float, 4>();
  const int64_t out_h = (x.size(2) + 2 * padding[0] - w.size(2)) / stride[0] + 1;
  const int64_t out_w = (x.size(3) + 2 * padding[1] - w.size(3)) / stride[1] + 1;
  at::Tensor out = at::empty({x.size(0), w.size(0), out_h, out_w});
  auto oa = out.accessor<float, 4>();
  for (int64_t b = 0; b < x.size(0); ++b) {
    for (int64_t o = 0; o < w.size(0); ++o) {
      for (int64_t oy = 0; oy < out_h; ++oy) {
        for (int64_t ox = 0; ox < out_w; ++ox) {
          int64_t sum = 0;
          for (int64_t c = 0; c < x.size(1); ++c) {
            for (int64_t i = 0; i < w.size(2); ++i) {
              for (int64_t j = 0; j < w.size(3); ++j) {
                const int64_t y = oy * stride[0] - padding[0] + i;
                const int64_t z = ox * stride[1] - padding[1] + j;
                const bool inside = y >= 0 && y < x.size(2) && z >= 0 && z < x.size(3);
                const int qx = inside ? QuantizeValue(xa[b][c][y][z], sa) : 0;
                sum += Entry(m, qx, QuantizeValue(wa[o][c][i][j], sw[o]));
              }
            }
          }
          oa[b][o][oy][ox] = static_cast<float>(sum) * (sa * sw[o]) + bias[o].item<float>();
        }
      }
    }
  }
  return out;
}

// The naive approximate matmul of a [B, M, K] and b [B, K, N].
at::Tensor NaiveMatmul(const at::Tensor& a, const at::Tensor& b, const Multiplier& m, float a_amax,
                       float b_amax) {
  const float sa = Scale(a_amax), sb = Scale(b_amax);
  const auto aa = a.accessor<float, 3>();
  const auto ba = b.accessor<float, 3>();
  at::Tensor out = at::empty({a.size(0), a.size(1), b.size(2)});
  auto oa = out.accessor<float, 3>();
  for (int64_t t = 0; t < a.size(0); ++t) {
    for (int64_t i = 0; i < a.size(1); ++i) {
      for (int64_t j = 0; j < b.size(2); ++j) {
        int64_t sum = 0;
        for (int64_t k = 0; k < a.size(2); ++k) {
          sum += Entry(m, QuantizeValue(aa[t][i][k], sa), QuantizeValue(ba[t][k][j], sb));
        }
        oa[t][i][j] = static_cast<float>(sum) * (sa * sb);
      }
    }
  }
  return out;
}

void ExpectBitEqual(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(at::equal(actual, expected))
      << what << ": max difference " << (actual - expected).abs().max().item<float>();
}

// |actual - exact| <= bound + float slack, everywhere.
void ExpectWithinBound(const at::Tensor& actual, const at::Tensor& exact, const at::Tensor& bound,
                       const at::Tensor& magnitude) {
  const at::Tensor excess = (actual - exact).abs() - bound - 1e-5 * magnitude - 1e-6;
  EXPECT_LE(excess.max().item<float>(), 0.0f)
      << "largest error " << (actual - exact).abs().max().item<float>() << " vs bound "
      << bound.max().item<float>();
}

class ApproxOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(2);
    at::manual_seed(0);
  }
};

TEST_F(ApproxOpsTest, QuantizationMatchesTorchFakeQuantize) {
  // Distinct q give distinct q * scale, so equal dequantized values mean
  // equal quantized ones.
  for (float scale : {0.25f, 0.0173f}) {
    const at::Tensor x =
        at::cat({at::arange(-130, 131).to(at::kFloat).add(0.5).mul(scale),  // ties, clipping
                 at::randn({5000}) * 60 * scale});
    std::vector<int8_t> q(x.numel());
    ASSERT_TRUE(Quantize({x.data_ptr<float>(), static_cast<size_t>(x.numel())}, {{scale}}, q).ok());
    const at::Tensor ours = at::from_blob(q.data(), {x.numel()}, at::kChar).to(at::kFloat) * scale;
    EXPECT_TRUE(at::equal(ours, at::fake_quantize_per_tensor_affine(x, scale, 0, -127, 127)))
        << "scale " << scale;
  }
}

// Values probing every branch of Quantize with `scale`: exact .5 ties (for a
// power-of-two scale), steps beyond +-127, +-inf, NaN, signed zeros, the
// smallest subnormal, the largest floats, and random values.
at::Tensor QuantizationProbes(float scale) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float huge = std::numeric_limits<float>::max();
  return at::cat({at::arange(-130, 131).to(at::kFloat).add(0.5).mul(scale),
                  at::tensor({inf, -inf, nan, 0.0f, -0.0f, tiny, -tiny, huge, -huge}),
                  at::randn({3000}) * 60 * scale});
}

// Scales whose ties stay exact (1, 0.25), a general one and a tiny one.
const std::vector<float> kProbeScales = {1.0f, 0.25f, 0.0173f, 3e-6f};

// Rows c of the probes of kProbeScales[c], quantized per channel with them.
struct ChannelProbes {
  at::Tensor x;  // [channels, n]
  QuantParams params;
};
ChannelProbes PerChannelProbes() {
  std::vector<at::Tensor> rows;
  for (float scale : kProbeScales) rows.push_back(QuantizationProbes(scale));
  return {at::stack(rows), {kProbeScales}};
}

TEST_F(ApproxOpsTest, QuantizeInt8EqualsQuantizeBitForBit) {
  auto expect_equal = [](const at::Tensor& x, const QuantParams& params, const std::string& what) {
    const at::Tensor contiguous = x.contiguous();
    std::vector<int8_t> expected(contiguous.numel());
    ASSERT_TRUE(Quantize({contiguous.data_ptr<float>(), expected.size()}, params, expected).ok());
    const at::Tensor q = QuantizeInt8(x, params);
    ASSERT_EQ(q.scalar_type(), at::kChar) << what;
    ASSERT_EQ(q.sizes(), x.sizes()) << what;
    EXPECT_TRUE(
        at::equal(q.contiguous().flatten(), at::from_blob(expected.data(), {x.numel()}, at::kChar)))
        << what;
  };
  for (float scale : kProbeScales) {
    expect_equal(QuantizationProbes(scale), {{scale}},
                 "per tensor, scale " + std::to_string(scale));
  }
  const ChannelProbes probes = PerChannelProbes();
  expect_equal(probes.x, probes.params, "per channel");
  // A non-contiguous [channels, n, 1] view of the same values.
  expect_equal(probes.x.t().contiguous().t().unsqueeze(2), probes.params, "per channel, strided");
  // Large enough to be split across threads, in pieces that do not line up
  // with the channels: the split and each piece's scale (Quantize runs the
  // same QuantizeSlice; quantization_test checks it against QuantizeValue).
  const at::Tensor large = at::randn({3, 50001}) * 200;
  expect_equal(large, {{0.5f, 1.0f, 3e-3f}}, "per channel, 3 x 50001");
  expect_equal(large.flatten(), {{0.75f}}, "per tensor, 150003 values");
  expect_equal(at::empty({0, 4}), {{1.0f}}, "empty");
  EXPECT_THROW(QuantizeInt8(probes.x, {{1.0f, 2.0f}}), c10::Error);  // 2 scales, 4 channels
  EXPECT_THROW(QuantizeInt8(probes.x, {{0.0f}}), c10::Error);
  EXPECT_THROW(QuantizeInt8(probes.x.to(at::kDouble), {{1.0f}}), c10::Error);
}

TEST_F(ApproxOpsTest, LinearMatchesNaiveLoopForEveryMultiplier) {
  const at::Tensor x = at::randn({5, 37});
  const at::Tensor w = at::randn({6, 37}) * 0.1;
  const at::Tensor bias = at::randn({6});
  const float amax = 0.7f * AbsMax(x);  // clips some values
  for (const Multiplier& m : AllMultipliers()) {
    for (WeightQuantization q : {WeightQuantization::kPerTensor, WeightQuantization::kPerChannel}) {
      ExpectBitEqual(ApproxLinear(x, w, bias, m, amax, q), NaiveLinear(x, w, bias, m, amax, q),
                     m.id());
    }
  }
}

TEST_F(ApproxOpsTest, LinearKeepsLeadingDimensionsAndOptionalBias) {
  const Multiplier m = RandomMultiplier();
  const at::Tensor x = at::randn({2, 3, 8});
  const at::Tensor w = at::randn({4, 8});
  const at::Tensor out = ApproxLinear(x, w, std::nullopt, m, 3.0f, WeightQuantization::kPerChannel);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 4}));
  ExpectBitEqual(
      out.reshape({6, 4}),
      NaiveLinear(x.reshape({6, 8}), w, at::zeros({4}), m, 3.0f, WeightQuantization::kPerChannel),
      "3-D input");
  // A 1-D input is one row.
  ExpectBitEqual(ApproxLinear(x[0][0], w, std::nullopt, m, 3.0f, WeightQuantization::kPerChannel),
                 out[0][0], "1-D input");
}

TEST_F(ApproxOpsTest, EmptyInputsGiveEmptyOutputs) {
  const Multiplier m = Exact();
  const auto q = WeightQuantization::kPerChannel;
  EXPECT_EQ(ApproxLinear(at::randn({0, 4}), at::randn({3, 4}), at::randn({3}), m, 1, q).sizes(),
            (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(ApproxConv2d(at::randn({0, 3, 8, 8}), at::randn({2, 3, 3, 3}), std::nullopt, m, 1, q,
                         {1, 1}, {0, 0})
                .sizes(),
            (std::vector<int64_t>{0, 2, 6, 6}));
  EXPECT_EQ(ApproxMatmul(at::randn({2, 0, 3}), at::randn({3, 5}), m, 1, 1).sizes(),
            (std::vector<int64_t>{2, 0, 5}));
  // K = 0: empty sums are 0, plus the bias.
  const at::Tensor bias = at::randn({3});
  EXPECT_TRUE(at::equal(ApproxLinear(at::randn({2, 0}), at::randn({3, 0}), bias, m, 1, q),
                        bias.expand({2, 3})));
}

TEST_F(ApproxOpsTest, ExactLinearIsWithinTheQuantizationBoundOfTorchLinear) {
  const Multiplier exact = Exact();
  const at::Tensor x = at::randn({16, 64});
  const at::Tensor w = at::randn({32, 64}) * 0.05;
  const at::Tensor bias = at::randn({32});
  const float amax = AbsMax(x);  // no clipping
  for (WeightQuantization q : {WeightQuantization::kPerTensor, WeightQuantization::kPerChannel}) {
    const at::Tensor out = ApproxLinear(x, w, bias, exact, amax, q);
    // |x w - x^ w^| <= |x| |w - w^| + |w^| |x - x^| <= |x| sw/2 + |w^| sa/2.
    const std::vector<float> sw = WeightScales(w, q);
    const at::Tensor w_hat =
        FakeQuantize(w, q == WeightQuantization::kPerChannel ? sw : std::vector<float>{sw[0]});
    const at::Tensor half_sw = at::tensor(sw).div(2).unsqueeze(1).expand_as(w);
    const at::Tensor bound =
        at::linear(x.abs(), half_sw) + at::linear(at::full_like(x, Scale(amax) / 2), w_hat.abs());
    ExpectWithinBound(out, at::linear(x, w, bias), bound, at::linear(x.abs(), w.abs()));
    // Exact products of the quantized operands: the float linear of the
    // dequantized operands, up to float rounding.
    const at::Tensor x_hat = FakeQuantize(x, {Scale(amax)});
    EXPECT_TRUE(at::allclose(out, at::linear(x_hat, w_hat, bias), 1e-5, 1e-5));
  }
}

TEST_F(ApproxOpsTest, Conv2dMatchesNaiveLoopForEveryMultiplier) {
  const at::Tensor x = at::randn({2, 3, 9, 7});
  const at::Tensor w = at::randn({4, 3, 3, 2}) * 0.2;
  const at::Tensor bias = at::randn({4});
  const float amax = 0.8f * AbsMax(x);
  const std::array<int64_t, 2> stride = {2, 1}, padding = {1, 2};
  for (const Multiplier& m : AllMultipliers()) {
    for (WeightQuantization q : {WeightQuantization::kPerTensor, WeightQuantization::kPerChannel}) {
      ExpectBitEqual(ApproxConv2d(x, w, bias, m, amax, q, stride, padding),
                     NaiveConv2d(x, w, bias, m, amax, q, stride, padding), m.id());
    }
  }
}

TEST_F(ApproxOpsTest, Conv2dIsTheApproximateGemmOnIm2colPatches) {
  // The ViT patch embedding: 16x16 patches, stride 16, no padding.
  const at::Tensor x = at::randn({2, 3, 32, 48});
  const at::Tensor w = at::randn({8, 3, 16, 16}) * 0.05;
  const at::Tensor bias = at::randn({8});
  const float amax = AbsMax(x);
  const float sa = Scale(amax);
  for (const Multiplier& m : {Exact(), RandomMultiplier()}) {
    const std::vector<float> sw = WeightScales(w, WeightQuantization::kPerChannel);
    // Patches as rows (c, i, j order), quantized; the weight as [c*i*j, out].
    at::Tensor patches = at::empty({2 * 2 * 3, 3 * 16 * 16}, at::kChar);
    at::Tensor weights = at::empty({3 * 16 * 16, 8}, at::kChar);
    const auto xa = x.accessor<float, 4>();
    const auto wa = w.accessor<float, 4>();
    auto pa = patches.accessor<int8_t, 2>();
    auto qa = weights.accessor<int8_t, 2>();
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t py = 0; py < 2; ++py) {
        for (int64_t px = 0; px < 3; ++px) {
          for (int64_t c = 0; c < 3; ++c) {
            for (int64_t i = 0; i < 16; ++i) {
              for (int64_t j = 0; j < 16; ++j) {
                pa[(b * 2 + py) * 3 + px][(c * 16 + i) * 16 + j] =
                    QuantizeValue(xa[b][c][py * 16 + i][px * 16 + j], sa);
              }
            }
          }
        }
      }
    }
    for (int64_t o = 0; o < 8; ++o) {
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t i = 0; i < 16; ++i) {
          for (int64_t j = 0; j < 16; ++j) {
            qa[(c * 16 + i) * 16 + j][o] = QuantizeValue(wa[o][c][i][j], sw[o]);
          }
        }
      }
    }
    const at::Tensor sums = ApproxGemmInt8(m, patches, weights);
    at::Tensor expected = at::empty({2, 8, 2, 3});
    for (int64_t b = 0; b < 2; ++b) {
      for (int64_t o = 0; o < 8; ++o) {
        for (int64_t p = 0; p < 6; ++p) {
          expected[b][o][p / 3][p % 3] =
              static_cast<float>(sums[b * 6 + p][o].item<int32_t>()) * (sa * sw[o]) +
              bias[o].item<float>();
        }
      }
    }
    ExpectBitEqual(
        ApproxConv2d(x, w, bias, m, amax, WeightQuantization::kPerChannel, {16, 16}, {0, 0}),
        expected, m.id());
  }
}

TEST_F(ApproxOpsTest, ExactConv2dIsWithinTheQuantizationBoundOfTorchConv2d) {
  const at::Tensor x = at::randn({2, 3, 11, 10});
  const at::Tensor w = at::randn({5, 3, 3, 3}) * 0.2;
  const at::Tensor bias = at::randn({5});
  const float amax = AbsMax(x);
  const std::vector<int64_t> stride = {2, 1}, padding = {1, 1};
  const std::vector<float> sw = WeightScales(w, WeightQuantization::kPerChannel);
  const at::Tensor out =
      ApproxConv2d(x, w, bias, Exact(), amax, WeightQuantization::kPerChannel, {2, 1}, {1, 1});
  const at::Tensor w_hat = FakeQuantize(w, sw);
  const at::Tensor half_sw = at::tensor(sw).div(2).view({5, 1, 1, 1}).expand_as(w);
  // Padding is exact (zeros), which conv2d's own zero padding mirrors.
  const at::Tensor bound =
      at::conv2d(x.abs(), half_sw, {}, stride, padding) +
      at::conv2d(at::full_like(x, Scale(amax) / 2), w_hat.abs(), {}, stride, padding);
  ExpectWithinBound(out, at::conv2d(x, w, bias, stride, padding), bound,
                    at::conv2d(x.abs(), w.abs(), {}, stride, padding));
}

TEST_F(ApproxOpsTest, MatmulMatchesNaiveLoopForEveryMultiplier) {
  // Broadcast batches: [2, 1, M, K] x [3, K, N] -> [2, 3, M, N].
  const at::Tensor a = at::randn({2, 1, 4, 9});
  const at::Tensor b = at::randn({3, 9, 5});
  const float a_amax = 0.9f * AbsMax(a), b_amax = AbsMax(b);
  for (const Multiplier& m : AllMultipliers()) {
    const at::Tensor out = ApproxMatmul(a, b, m, a_amax, b_amax);
    ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 3, 4, 5}));
    const at::Tensor expected =
        NaiveMatmul(a.expand({2, 3, 4, 9}).reshape({6, 4, 9}),
                    b.expand({2, 3, 9, 5}).reshape({6, 9, 5}), m, a_amax, b_amax);
    ExpectBitEqual(out.reshape({6, 4, 5}), expected, m.id());
  }
}

TEST_F(ApproxOpsTest, ExactMatmulIsWithinTheQuantizationBoundOfTorchMatmul) {
  // Attention shapes: [batch, heads, tokens, head_dim] x its transpose.
  const at::Tensor q = at::randn({2, 3, 10, 16});
  const at::Tensor k = at::randn({2, 3, 10, 16}).transpose(-2, -1);  // non-contiguous
  const float qa = AbsMax(q), ka = AbsMax(k);
  const at::Tensor out = ApproxMatmul(q, k, Exact(), qa, ka);
  const at::Tensor k_hat = FakeQuantize(k, {Scale(ka)});
  const at::Tensor bound = at::matmul(q.abs(), at::full_like(k, Scale(ka) / 2)) +
                           at::matmul(at::full_like(q, Scale(qa) / 2), k_hat.abs());
  ExpectWithinBound(out, at::matmul(q, k), bound, at::matmul(q.abs(), k.abs()));
}

// Gradients of loss = sum(out * g) from an approximate op and from the float
// op, compared tensor by tensor.
void ExpectEqualGradients(const std::vector<at::Tensor>& approx_leaves,
                          const std::vector<at::Tensor>& exact_leaves) {
  for (size_t i = 0; i < approx_leaves.size(); ++i) {
    ASSERT_TRUE(approx_leaves[i].grad().defined()) << "leaf " << i;
    EXPECT_TRUE(at::allclose(approx_leaves[i].grad(), exact_leaves[i].grad(), 1e-5, 1e-6))
        << "leaf " << i << ": max difference "
        << (approx_leaves[i].grad() - exact_leaves[i].grad()).abs().max().item<float>();
  }
}

std::vector<at::Tensor> Leaves(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> leaves;
  for (const at::Tensor& t : tensors) leaves.push_back(t.detach().clone().requires_grad_(true));
  return leaves;
}

std::vector<at::Tensor> On(const std::vector<at::Tensor>& tensors, at::Device device) {
  std::vector<at::Tensor> moved;
  for (const at::Tensor& t : tensors) moved.push_back(t.to(device));
  return moved;
}

// The gradient checks below run on the CPU and on a GPU (ApproxOpsGpuTest).
void ExpectLinearGradientsOfTorchLinear(at::Device device, const std::vector<Multiplier>& ms) {
  const std::vector<at::Tensor> values =
      On({at::randn({2, 5, 12}), at::randn({7, 12}), at::randn({7})}, device);
  const at::Tensor g = at::randn({2, 5, 7}).to(device);
  for (const Multiplier& m : ms) {
    std::vector<at::Tensor> approx = Leaves(values), exact = Leaves(values);
    (ApproxLinear(approx[0], approx[1], approx[2], m, 2.0f, WeightQuantization::kPerChannel) * g)
        .sum()
        .backward();
    (at::linear(exact[0], exact[1], exact[2]) * g).sum().backward();
    ExpectEqualGradients(approx, exact);
  }
  // Without a bias, and with only the weight requiring a gradient.
  const at::Tensor input = values[0];
  std::vector<at::Tensor> approx = Leaves({values[1]}), exact = Leaves({values[1]});
  (ApproxLinear(input, approx[0], std::nullopt, Exact(), 2.0f, WeightQuantization::kPerTensor) * g)
      .sum()
      .backward();
  (at::linear(input, exact[0]) * g).sum().backward();
  ExpectEqualGradients(approx, exact);
}

void ExpectConv2dGradientsOfTorchConv2d(at::Device device, const std::vector<Multiplier>& ms) {
  const std::vector<at::Tensor> values =
      On({at::randn({2, 3, 9, 8}), at::randn({4, 3, 3, 3}), at::randn({4})}, device);
  for (const Multiplier& m : ms) {
    std::vector<at::Tensor> approx = Leaves(values), exact = Leaves(values);
    const at::Tensor out = ApproxConv2d(approx[0], approx[1], approx[2], m, 2.5f,
                                        WeightQuantization::kPerChannel, {2, 1}, {1, 0});
    const at::Tensor g = at::randn(out.sizes()).to(device);
    (out * g).sum().backward();
    (at::conv2d(exact[0], exact[1], exact[2], {2, 1}, {1, 0}) * g).sum().backward();
    ExpectEqualGradients(approx, exact);
  }
}

// With broadcast batch dimensions.
void ExpectMatmulGradientsOfTorchMatmul(at::Device device, const std::vector<Multiplier>& ms) {
  const std::vector<at::Tensor> values =
      On({at::randn({2, 1, 4, 6}), at::randn({3, 6, 5})}, device);
  const at::Tensor g = at::randn({2, 3, 4, 5}).to(device);
  for (const Multiplier& m : ms) {
    std::vector<at::Tensor> approx = Leaves(values), exact = Leaves(values);
    (ApproxMatmul(approx[0], approx[1], m, 2.0f, 2.0f) * g).sum().backward();
    (at::matmul(exact[0], exact[1]) * g).sum().backward();
    ExpectEqualGradients(approx, exact);
  }
}

TEST_F(ApproxOpsTest, LinearGradientsAreThoseOfTorchLinear) {
  ExpectLinearGradientsOfTorchLinear(at::kCPU, {Exact(), RandomMultiplier()});
}

TEST_F(ApproxOpsTest, Conv2dGradientsAreThoseOfTorchConv2d) {
  ExpectConv2dGradientsOfTorchConv2d(at::kCPU, {Exact(), RandomMultiplier()});
}

TEST_F(ApproxOpsTest, MatmulGradientsAreThoseOfTorchMatmulWithBroadcasting) {
  ExpectMatmulGradientsOfTorchMatmul(at::kCPU, {Exact(), RandomMultiplier()});
}

TEST_F(ApproxOpsTest, BadArgumentsThrowC10Errors) {
  const Multiplier m = Exact();
  const at::Tensor x = at::randn({2, 4});
  const at::Tensor w = at::randn({3, 4});
  const auto per_channel = WeightQuantization::kPerChannel;
  // Linear.
  EXPECT_THROW(ApproxLinear(at::randn({2, 5}), w, std::nullopt, m, 1, per_channel), c10::Error);
  EXPECT_THROW(ApproxLinear(x, at::randn({3, 4, 1}), std::nullopt, m, 1, per_channel), c10::Error);
  EXPECT_THROW(ApproxLinear(x, w, at::randn({4}), m, 1, per_channel), c10::Error);
  EXPECT_THROW(ApproxLinear(x.to(at::kDouble), w, std::nullopt, m, 1, per_channel), c10::Error);
  EXPECT_THROW(ApproxLinear(x, w, std::nullopt, m, -1, per_channel), c10::Error);
  EXPECT_THROW(
      ApproxLinear(x, w, std::nullopt, m, std::numeric_limits<float>::quiet_NaN(), per_channel),
      c10::Error);
  for (float bad :
       {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    at::Tensor weight = w.clone();
    weight[1][2] = bad;
    for (WeightQuantization q : {WeightQuantization::kPerTensor, per_channel}) {
      EXPECT_THROW(ApproxLinear(x, weight, std::nullopt, m, 1, q), c10::Error);
    }
  }
  EXPECT_THROW(ApproxLinear(at::Tensor(), w, std::nullopt, m, 1, per_channel), c10::Error);
  // Conv2d.
  const at::Tensor image = at::randn({1, 3, 8, 8});
  const at::Tensor kernel = at::randn({2, 3, 3, 3});
  EXPECT_THROW(ApproxConv2d(at::randn({1, 2, 8, 8}), kernel, std::nullopt, m, 1, per_channel,
                            {1, 1}, {0, 0}),
               c10::Error);
  EXPECT_THROW(
      ApproxConv2d(at::randn({3, 8, 8}), kernel, std::nullopt, m, 1, per_channel, {1, 1}, {0, 0}),
      c10::Error);
  EXPECT_THROW(
      ApproxConv2d(image, at::randn({2, 3, 9, 3}), std::nullopt, m, 1, per_channel, {1, 1}, {0, 0}),
      c10::Error);
  EXPECT_THROW(ApproxConv2d(image, kernel, std::nullopt, m, 1, per_channel, {0, 1}, {0, 0}),
               c10::Error);
  EXPECT_THROW(ApproxConv2d(image, kernel, std::nullopt, m, 1, per_channel, {1, 1}, {-1, 0}),
               c10::Error);
  EXPECT_THROW(ApproxConv2d(image, kernel, at::randn({3}), m, 1, per_channel, {1, 1}, {0, 0}),
               c10::Error);
  // Matmul.
  EXPECT_THROW(ApproxMatmul(at::randn({2, 3}), at::randn({4, 5}), m, 1, 1), c10::Error);
  EXPECT_THROW(ApproxMatmul(at::randn({3}), at::randn({3, 5}), m, 1, 1), c10::Error);
  EXPECT_THROW(ApproxMatmul(at::randn({2, 2, 3}), at::randn({3, 3, 5}), m, 1, 1), c10::Error);
  EXPECT_THROW(ApproxMatmul(at::randn({2, 3}), at::randn({3, 5}), m, 1,
                            std::numeric_limits<float>::infinity()),
               c10::Error);
  // The int8 GEMM.
  EXPECT_THROW(ApproxGemmInt8(m, at::zeros({2, 3}, at::kChar), at::zeros({4, 2}, at::kChar)),
               c10::Error);
  EXPECT_THROW(ApproxGemmInt8(m, at::zeros({2, 3}), at::zeros({3, 2}, at::kChar)), c10::Error);
  // An accumulation depth that could overflow: entries of 2^30 admit K <= 1.
  Table big;
  big.fill(1 << 30);
  const Multiplier huge = *Multiplier::Create("huge", Signedness::kSigned, big);
  EXPECT_THROW(ApproxLinear(x, w, std::nullopt, huge, 1, per_channel), c10::Error);
  // The process goes on and the ops still work.
  EXPECT_EQ(ApproxLinear(x, w, std::nullopt, m, 1, per_channel).sizes(),
            (std::vector<int64_t>{2, 3}));
}

TEST_F(ApproxOpsTest, TorchAndOurOpenMpAreOneRuntime) {
  // The wheel ships torch/lib/libgomp.so.1 and we link Debian's GCC 12
  // libgomp.so.1: with one soname only one is loaded, so at::set_num_threads
  // reaches our parallel regions.
  at::set_num_threads(3);
  EXPECT_EQ(omp_get_max_threads(), 3);
  at::set_num_threads(1);
  EXPECT_EQ(omp_get_max_threads(), 1);
  at::set_num_threads(2);
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libgomp;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("libgomp") != std::string::npos) libgomp.insert(line.substr(line.find('/')));
  }
  EXPECT_EQ(libgomp.size(), 1u) << "libgomp mapped from several files";
  for (const std::string& path : libgomp) std::cout << "libgomp in use: " << path << "\n";
}

TEST_F(ApproxOpsTest, OurGemmRunsInsideTorchParallelRegions) {
  // Torch's intra-op threads call our OpenMP GEMM (a nested region) and
  // torch's own parallel kernels run beside it; results stay exact.
  const Multiplier m = RandomMultiplier();
  const at::Tensor a = at::randint(-127, 128, {64, 32}, at::kChar);
  const at::Tensor w = at::randint(-127, 128, {32, 16}, at::kChar);
  const at::Tensor expected = ApproxGemmInt8(m, a, w);
  std::vector<at::Tensor> results(8);
  at::parallel_for(0, 8, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      results[i] = ApproxGemmInt8(m, a, w);
      (void)at::mm(at::randn({64, 64}), at::randn({64, 64}));
    }
  });
  for (const at::Tensor& r : results) EXPECT_TRUE(at::equal(r, expected));
}

// The ops on CUDA tensors equal the same ops on the CPU. These tests skip
// without a CUDA device.
class ApproxOpsGpuTest : public ApproxOpsTest {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    ApproxOpsTest::SetUp();
  }
};

// Multipliers of every GPU kernel: one int8 GEMM (exact, masking), several
// (low rank), the table kernels (GJM, which has no structure, and a random
// table).
std::vector<Multiplier> GpuMultipliers() {
  return {Exact(), *MakeBuiltin("mask:a=3,b=1"), Evo("mul8s_1KV8"), Evo("mul8u_GJM"),
          RandomMultiplier()};
}

// op(tensors on the GPU), back on the CPU, is op(tensors on the CPU).
template <typename Op>
void ExpectSameOnGpu(const std::vector<at::Tensor>& cpu, Op op, const std::string& what) {
  const at::Tensor expected = op(cpu);
  const at::Tensor actual = op(On(cpu, at::kCUDA));
  ASSERT_TRUE(actual.is_cuda()) << what;
  ASSERT_EQ(actual.scalar_type(), expected.scalar_type()) << what;
  ExpectBitEqual(actual.cpu(), expected, what);
}

TEST_F(ApproxOpsGpuTest, QuantizationEqualsTheCpu) {
  for (float scale : kProbeScales) {
    ExpectSameOnGpu(
        {QuantizationProbes(scale)},
        [scale](const std::vector<at::Tensor>& t) { return QuantizeInt8(t[0], {{scale}}); },
        "per tensor, scale " + std::to_string(scale));
  }
  const ChannelProbes probes = PerChannelProbes();
  ExpectSameOnGpu(
      {probes.x},
      [&probes](const std::vector<at::Tensor>& t) { return QuantizeInt8(t[0], probes.params); },
      "per channel");
}

TEST_F(ApproxOpsGpuTest, GemmInt8EqualsTheCpuOnEveryDevice) {
  struct Shape {
    int64_t m, k, n;
  };
  // Ragged shapes, a depth over 256, and empty ones.
  const std::vector<Shape> shapes = {{3, 37, 9}, {65, 300, 17}, {0, 5, 3}, {4, 0, 3}, {4, 5, 0}};
  for (const Multiplier& m : GpuMultipliers()) {
    for (const Shape& s : shapes) {
      // -128 included; w transposed, so not contiguous.
      const at::Tensor a = at::randint(-128, 128, {s.m, s.k}, at::kChar);
      const at::Tensor w = at::randint(-128, 128, {s.n, s.k}, at::kChar).t();
      const std::string what = m.id() + " " + std::to_string(s.m) + "x" + std::to_string(s.k) +
                               "x" + std::to_string(s.n);
      const at::Tensor expected = ApproxGemmInt8(m, a, w);
      for (int device = 0; device < static_cast<int>(torch::cuda::device_count()); ++device) {
        const at::Device cuda(at::kCUDA, static_cast<c10::DeviceIndex>(device));
        const at::Tensor c = ApproxGemmInt8(m, a.to(cuda), w.to(cuda));
        ASSERT_EQ(c.device(), cuda) << what;
        ExpectBitEqual(c.cpu(), expected, what + " on " + cuda.str());
      }
    }
  }
}

TEST_F(ApproxOpsGpuTest, LayerOpsEqualTheCpuBitForBit) {
  const at::Tensor x = at::randn({2, 5, 37});
  const at::Tensor w = at::randn({6, 37}) * 0.1;
  const at::Tensor bias = at::randn({6});
  const at::Tensor image = at::randn({2, 3, 9, 7});
  const at::Tensor kernel = at::randn({4, 3, 3, 2}) * 0.2;
  const at::Tensor kernel_bias = at::randn({4});
  // Broadcast batches, and a non-contiguous right factor.
  const at::Tensor a = at::randn({2, 1, 4, 9});
  const at::Tensor b = at::randn({3, 5, 9}).transpose(-2, -1);
  for (const Multiplier& m : GpuMultipliers()) {
    for (WeightQuantization q : {WeightQuantization::kPerTensor, WeightQuantization::kPerChannel}) {
      ExpectSameOnGpu(
          {x, w, bias},
          [&](const std::vector<at::Tensor>& t) {
            return ApproxLinear(t[0], t[1], t[2], m, 0.7f * AbsMax(x), q);
          },
          m.id() + " linear");
      ExpectSameOnGpu(
          {image, kernel, kernel_bias},
          [&](const std::vector<at::Tensor>& t) {
            return ApproxConv2d(t[0], t[1], t[2], m, 0.8f * AbsMax(image), q, {2, 1}, {1, 2});
          },
          m.id() + " conv2d");
    }
    ExpectSameOnGpu(
        {a, b},
        [&](const std::vector<at::Tensor>& t) {
          return ApproxMatmul(t[0], t[1], m, 0.9f * AbsMax(a), AbsMax(b));
        },
        m.id() + " matmul");
  }
}

// Gradients are torch's float ops on the GPU; they are compared with the
// float op there, as float sums differ between devices by rounding.
TEST_F(ApproxOpsGpuTest, GradientsAreThoseOfTheTorchOps) {
  const std::vector<Multiplier> ms = GpuMultipliers();
  ExpectLinearGradientsOfTorchLinear(at::kCUDA, ms);
  ExpectConv2dGradientsOfTorchConv2d(at::kCUDA, ms);
  ExpectMatmulGradientsOfTorchMatmul(at::kCUDA, ms);
}

TEST_F(ApproxOpsGpuTest, MixedDevicesAreRejected) {
  const Multiplier m = Exact();
  const auto q = WeightQuantization::kPerChannel;
  const at::Tensor x = at::randn({2, 4}), w = at::randn({3, 4}), bias = at::randn({3});
  const at::Tensor gx = x.cuda(), gw = w.cuda(), gbias = bias.cuda();
  auto expect_names_both = [](const std::function<void()>& op) {
    try {
      op();
      ADD_FAILURE() << "no error";
    } catch (const c10::Error& e) {
      EXPECT_THAT(e.what_without_backtrace(), ::testing::HasSubstr("cpu"));
      EXPECT_THAT(e.what_without_backtrace(), ::testing::HasSubstr("cuda:0"));
    }
  };
  expect_names_both([&] { ApproxLinear(gx, w, std::nullopt, m, 1, q); });
  expect_names_both([&] { ApproxLinear(x, gw, gbias, m, 1, q); });
  expect_names_both([&] { ApproxLinear(gx, gw, bias, m, 1, q); });
  const at::Tensor image = at::randn({1, 4, 5, 5}), kernel = at::randn({3, 4, 3, 3});
  expect_names_both([&] {
    ApproxConv2d(image.cuda(), kernel, std::nullopt, m, 1, q, {1, 1}, {0, 0});
  });
  expect_names_both([&] {
    ApproxConv2d(image.cuda(), kernel.cuda(), bias, m, 1, q, {1, 1}, {0, 0});
  });
  expect_names_both([&] { ApproxMatmul(gx, w.t(), m, 1, 1); });
  expect_names_both([&] {
    ApproxGemmInt8(m, at::zeros({2, 4}, at::kChar).cuda(), at::zeros({4, 3}, at::kChar));
  });
}

}  // namespace
}  // namespace transaxx::approx
