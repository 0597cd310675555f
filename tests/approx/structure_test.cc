#include "libs/approx/structure.h"

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "libs/approx/builtin.h"
#include "libs/approx/catalog.h"
#include "libs/approx/structure_cache.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

using ::testing::HasSubstr;

Catalog WithEvoApprox() {
  Catalog catalog;
  absl::Status s = catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR);
  EXPECT_TRUE(s.ok()) << s;
  return catalog;
}

// Checks `d` against the int8 table on every operand pair, independently of
// the library's own verification. Coefficients are bounded by int32 (the
// library's option limit), so int128 sums are exact.
void ExpectReproduces(const Multiplier& m, const Decomposition& d) {
  ASSERT_EQ(static_cast<int>(d.f.size()), d.rank);
  ASSERT_EQ(static_cast<int>(d.g.size()), d.rank);
  int mismatches = 0;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      __int128 sum = d.with_product ? a * b : 0;
      for (int r = 0; r < d.rank; ++r) {
        sum += static_cast<__int128>(d.f[r][static_cast<uint8_t>(a)]) * d.g[r][static_cast<uint8_t>(b)];
      }
      mismatches += sum != m.int8_table()[TableIndex(a, b)];
    }
  }
  EXPECT_EQ(mismatches, 0) << m.id();
}

Structure Analyze(const Multiplier& m, const StructureOptions& options = {}) {
  absl::StatusOr<Structure> s = AnalyzeStructure(m, options);
  EXPECT_TRUE(s.ok()) << m.id() << ": " << s.status();
  return s.ok() ? *s : Structure{};
}

// A signed multiplier a·b + Σ_{r<rank} f_r(a)·g_r(b) with random f, g in
// ±range, drawn until the f's and g's are independent (almost surely at once).
Multiplier RandomLowRank(int rank, int range, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> coef(-range, range);
  std::vector<std::array<int, 256>> f(rank), g(rank);
  for (int r = 0; r < rank; ++r) {
    for (int i = 0; i < 256; ++i) {
      f[r][i] = coef(rng);
      g[r][i] = coef(rng);
    }
  }
  Table t;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      int32_t v = a * b;
      for (int r = 0; r < rank; ++r) v += f[r][static_cast<uint8_t>(a)] * g[r][static_cast<uint8_t>(b)];
      t[TableIndex(a, b)] = v;
    }
  }
  return *Multiplier::Create(absl::StrCat("rank", rank), Signedness::kSigned, t);
}

TEST(StructureTest, ExactIsThePlainInt8Gemm) {
  Structure s = Analyze(*MakeBuiltin("exact"));
  EXPECT_EQ(s.path, KernelPath::kExactInt8);
  EXPECT_EQ(s.error_rank, 0);
  ASSERT_TRUE(s.mask.has_value());
  EXPECT_EQ(s.mask->a_mask, 0);
  EXPECT_EQ(s.mask->b_mask, 0);
  EXPECT_EQ(std::string(KernelPathName(s.path)), "exact_int8");
}

TEST(StructureTest, DetectsTheMaskingCircuitsAndFamily) {
  Catalog catalog = WithEvoApprox();
  const struct {
    const char* id;
    int a_mask, b_mask;
    const char* description;
  } cases[] = {
      {"evo:mul8s_1KVM", 1, 0, "mask: (A & ~1)·B"},
      {"evo:mul8s_1L2J", 1, 1, "mask: (A & ~1)·(B & ~1)"},
      {"evo:mul8s_1L2L", 3, 3, "mask: (A & ~3)·(B & ~3)"},
      {"evo:mul8s_1KXF", 7, 0, "mask: (A & ~7)·B"},
      {"evo:mul8s_1L2N", 7, 7, "mask: (A & ~7)·(B & ~7)"},
      {"mask:a=3", 3, 0, "mask: (A & ~3)·B"},
      {"mask:b=15", 0, 15, "mask: A·(B & ~15)"},
      {"mask:a=127,b=63", 127, 63, "mask: (A & ~127)·(B & ~63)"},
  };
  for (const auto& c : cases) {
    auto entry = catalog.Get(c.id);
    ASSERT_TRUE(entry.ok()) << entry.status();
    Structure s = Analyze(entry->multiplier);
    EXPECT_EQ(s.path, KernelPath::kMask) << c.id;
    ASSERT_TRUE(s.mask.has_value()) << c.id;
    EXPECT_EQ(s.mask->a_mask, c.a_mask) << c.id;
    EXPECT_EQ(s.mask->b_mask, c.b_mask) << c.id;
    EXPECT_EQ(s.Describe(), c.description);
    // Masking is a·b plus at most two separable terms: -a·lo(b) - lo(a)·hi(b).
    ASSERT_TRUE(s.decomposition.has_value()) << c.id;
    EXPECT_LE(s.decomposition->rank, 2) << c.id;
    ExpectReproduces(entry->multiplier, *s.decomposition);
  }
}

TEST(StructureTest, EverySignedEvoApproxTableDecomposesAtItsPublishedRank) {
  Catalog catalog = WithEvoApprox();
  int signed_tables = 0;
  for (const CatalogEntry& e : catalog.Match("evo:mul8s_*")) {
    ++signed_tables;
    ASSERT_TRUE(e.published && e.published->error_rank) << e.multiplier.id();
    Structure s = Analyze(e.multiplier);
    EXPECT_EQ(s.error_rank, *e.published->error_rank) << e.multiplier.id();
    EXPECT_LE(s.error_rank, 4) << e.multiplier.id();
    EXPECT_NE(s.path, KernelPath::kTable) << e.multiplier.id() << ": " << s.Describe();
    ASSERT_TRUE(s.decomposition.has_value()) << e.multiplier.id();
    EXPECT_EQ(s.decomposition->rank, s.error_rank) << e.multiplier.id();
    ExpectReproduces(e.multiplier, *s.decomposition);
    if (s.table_decomposition) {
      EXPECT_FALSE(s.table_decomposition->with_product);
      EXPECT_EQ(s.table_decomposition->rank, s.error_rank) << e.multiplier.id();
      ExpectReproduces(e.multiplier, *s.table_decomposition);
    }
    if (s.path == KernelPath::kLowRank) {
      // These three drop low bits of a for some operands: a term -(a & m)·b
      // of E folds into a·b.
      const bool folds = e.multiplier.id() == "evo:mul8s_1KVP" ||
                         e.multiplier.id() == "evo:mul8s_1KVQ" ||
                         e.multiplier.id() == "evo:mul8s_1KX5";
      EXPECT_EQ(s.table_decomposition.has_value(), folds) << e.multiplier.id();
      EXPECT_EQ(s.Describe(), absl::StrCat("low-rank: a·b + ", s.error_rank, " separable term",
                                           s.error_rank == 1 ? "" : "s", " (rank ", s.error_rank,
                                           ")", folds ? "; a·b can fold into them" : ""));
    }
  }
  EXPECT_EQ(signed_tables, 13);
}

// FoldingMultiplier: b ↦ b is one of E's row vectors, -(a & 1)·b.
TEST(StructureTest, ProductFoldsIntoATermThatUndoesPartOfIt) {
  const Multiplier m = FoldingMultiplier();
  Structure s = Analyze(m);
  EXPECT_EQ(s.path, KernelPath::kLowRank);
  EXPECT_EQ(s.error_rank, 2);
  ASSERT_TRUE(s.table_decomposition.has_value()) << s.Describe();
  EXPECT_FALSE(s.table_decomposition->with_product);
  EXPECT_EQ(s.table_decomposition->rank, 2);
  ExpectReproduces(m, *s.table_decomposition);
  EXPECT_EQ(s.Describe(), "low-rank: a·b + 2 separable terms (rank 2); a·b can fold into them");
}

// Random f_r, g_r: b ↦ b is not an integer combination of the g_r.
TEST(StructureTest, RandomLowRankTablesDoNotFold) {
  for (int rank = 1; rank <= 4; ++rank) {
    Structure s = Analyze(RandomLowRank(rank, 20, 300 + rank));
    EXPECT_EQ(s.error_rank, rank);
    EXPECT_FALSE(s.table_decomposition.has_value()) << rank;
  }
}

// Unsigned circuits are analyzed through int8_table() (sign-magnitude), whose
// error matrix differs from that of their own table.
TEST(StructureTest, UnsignedTablesAreAnalyzedThroughTheirInt8Table) {
  Catalog catalog = WithEvoApprox();
  for (const CatalogEntry& e : catalog.Match("evo:mul8u_*")) {
    Structure s = Analyze(e.multiplier);
    if (s.decomposition) {
      EXPECT_EQ(s.decomposition->rank, s.error_rank) << e.multiplier.id();
      ExpectReproduces(e.multiplier, *s.decomposition);
    } else {
      EXPECT_EQ(s.path, KernelPath::kTable) << e.multiplier.id();
    }
  }
  EXPECT_EQ(Analyze(catalog.Get("evo:mul8u_1JJQ")->multiplier).path, KernelPath::kExactInt8);
  Structure gjm = Analyze(catalog.Get("evo:mul8u_GJM")->multiplier);
  EXPECT_EQ(gjm.path, KernelPath::kTable);
  EXPECT_FALSE(gjm.decomposition.has_value());
  EXPECT_GT(gjm.error_rank, 8);
  EXPECT_EQ(gjm.Describe(), absl::StrCat("table: error rank ", gjm.error_rank,
                                         ", generic table kernel (rank above 8)"));
}

TEST(StructureTest, EveryDefaultBuiltinGetsAStructure) {
  for (const std::string& id : DefaultBuiltinIds()) {
    Multiplier m = *MakeBuiltin(id);
    Structure s = Analyze(m);
    EXPECT_FALSE(s.Describe().empty()) << id;
    if (s.decomposition) {
      EXPECT_EQ(s.decomposition->rank, s.error_rank) << id;
      ExpectReproduces(m, *s.decomposition);
    }
    if (s.path == KernelPath::kTable) {
      EXPECT_FALSE(s.table_reason.empty()) << id;
    } else {
      EXPECT_TRUE(s.table_reason.empty()) << id;
    }
    if (m.family() == "mask") {
      EXPECT_EQ(s.path, KernelPath::kMask) << id;
    }
  }
}

TEST(StructureTest, ConstructedTablesDecomposeAtTheirExactRank) {
  for (int rank = 1; rank <= 6; ++rank) {
    for (uint32_t seed : {1u, 2u}) {
      Multiplier m = RandomLowRank(rank, 20, 100 * rank + seed);
      Structure s = Analyze(m);
      EXPECT_EQ(s.path, KernelPath::kLowRank) << rank << ": " << s.Describe();
      EXPECT_EQ(s.error_rank, rank);
      ASSERT_TRUE(s.decomposition.has_value()) << rank << ": " << s.Describe();
      EXPECT_EQ(s.decomposition->rank, rank);
      ExpectReproduces(m, *s.decomposition);
    }
  }
}

TEST(StructureTest, RankAboveTheLimitTakesTheTablePath) {
  Multiplier m = RandomLowRank(6, 20, 7);
  StructureOptions options;
  options.max_rank = 5;
  Structure s = Analyze(m, options);
  EXPECT_EQ(s.path, KernelPath::kTable);
  EXPECT_EQ(s.error_rank, 6);
  EXPECT_FALSE(s.decomposition.has_value());
  EXPECT_EQ(s.Describe(), "table: error rank 6, generic table kernel (rank above 5)");
}

TEST(StructureTest, RandomTableTakesTheTablePath) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> entry(-32768, 32767);
  Table t;
  for (int32_t& v : t) v = entry(rng);
  Structure s = Analyze(*Multiplier::Create("random", Signedness::kSigned, t));
  EXPECT_EQ(s.path, KernelPath::kTable);
  EXPECT_EQ(s.error_rank, 256);
  EXPECT_EQ(std::string(KernelPathName(s.path)), "table");
}

TEST(StructureTest, CoefficientsBeyondTheBoundTakeTheTablePath) {
  // One term 1000·(a-dependent)·(b-dependent) with entries beyond a bound of 10.
  Multiplier m = RandomLowRank(1, 1000, 5);
  StructureOptions options;
  options.max_abs_coefficient = 10;
  Structure s = Analyze(m, options);
  EXPECT_EQ(s.path, KernelPath::kTable);
  EXPECT_EQ(s.error_rank, 1);
  EXPECT_THAT(s.Describe(), HasSubstr("decomposition coefficients up to"));
}

TEST(StructureTest, OneTableReadWithEachSignednessIsCachedAsTwoMultipliers) {
  // Entry [A][B] = (A >> 1)·(B >> 1) on the operand bytes fits either
  // signedness, and is another int8 table for each.
  Table t;
  for (int i = 0; i < kTableSize; ++i) t[i] = ((i >> 8) >> 1) * ((i & 255) >> 1);
  const Multiplier as_signed = *Multiplier::Create("halves-s", Signedness::kSigned, t);
  const Multiplier as_unsigned = *Multiplier::Create("halves-u", Signedness::kUnsigned, t);
  ASSERT_EQ(as_signed.content_hash(), as_unsigned.content_hash());
  ASSERT_NE(as_signed.int8_table(), as_unsigned.int8_table());
  EXPECT_NE(as_signed.cache_key(), as_unsigned.cache_key());
  for (const Multiplier* m : {&as_signed, &as_unsigned}) {
    absl::StatusOr<std::shared_ptr<const Structure>> cached = CachedStructure(*m);
    ASSERT_TRUE(cached.ok()) << cached.status();
    ASSERT_TRUE((*cached)->decomposition.has_value()) << (*cached)->Describe();
    ExpectReproduces(*m, *(*cached)->decomposition);
  }
}

TEST(StructureTest, RejectsOptionsOutOfRange) {
  Multiplier m = *MakeBuiltin("exact");
  StructureOptions bad_rank;
  bad_rank.max_rank = -1;
  EXPECT_EQ(AnalyzeStructure(m, bad_rank).status().code(), absl::StatusCode::kInvalidArgument);
  StructureOptions bad_bound;
  bad_bound.max_abs_coefficient = 0;
  EXPECT_EQ(AnalyzeStructure(m, bad_bound).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace transaxx::approx
