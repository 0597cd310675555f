// Built-in families against products computed by hand from each paper's
// definition, and the ID grammar.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/approx/builtin.h"
#include "libs/approx/multiplier_id.h"

namespace transaxx::approx {
namespace {

using ::testing::HasSubstr;

int32_t Product(const std::string& id, int a, int b) {
  absl::StatusOr<Multiplier> m = MakeBuiltin(id);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? (*m)(a, b) : 0;
}

TEST(FamiliesTest, ExactIsThePlainProductEverywhere) {
  auto m = MakeBuiltin("exact");
  ASSERT_TRUE(m.ok());
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) ASSERT_EQ((*m)(a, b), a * b);
  }
}

TEST(FamiliesTest, MaskClearsLowBitsInTwosComplement) {
  EXPECT_EQ(Product("mask:a=1", 5, 3), 12);     // 4 * 3
  EXPECT_EQ(Product("mask:a=1", -5, 3), -18);   // -6 * 3
  EXPECT_EQ(Product("mask:a=3,b=3", 7, 7), 16);  // 4 * 4
  EXPECT_EQ(Product("mask:a=3,b=3", -1, -1), 16);  // -4 * -4
  EXPECT_EQ(Product("mask:b=7", 3, 15), 24);    // 3 * 8
}

TEST(FamiliesTest, BrokenArrayDropsBitsBelowTheBreakLines) {
  // 15*15 = 225 minus the bits of columns 0..3: 1 + 2*2 + 3*4 + 4*8 = 49.
  EXPECT_EQ(Product("bam:h=0,v=4", 15, 15), 176);
  EXPECT_EQ(Product("bam:h=1,v=0", 15, 3), 30);  // Row 0 (bit 0 of B) omitted.
  EXPECT_EQ(Product("bam:h=0,v=4", -15, 15), -176);
  EXPECT_EQ(Product("bam:h=0,v=0", -128, -128), 16384);
}

TEST(FamiliesTest, PerforationSkipsPartialProducts) {
  EXPECT_EQ(Product("perf:m=1", 7, 3), 14);      // 7 * (3 & ~1)
  EXPECT_EQ(Product("perf:m=2,j=1", 5, 7), 5);   // 5 * (7 & ~6)
  EXPECT_EQ(Product("perf:m=2,j=1", -5, 7), -5);
}

TEST(FamiliesTest, DrumKeepsKLeadingBitsWithAnUnbiasingOne) {
  EXPECT_EQ(Product("drum:k=3", 13, 5), 70);         // 13 -> 7<<1, 5 exact
  EXPECT_EQ(Product("drum:k=3", 100, 100), 12544);   // 100 -> 7<<4 on both
  EXPECT_EQ(Product("drum:k=3", 7, 6), 42);          // below 2^k: exact
  EXPECT_EQ(Product("drum:k=8", -128, 127), -16256);  // k = 8: exact
}

TEST(FamiliesTest, MitchellApproximatesThroughLogarithms) {
  EXPECT_EQ(Product("mitchell", 3, 3), 8);
  EXPECT_EQ(Product("mitchell", 2, 3), 6);
  EXPECT_EQ(Product("mitchell", 5, 6), 28);
  EXPECT_EQ(Product("mitchell", -5, 6), -28);
  EXPECT_EQ(Product("mitchell", 0, 77), 0);
  // Mitchell never overestimates.
  auto m = MakeBuiltin("mitchell");
  ASSERT_TRUE(m.ok());
  for (int a = 0; a < 128; ++a) {
    for (int b = 0; b < 128; ++b) ASSERT_LE((*m)(a, b), a * b);
  }
}

TEST(FamiliesTest, RobaRoundsOperandsToPowersOfTwo) {
  EXPECT_EQ(Product("roba", 3, 3), 8);    // 4*3 + 3*4 - 16
  EXPECT_EQ(Product("roba", 5, 6), 32);   // 4*6 + 5*8 - 32
  EXPECT_EQ(Product("roba", 4, 7), 28);   // exact with a power of two
  EXPECT_EQ(Product("roba", -5, -6), 32);
}

TEST(FamiliesTest, KulkarniBlocksAnswerSevenForThreeTimesThree) {
  EXPECT_EQ(Product("kulkarni", 3, 3), 7);
  EXPECT_EQ(Product("kulkarni", 2, 3), 6);
  EXPECT_EQ(Product("kulkarni", 15, 15), 175);  // 7<<4 + (7+7)<<2 + 7
  EXPECT_EQ(Product("kulkarni", -3, 3), -7);
  EXPECT_EQ(Product("kulkarni", -128, -1), 128);  // Magnitude 128 fits the array.
}

TEST(FamiliesTest, IdsAreCanonicalAndParseBack) {
  for (const std::string& id : DefaultBuiltinIds()) {
    auto m = MakeBuiltin(id);
    ASSERT_TRUE(m.ok()) << id << ": " << m.status();
    EXPECT_EQ(m->id(), id);
    EXPECT_TRUE(m->is_signed());
    EXPECT_EQ(MakeBuiltin(m->id())->content_hash(), m->content_hash());
  }
  EXPECT_EQ(MakeBuiltin("mask:b=1,a=1")->id(), "mask:a=1,b=1");
  EXPECT_EQ(MakeBuiltin("mask:a=1,b=0")->id(), "mask:a=1");
  EXPECT_EQ(MakeBuiltin("perf:m=2,j=0")->id(), "perf:m=2");
  EXPECT_EQ(MakeBuiltin("mask:a=1,b=1")->content_hash(),
            MakeBuiltin("mask:b=1,a=1")->content_hash());
}

TEST(FamiliesTest, DistinctParametersGiveDistinctTables) {
  std::set<std::string> hashes;
  for (const std::string& id : DefaultBuiltinIds()) hashes.insert(MakeBuiltin(id)->content_hash());
  EXPECT_EQ(hashes.size(), DefaultBuiltinIds().size());
}

TEST(FamiliesTest, BadIdsAreRefusedWithAReason) {
  struct Case {
    std::string id;
    std::string reason;
  } cases[] = {
      {"", "empty family"},
      {"warp", "unknown multiplier family 'warp'"},
      {"drum", "missing k"},
      {"drum:k=9", "k=9 is out of range 2..8"},
      {"drum:k=x", "not an integer"},
      {"drum:k=3,k=4", "given twice"},
      {"drum:n=3", "has no parameter 'n'"},
      {"exact:a=1", "takes none"},
      {"mask:a=2", "not a low-bit mask"},
      {"perf:m=4,j=5", "exceeds the 8 partial products"},
      {"mask:", "nothing after ':'"},
      {"mask:a", "not KEY=VALUE"},
  };
  for (const Case& c : cases) {
    auto m = MakeBuiltin(c.id);
    ASSERT_FALSE(m.ok()) << c.id;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << c.id;
    EXPECT_THAT(std::string(m.status().message()), HasSubstr(c.reason)) << c.id;
  }
}

TEST(MultiplierIdTest, SplitsFamilyAndParameters) {
  auto id = ParseBuiltinId("bam:h=1,v=6");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->family, "bam");
  EXPECT_EQ(id->params, (Params{{"h", 1}, {"v", 6}}));
  EXPECT_TRUE(IsImportedFamily("evo"));
  EXPECT_FALSE(IsImportedFamily("drum"));
}

}  // namespace
}  // namespace transaxx::approx
