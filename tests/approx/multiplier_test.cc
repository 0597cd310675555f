#include "libs/approx/multiplier.h"

#include <limits>

#include <gtest/gtest.h>

namespace transaxx::approx {
namespace {

TEST(MultiplierTest, IndexesOperandBytes) {
  EXPECT_EQ(TableIndex(0, 0), 0);
  EXPECT_EQ(TableIndex(-1, 0), 255 * 256);
  EXPECT_EQ(TableIndex(0, -128), 128);
  EXPECT_EQ(TableIndex(255, 255), 65535);
}

TEST(MultiplierTest, HashIsSha256OfLittleEndianInt32Entries) {
  Table zeros{};
  // SHA-256 of 262,144 zero bytes.
  EXPECT_EQ(TableHash(zeros), "8a39d2abd3999ab73c34db2476849cddf303ce389b35826850f9a700589b4a90");
  Table one = zeros;
  one[1] = 0x01020304;
  // The same bytes laid out by hand: little-endian 04 03 02 01 at offset 4.
  EXPECT_EQ(TableHash(one), "48c2700f2744c0a2da1f52aa712b186a1b88f6d345df7d1c8c3a82df2f291d0f");
}

TEST(MultiplierTest, UnsignedTablesServeInt8ThroughSignMagnitude) {
  auto m = Multiplier::Create("user:exact_u8", Signedness::kUnsigned, ExactTable(Signedness::kUnsigned));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->family(), "user");
  EXPECT_FALSE(m->is_signed());
  EXPECT_EQ((*m)(200, 3), 600);
  for (int a : {-128, -127, -1, 0, 1, 127}) {
    for (int b : {-128, -5, 0, 7, 127}) {
      EXPECT_EQ(m->int8_table()[TableIndex(a, b)], a * b) << a << "*" << b;
    }
  }
}

TEST(MultiplierTest, SignedTablesAreUsedAsTheyAre) {
  Table t{};
  t[TableIndex(-3, 5)] = 42;
  auto m = Multiplier::Create("user:odd", Signedness::kSigned, t);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)(-3, 5), 42);
  EXPECT_EQ(m->int8_table()[TableIndex(-3, 5)], 42);
  EXPECT_EQ(m->int8_table()[TableIndex(3, -5)], 0);
}

TEST(MultiplierTest, RejectsEmptyIdsAndUnnegatableUnsignedEntries) {
  EXPECT_EQ(Multiplier::Create("", Signedness::kSigned, Table{}).status().code(),
            absl::StatusCode::kInvalidArgument);
  Table t{};
  t[TableIndex(3, 3)] = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(Multiplier::Create("user:x", Signedness::kUnsigned, t).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Multiplier::Create("user:x", Signedness::kSigned, t).ok());
}

}  // namespace
}  // namespace transaxx::approx
