// The structured GEMM against the table-lookup reference, bit for bit, for
// every shared EvoApprox table and default built-in family that has an
// exact structure, on random and on extreme operands. The u8·s8 engine runs
// under FBGEMM's own instruction set and, where that has VNNI, again forced
// to AVX2, so that both of its layouts (u8s8_terms.h) run on real kernels.
#include "libs/approx/torch/structured_gemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fbgemm/Utils.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "libs/approx/builtin.h"
#include "libs/approx/catalog.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/structure_cache.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/approx/torch/u8s8_gemm.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

// Every shared table and built-in with a structure, MultiDigitMultiplier and
// FoldingMultiplier.
std::vector<Multiplier> StructuredMultipliers() {
  Catalog catalog = Catalog::WithBuiltins();
  const absl::Status imported = catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR);
  EXPECT_TRUE(imported.ok()) << imported;
  std::vector<Multiplier> out = {MultiDigitMultiplier(), FoldingMultiplier()};
  for (const CatalogEntry& e : catalog.entries()) {
    absl::StatusOr<std::shared_ptr<const Structure>> s = CachedStructure(e.multiplier);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok() && (*s)->path != KernelPath::kTable) out.push_back(e.multiplier);
  }
  return out;
}

// Uniform int8 values, -128 included.
at::Tensor RandomInt8(std::mt19937& rng, int64_t rows, int64_t cols) {
  std::uniform_int_distribution<int> value(-128, 127);
  at::Tensor t = at::empty({rows, cols}, at::kChar);
  for (int64_t i = 0; i < t.numel(); ++i) t.data_ptr<int8_t>()[i] = static_cast<int8_t>(value(rng));
  return t;
}

at::Tensor Reference(const Multiplier& m, const at::Tensor& a, const at::Tensor& w) {
  at::Tensor c = at::empty({a.size(0), w.size(1)}, at::kInt);
  const at::Tensor ac = a.contiguous(), wc = w.contiguous();
  const absl::Status s = ApproxGemmReference(m, ac.data_ptr<int8_t>(), wc.data_ptr<int8_t>(),
                                             c.data_ptr<int32_t>(), a.size(0), a.size(1), w.size(1));
  EXPECT_TRUE(s.ok()) << s;
  return c;
}

// The engines to check: the chosen one, and each that runs here.
std::vector<std::optional<StructuredEngine>> Engines() {
  std::vector<std::optional<StructuredEngine>> engines = {std::nullopt,
                                                           StructuredEngine::kFloat32};
  if (U8S8GemmAvailable()) engines.push_back(StructuredEngine::kU8S8);
  return engines;
}

// FBGEMM held to AVX2 while it lives, whatever the body throws; its own
// instruction set again after.
class FbgemmOnAvx2 {
 public:
  FbgemmOnAvx2() { fbgemm::fbgemmForceIsa(fbgemm::inst_set_t::avx2); }
  ~FbgemmOnAvx2() { fbgemm::fbgemmForceIsa(fbgemm::inst_set_t::anyarch); }
};

// Whether FBGEMM's instruction set now has VNNI: outside FbgemmOnAvx2, the
// CPU's own, where holding it to AVX2 changes the layout.
bool FbgemmHasVnni() { return U8S8GemmAvailable() && !U8S8PairSumsSaturate(); }

// Runs `body(forced)` under FBGEMM's own instruction set (forced false),
// then, where that has VNNI, under AVX2 (forced true), whose pair sums
// saturate.
void ForEachFbgemmIsa(const std::function<void(bool forced)>& body) {
  body(false);
  if (FbgemmHasVnni()) {
    {
      const FbgemmOnAvx2 forced;
      EXPECT_TRUE(U8S8PairSumsSaturate());
      body(true);
    }
    EXPECT_FALSE(U8S8PairSumsSaturate());
  }
}

// Both entry points of `engine` (nullopt: the chosen one): the int32 sums,
// and the float32 ones equal to their conversion. `isa` names FBGEMM's.
void ExpectSame(const Multiplier& m, const at::Tensor& a, const at::Tensor& w,
                std::optional<StructuredEngine> engine, const std::string& isa) {
  const Structure& structure = **CachedStructure(m);
  const at::Tensor expected = Reference(m, a, w);
  const std::string name = (engine ? StructuredEngineName(*engine) : "chosen engine") + isa;
  const at::Tensor fast = StructuredGemmInt8(structure, a, w, engine);
  ASSERT_EQ(fast.scalar_type(), at::kInt);
  EXPECT_TRUE(at::equal(fast, expected))
      << m.id() << " (" << structure.Describe() << "), " << name << ": " << a.sizes() << " x "
      << w.sizes() << ", max |difference| "
      << (fast.to(at::kLong) - expected.to(at::kLong)).abs().max().item<int64_t>();
  const at::Tensor as_float = StructuredGemmFloat(structure, a, w, engine);
  ASSERT_EQ(as_float.scalar_type(), at::kFloat);
  // Bit patterns, so that -0.0 for +0.0 shows.
  EXPECT_TRUE(at::equal(as_float.view(at::kInt), expected.to(at::kFloat).view(at::kInt)))
      << m.id() << " as float32, " << name << ": " << a.sizes() << " x " << w.sizes();
}

// Every engine that runs here, the u8·s8 one under each instruction set of
// ForEachFbgemmIsa.
void ExpectSame(const Multiplier& m, const at::Tensor& a, const at::Tensor& w) {
  ForEachFbgemmIsa([&](bool forced) {
    for (const std::optional<StructuredEngine> engine : Engines()) {
      if (forced && engine == StructuredEngine::kFloat32) continue;
      ExpectSame(m, a, w, engine, forced ? " (FBGEMM forced to AVX2)" : "");
    }
  });
}

TEST(StructuredGemmTest, CoversTheSharedTablesAndBuiltins) {
  // 13 signed EvoApprox tables decompose, and exact plus the mask family
  // are among the built-ins.
  EXPECT_GE(StructuredMultipliers().size(), 15u);
}

TEST(StructuredGemmTest, EqualsTheReferenceOnRandomOperands) {
  std::mt19937 rng(7);
  for (const Multiplier& m : StructuredMultipliers()) {
    ExpectSame(m, RandomInt8(rng, 37, 300), RandomInt8(rng, 300, 29));
  }
}

TEST(StructuredGemmTest, EqualsTheReferenceOnRaggedShapes) {
  // Single elements, odd depths, and widths past several column blocks with
  // a remainder.
  std::mt19937 rng(8);
  for (const Multiplier& m : StructuredMultipliers()) {
    for (const auto& [M, K, N] : {std::tuple{1, 1, 1}, {5, 3, 1000}, {130, 67, 257}, {33, 129, 65}}) {
      ExpectSame(m, RandomInt8(rng, M, K), RandomInt8(rng, K, N));
    }
  }
}

TEST(StructuredGemmTest, EqualsTheReferenceOnExtremeOperands) {
  // All-extreme operands make every term reach its bound, so a wrong chunk
  // size would round.
  for (const Multiplier& m : StructuredMultipliers()) {
    for (int8_t av : {int8_t{-128}, int8_t{127}, int8_t{-127}}) {
      for (int8_t wv : {int8_t{-128}, int8_t{127}}) {
        ExpectSame(m, at::full({3, 1100}, av, at::kChar), at::full({1100, 2}, wv, at::kChar));
      }
    }
  }
}

TEST(StructuredGemmTest, DeepSumsAreSplitExactly) {
  // K = 5000 needs several float32 chunks for every term.
  std::mt19937 rng(11);
  for (const Multiplier& m : StructuredMultipliers()) {
    ExpectSame(m, RandomInt8(rng, 4, 5000), RandomInt8(rng, 5000, 3));
  }
}

TEST(StructuredGemmTest, SumsBeyondInt32WrapExactly) {
  // At the deepest K the reference admits: the five int8 terms of a rank-4
  // table side by side, many float chunks deep, and the three groups of a
  // multi-digit table, whose weighted sums leave int32 before they add up
  // to the true sum; extreme and random operands.
  std::mt19937 rng(12);
  int tested = 0;
  for (const Multiplier& m : StructuredMultipliers()) {
    if (m.id() != "evo:mul8s_1KVA" && m.id() != "multi-digit") continue;
    const int64_t K = MaxAccumulationDepth(m);
    ASSERT_GE(K, 40000);
    ExpectSame(m, at::full({2, K}, -128, at::kChar), at::full({K, 2}, -128, at::kChar));
    ExpectSame(m, at::full({2, K}, 127, at::kChar), at::full({K, 2}, -128, at::kChar));
    ExpectSame(m, RandomInt8(rng, 2, K), RandomInt8(rng, K, 3));
    ++tested;
  }
  EXPECT_EQ(tested, 2);
}

TEST(StructuredGemmTest, ManyRowsAreMappedInBlocksExactly) {
  // The float32 engine maps A a block of rows at a time (2^21 mapped
  // values; EveryThreadCountGivesTheReferenceSums covers the u8·s8
  // engine's blocks): at K = 2100, 1000 rows are two blocks for one term
  // (the second 2 rows long) and six for five terms, with several float
  // chunks each; at K = 280, 7500 rows are two blocks of a single GEMM for
  // one term (the second 11 rows long) and six for five terms.
  std::mt19937 rng(19);
  for (const Multiplier& m : StructuredMultipliers()) {
    ExpectSame(m, RandomInt8(rng, 1000, 2100), RandomInt8(rng, 2100, 5));
    ExpectSame(m, RandomInt8(rng, 7500, 280), RandomInt8(rng, 280, 3));
  }
}

// LibTorch's intra-op thread count while it lives; the count before after.
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads) : before_(at::get_num_threads()) {
    at::set_num_threads(threads);
  }
  ~IntraOpThreads() { at::set_num_threads(before_); }

 private:
  int before_;
};

TEST(StructuredGemmTest, EveryThreadCountGivesTheReferenceSums) {
  // The u8·s8 engine splits A's rows among the threads, each taking its
  // share in blocks (1 MB of mapped bytes): fewer rows than threads, shares
  // of one block, and shares of several blocks, the last one short (at
  // K = 1501 a rank-4 table's five terms are about 7500 deep, 139 rows a
  // block); exact, masking, low-rank and multi-group (multi-digit)
  // multipliers.
  std::mt19937 rng(23);
  int tested = 0;
  for (const Multiplier& m : StructuredMultipliers()) {
    if (m.id() != "evo:mul8s_1KVA" && m.id() != "evo:mul8s_1L2N" && m.id() != "evo:mul8s_1KV6" &&
        m.id() != "multi-digit") {
      continue;
    }
    ++tested;
    for (int threads : {1, 2, 3, 5}) {
      const IntraOpThreads set(threads);
      ASSERT_EQ(at::get_num_threads(), threads);
      ExpectSame(m, RandomInt8(rng, 1, 40), RandomInt8(rng, 40, 9));
      ExpectSame(m, RandomInt8(rng, 4, 300), RandomInt8(rng, 300, 17));
      ExpectSame(m, RandomInt8(rng, 700, 1501), RandomInt8(rng, 1501, 37));
    }
  }
  EXPECT_EQ(tested, 4);
}

// The u8·s8 engine keeps W's prepared side while W's values stay the same:
// a write, even one that bypasses the version counter, is seen.
TEST(StructuredGemmTest, PreparedWeightsFollowWrites) {
  if (!U8S8GemmAvailable()) GTEST_SKIP() << "FBGEMM does not support this CPU";
  std::mt19937 rng(29);
  const Multiplier m = *MakeBuiltin("mask:a=1");
  const Structure& structure = **CachedStructure(m);
  const at::Tensor a = RandomInt8(rng, 6, 40), w = RandomInt8(rng, 40, 5);
  for (int round = 0; round < 3; ++round) {
    EXPECT_TRUE(at::equal(StructuredGemmInt8(structure, a, w, StructuredEngine::kU8S8),
                          Reference(m, a, w)))
        << round;
    w.data_ptr<int8_t>()[round] = static_cast<int8_t>(w.data_ptr<int8_t>()[round] ^ 0x55);
  }
}

TEST(StructuredGemmTest, StridedAndEmptyOperands) {
  std::mt19937 rng(13);
  const Multiplier m = *MakeBuiltin("exact");
  const at::Tensor a = RandomInt8(rng, 20, 16);
  ExpectSame(m, a.t(), RandomInt8(rng, 20, 5));
  ExpectSame(m, at::empty({0, 8}, at::kChar), RandomInt8(rng, 8, 4));
  ExpectSame(m, RandomInt8(rng, 3, 0), at::empty({0, 4}, at::kChar));
}

TEST(StructuredGemmTest, ZeroSumsArePositiveZeros) {
  // Products -3·0 and 0·(-5): a float GEMM may start its sums with -0.0.
  for (const Multiplier& m : StructuredMultipliers()) {
    ExpectSame(m, at::full({4, 1}, -3, at::kChar), at::zeros({1, 5}, at::kChar));
    ExpectSame(m, at::zeros({4, 3}, at::kChar), at::full({3, 5}, -5, at::kChar));
  }
}

TEST(StructuredGemmTest, BadOperandsThrow) {
  const Structure& structure = **CachedStructure(*MakeBuiltin("exact"));
  const at::Tensor a = at::zeros({3, 4}, at::kChar);
  EXPECT_THROW(StructuredGemmInt8(structure, a, at::zeros({5, 2}, at::kChar)), c10::Error);
  EXPECT_THROW(StructuredGemmFloat(structure, a, at::zeros({4, 2}, at::kInt)), c10::Error);
  EXPECT_THROW(StructuredGemmInt8(structure, a.view({12}), at::zeros({4, 2}, at::kChar)),
               c10::Error);
}

// Restores the process's float32 matmul precision.
class MatmulPrecision {
 public:
  explicit MatmulPrecision(const std::string& precision) {
    at::globalContext().setFloat32MatmulPrecision(precision);
  }
  ~MatmulPrecision() { at::globalContext().setFloat32MatmulPrecision("highest"); }
};

// u8·s8 for every multiplier whose runs are no more than its float32 terms.
// With saturating pairs: all shared structured tables but the exact ones,
// whose full-range a·b takes two runs, and not the built-in low-rank
// families with large separable terms (perforation, DRUM, RoBA, Kulkarni).
// With VNNI, where every term is one run: all of them.
TEST(StructuredGemmTest, ChoosesU8S8WhereItTakesNoMoreRuns) {
  if (!U8S8GemmAvailable()) GTEST_SKIP() << "FBGEMM does not support this CPU";
  ForEachFbgemmIsa([](bool) {
    const bool saturating = U8S8PairSumsSaturate();
    int shared = 0;
    for (const Multiplier& m : StructuredMultipliers()) {
      if (m.id().rfind("evo:", 0) != 0) continue;
      ++shared;
      const Structure& structure = **CachedStructure(m);
      const bool exact = structure.path == KernelPath::kExactInt8;
      EXPECT_EQ(ChosenStructuredEngine(structure),
                exact && saturating ? StructuredEngine::kFloat32 : StructuredEngine::kU8S8)
          << m.id() << " (" << structure.Describe() << "), saturating " << saturating;
    }
    EXPECT_GE(shared, 13);
    for (const char* id : {"roba", "kulkarni", "perf:m=2", "drum:k=4"}) {
      EXPECT_EQ(ChosenStructuredEngine(**CachedStructure(*MakeBuiltin(id))),
                saturating ? StructuredEngine::kFloat32 : StructuredEngine::kU8S8)
          << id << ", saturating " << saturating;
    }
  });
  Structure table;
  table.path = KernelPath::kTable;
  EXPECT_FALSE(ChosenStructuredEngine(table).has_value());
}

// Reduced float32 precision stops the float32 engine only: an exact
// multiplier takes the table kernel (or u8·s8, with VNNI), a masking one
// stays on u8·s8.
TEST(StructuredGemmTest, ReducedFloatPrecisionStopsTheFloatEngine) {
  ASSERT_TRUE(FloatMatmulIsIeee());
  std::mt19937 rng(23);
  const Multiplier exact = *MakeBuiltin("exact"), mask = *MakeBuiltin("mask:a=3,b=3");
  const at::Tensor a = RandomInt8(rng, 9, 700), w = RandomInt8(rng, 700, 7);
  ForEachFbgemmIsa([&](bool forced) {
    const bool exact_on_u8s8 = FbgemmHasVnni();
    for (const char* precision : {"high", "medium"}) {
      const MatmulPrecision reduced(precision);
      EXPECT_FALSE(FloatMatmulIsIeee()) << precision;
      if (exact_on_u8s8) {
        EXPECT_EQ(ChosenStructuredEngine(**CachedStructure(exact)), StructuredEngine::kU8S8);
      } else {
        EXPECT_FALSE(ChosenStructuredEngine(**CachedStructure(exact)).has_value()) << forced;
        EXPECT_THROW(StructuredGemmInt8(**CachedStructure(exact), a, w), c10::Error);
      }
      EXPECT_THROW(StructuredGemmInt8(**CachedStructure(mask), a, w, StructuredEngine::kFloat32),
                   c10::Error);
      for (const Multiplier& m : {exact, mask}) {
        EXPECT_TRUE(at::equal(ApproxGemmInt8(m, a, w), Reference(m, a, w)))
            << precision << ", forced " << forced;
      }
      if (U8S8GemmAvailable()) {
        EXPECT_TRUE(
            at::equal(StructuredGemmInt8(**CachedStructure(mask), a, w), Reference(mask, a, w)))
            << precision << ", forced " << forced;
      }
    }
  });
  EXPECT_TRUE(FloatMatmulIsIeee());
}

// A layout for VNNI's int32 sums refuses to run on kernels whose pair sums
// saturate, where it would give wrong sums.
TEST(StructuredGemmTest, AVnniLayoutRefusesSaturatingKernels) {
  if (!FbgemmHasVnni()) GTEST_SKIP() << "FBGEMM runs no VNNI kernels on this CPU";
  std::mt19937 rng(29);
  const at::Tensor a = RandomInt8(rng, 5, 40), w = RandomInt8(rng, 40, 3);
  const std::vector<U8S8Group> vnni =
      U8S8Groups(*Int8Terms(**CachedStructure(*MakeBuiltin("exact"))), false);
  const FbgemmOnAvx2 forced;
  try {
    U8S8GemmSums(vnni, a, w, false);
    ADD_FAILURE() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("instruction set was lowered"), std::string::npos)
        << e.what();
  }
}

TEST(StructuredGemmTest, ApproxGemmInt8TakesTheStructuredPathTransparently) {
  std::mt19937 rng(17);
  for (const Multiplier& m : StructuredMultipliers()) {
    const at::Tensor a = RandomInt8(rng, 9, 64), w = RandomInt8(rng, 64, 7);
    EXPECT_TRUE(at::equal(ApproxGemmInt8(m, a, w), Reference(m, a, w))) << m.id();
  }
}

}  // namespace
}  // namespace transaxx::approx
