#include "libs/approx/torch/weight_operand_cache.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "libs/approx/builtin.h"
#include "libs/approx/torch/approx_ops.h"

namespace transaxx::approx {
namespace {

// A stand-in operand whose builds are counted.
struct CountingMake {
  int calls = 0;
  at::Tensor weight;
  std::function<WeightOperand()> operator()() {
    return [this] {
      ++calls;
      return WeightOperand{weight.to(at::kChar), QuantParams{{1.0f}}};
    };
  }
};

at::Tensor RandomWeight(int64_t out, int64_t in, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({out, in});
}

TEST(WeightOperandCacheTest, AnUnchangedWeightIsBuiltOnce) {
  CountingMake make{0, RandomWeight(4, 3, 1)};
  const auto first = CachedWeightOperand(make.weight, 0, make());
  const auto second = CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 1);
  EXPECT_EQ(first.get(), second.get());
}

// Values of other derivations of the same tensor are entries of their own,
// each built once.
TEST(WeightOperandCacheTest, DerivedValuesAreKeptPerKind) {
  const at::Tensor weight = RandomWeight(4, 3, 7);
  int builds = 0;
  auto make = [&](int value) {
    return [&builds, value] {
      ++builds;
      return std::shared_ptr<const void>(std::make_shared<const int>(value));
    };
  };
  const auto a = CachedDerivedValue(weight, "kind a", make(1));
  const auto b = CachedDerivedValue(weight, "kind b", make(2));
  EXPECT_EQ(*std::static_pointer_cast<const int>(a), 1);
  EXPECT_EQ(*std::static_pointer_cast<const int>(b), 2);
  EXPECT_EQ(CachedDerivedValue(weight, "kind a", make(3)).get(), a.get());
  EXPECT_EQ(CachedDerivedValue(weight, "kind b", make(4)).get(), b.get());
  EXPECT_EQ(builds, 2);
}

TEST(WeightOperandCacheTest, InPlaceWritesRebuildIt) {
  CountingMake make{0, RandomWeight(4, 3, 2)};
  CachedWeightOperand(make.weight, 0, make());
  make.weight.add_(1.0);  // as an optimizer step
  CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 2);
  {
    const torch::NoGradGuard no_grad;
    make.weight.copy_(RandomWeight(4, 3, 3));  // as loading a checkpoint
  }
  const auto rebuilt = CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 3);
  EXPECT_TRUE(rebuilt->w.equal(make.weight.to(at::kChar)));
  make.weight.resize_({3, 4});  // same values, other shape
  CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 4);
}

TEST(WeightOperandCacheTest, WritesThatBypassTheVersionCounterRebuildIt) {
  CountingMake make{0, RandomWeight(4, 3, 9)};
  CachedWeightOperand(make.weight, 0, make());
  const int64_t version = make.weight._version();
  make.weight.variable_data().add_(1.0);  // as LibTorch's SGD writes a parameter
  ASSERT_EQ(make.weight._version(), version);
  const auto rebuilt = CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 2);
  EXPECT_TRUE(rebuilt->w.equal(make.weight.to(at::kChar)));
}

// Bits are compared: a write that changes only a sign of zero rebuilds,
// the last byte of a large weight (compared in pieces on several threads)
// changed rebuilds, as does a write into a transposed weight (compared in
// its own layout), and a weight holding NaN is still found unchanged.
TEST(WeightOperandCacheTest, ItComparesTheWeightsBits) {
  CountingMake zeros{0, at::zeros({4, 3})};
  CachedWeightOperand(zeros.weight, 0, zeros());
  zeros.weight.variable_data()[3][2] = -0.0;
  CachedWeightOperand(zeros.weight, 0, zeros());
  EXPECT_EQ(zeros.calls, 2);

  CountingMake large{0, RandomWeight(1024, 1000, 4)};  // about 4 MB
  CachedWeightOperand(large.weight, 0, large());
  CachedWeightOperand(large.weight, 0, large());
  EXPECT_EQ(large.calls, 1);
  auto* bytes = static_cast<uint8_t*>(large.weight.data_ptr());
  bytes[large.weight.nbytes() - 1] ^= 0x80;  // the last float's sign, behind torch's back
  CachedWeightOperand(large.weight, 0, large());
  EXPECT_EQ(large.calls, 2);

  CountingMake transposed{0, RandomWeight(300, 500, 5).t()};
  ASSERT_FALSE(transposed.weight.is_contiguous());
  CachedWeightOperand(transposed.weight, 0, transposed());
  CachedWeightOperand(transposed.weight, 0, transposed());
  EXPECT_EQ(transposed.calls, 1);
  static_cast<float*>(transposed.weight.data_ptr())[299 * 500 + 7] = 100.0f;  // behind torch's back
  CachedWeightOperand(transposed.weight, 0, transposed());
  EXPECT_EQ(transposed.calls, 2);

  const at::Tensor nan = at::full({8}, std::numeric_limits<float>::quiet_NaN());
  int builds = 0;
  auto make = [&builds] {
    ++builds;
    return std::shared_ptr<const void>(std::make_shared<const int>(1));
  };
  const auto first = CachedDerivedValue(nan, "nan kind", make);
  EXPECT_EQ(CachedDerivedValue(nan, "nan kind", make).get(), first.get());
  EXPECT_EQ(builds, 1);
}

TEST(WeightOperandCacheTest, NothingIsCachedInInferenceMode) {
  CountingMake make{0, RandomWeight(4, 3, 10)};
  {
    const c10::InferenceMode inference;
    CachedWeightOperand(make.weight, 0, make());
  }
  const auto built = CachedWeightOperand(make.weight, 0, make());
  EXPECT_EQ(make.calls, 2);
  EXPECT_FALSE(built->w.is_inference());
}

TEST(WeightOperandCacheTest, EachQuantizationAndEachTensorHasItsOwnEntry) {
  CountingMake make{0, RandomWeight(4, 3, 4)};
  CachedWeightOperand(make.weight, 0, make());
  CachedWeightOperand(make.weight, 1, make());
  // A view shares the storage and version but is another tensor.
  CachedWeightOperand(make.weight.view({3, 4}), 0, make());
  EXPECT_EQ(make.calls, 3);
  CachedWeightOperand(make.weight, 1, make());
  EXPECT_EQ(make.calls, 3);
}

TEST(WeightOperandCacheTest, AFailedBuildCachesNothing) {
  const at::Tensor weight = RandomWeight(4, 3, 5);
  EXPECT_THROW(CachedWeightOperand(
                   weight, 0, []() -> WeightOperand { throw std::runtime_error("bad weight"); }),
               std::runtime_error);
  CountingMake make{0, weight};
  CachedWeightOperand(weight, 0, make());
  EXPECT_EQ(make.calls, 1);
}

TEST(WeightOperandCacheTest, InferenceTensorsAreNeverCached) {
  at::Tensor weight;
  {
    const c10::InferenceMode inference;
    weight = RandomWeight(4, 3, 6);
  }
  ASSERT_TRUE(weight.is_inference());
  CountingMake make{0, weight};
  CachedWeightOperand(weight, 0, make());
  CachedWeightOperand(weight, 0, make());
  EXPECT_EQ(make.calls, 2);
}

TEST(WeightOperandCacheTest, FreedWeightsAreDroppedAndTheCapacityHolds) {
  std::vector<at::Tensor> weights;
  for (size_t i = 0; i < kWeightOperandCacheCapacity + 10; ++i) {
    weights.push_back(at::full({2, 2}, static_cast<float>(i)));
    CountingMake make{0, weights.back()};
    CachedWeightOperand(weights.back(), 0, make());
  }
  EXPECT_EQ(WeightOperandCacheSize(), kWeightOperandCacheCapacity);
  // The oldest were dropped: building them again is a miss.
  CountingMake oldest{0, weights.front()};
  CachedWeightOperand(weights.front(), 0, oldest());
  EXPECT_EQ(oldest.calls, 1);

  oldest.weight.reset();
  weights.clear();  // every entry now refers to a freed weight...
  CountingMake fresh{0, RandomWeight(4, 3, 7)};
  CachedWeightOperand(fresh.weight, 0, fresh());
  EXPECT_EQ(WeightOperandCacheSize(), 1u);  // ...and is dropped by the next lookup
}

// End to end: a layer whose weight changes in place gives what a fresh copy
// of the new weight gives, bit for bit.
TEST(WeightOperandCacheTest, ApproxLinearFollowsInPlaceWeightUpdates) {
  const Multiplier exact =
      *Multiplier::Create("exact", Signedness::kSigned, ExactTable(Signedness::kSigned));
  at::manual_seed(8);
  const at::Tensor input = at::randn({5, 16});
  at::Tensor weight = at::randn({7, 16});
  for (WeightQuantization q : {WeightQuantization::kPerTensor, WeightQuantization::kPerChannel}) {
    const at::Tensor before = ApproxLinear(input, weight, std::nullopt, exact, 3.0f, q);
    EXPECT_TRUE(ApproxLinear(input, weight, std::nullopt, exact, 3.0f, q).equal(before));
    weight.mul_(-0.5).add_(0.25);
    const at::Tensor after = ApproxLinear(input, weight, std::nullopt, exact, 3.0f, q);
    EXPECT_TRUE(after.equal(ApproxLinear(input, weight.clone(), std::nullopt, exact, 3.0f, q)));
    EXPECT_FALSE(after.equal(before));
  }
}

// Fine-tuning with LibTorch's SGD, which writes parameters through
// Tensor::data(): every step's forward uses the weight as it is then.
TEST(WeightOperandCacheTest, ApproxLinearFollowsSgdSteps) {
  const Multiplier exact =
      *Multiplier::Create("exact", Signedness::kSigned, ExactTable(Signedness::kSigned));
  at::manual_seed(11);
  const at::Tensor input = at::randn({6, 8});
  torch::Tensor weight = torch::randn({4, 8}, torch::requires_grad());
  torch::optim::SGD sgd({weight}, torch::optim::SGDOptions(0.5));
  for (int step = 0; step < 3; ++step) {
    const at::Tensor out =
        ApproxLinear(input, weight, std::nullopt, exact, 3.0f, WeightQuantization::kPerChannel);
    {
      const torch::NoGradGuard no_grad;
      EXPECT_TRUE(out.equal(ApproxLinear(input, weight.detach().clone(), std::nullopt, exact,
                                         3.0f, WeightQuantization::kPerChannel)))
          << "step " << step;
    }
    sgd.zero_grad();
    out.square().sum().backward();
    sgd.step();
  }
}

}  // namespace
}  // namespace transaxx::approx
