#include "libs/approx/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/approx/builtin.h"

namespace transaxx::approx {
namespace {

using ::testing::HasSubstr;

Catalog WithEvoApprox() {
  Catalog catalog = Catalog::WithBuiltins();
  absl::Status s = catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR);
  EXPECT_TRUE(s.ok()) << s;
  return catalog;
}

TEST(CatalogTest, ListsTheDefaultBuiltins) {
  Catalog catalog = Catalog::WithBuiltins();
  ASSERT_EQ(catalog.entries().size(), DefaultBuiltinIds().size());
  EXPECT_EQ(catalog.entries()[0].multiplier.id(), "exact");
  EXPECT_EQ(catalog.entries()[0].source, "built-in");
}

TEST(CatalogTest, ResolvesAnyBuiltinIdOnDemand) {
  Catalog catalog = Catalog::WithBuiltins();
  auto entry = catalog.Get("drum:k=7");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->multiplier.id(), "drum:k=7");
  EXPECT_EQ(catalog.Get("mask:b=1,a=1")->multiplier.id(), "mask:a=1,b=1");
  EXPECT_EQ(catalog.Get("drum:k=99").status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = catalog.Get("evo:mul8s_1L2J");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("--multipliers_dir"));
}

TEST(CatalogTest, ImportsEveryEvoApproxTableWithItsPublishedFigures) {
  Catalog catalog = WithEvoApprox();
  EXPECT_EQ(catalog.Match("evo:*").size(), 19u);
  EXPECT_EQ(catalog.Match("evo:mul8u_*").size(), 6u);
  auto exact = catalog.Get("evo:mul8s_1KV6");
  ASSERT_TRUE(exact.ok());
  ASSERT_TRUE(exact->published.has_value());
  EXPECT_DOUBLE_EQ(*exact->published->power_mw, 0.425);
  EXPECT_THAT(exact->source, HasSubstr("mul8s_1KV6.lut"));
  EXPECT_FALSE(catalog.Get("evo:mul8u_GJM")->multiplier.is_signed());
}

// The EvoApproxLib circuits that are exactly operand masking (see the data
// README) have the same table, hence the same hash, as the built-in family.
TEST(CatalogTest, MaskingCircuitsEqualTheBuiltinMaskFamily) {
  Catalog catalog = WithEvoApprox();
  const std::pair<const char*, const char*> same[] = {
      {"exact", "evo:mul8s_1KV6"},       {"mask:a=1", "evo:mul8s_1KVM"},
      {"mask:a=1,b=1", "evo:mul8s_1L2J"}, {"mask:a=3,b=3", "evo:mul8s_1L2L"},
      {"mask:a=7", "evo:mul8s_1KXF"},     {"mask:a=7,b=7", "evo:mul8s_1L2N"}};
  for (const auto& [builtin, evo] : same) {
    EXPECT_EQ(catalog.Get(builtin)->multiplier.content_hash(),
              catalog.Get(evo)->multiplier.content_hash())
        << builtin << " vs " << evo;
  }
}

TEST(CatalogTest, FailedImportsNameTheFileAndAddNothing) {
  Catalog catalog = Catalog::WithBuiltins();
  absl::Status missing = catalog.ImportEvoApprox("/nonexistent/evo");
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.message()), HasSubstr("/nonexistent/evo/multipliers.json"));
  ASSERT_TRUE(catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR).ok());
  const size_t size = catalog.entries().size();
  EXPECT_EQ(catalog.ImportEvoApprox(TRANSAXX_EVOAPPROX_DIR).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(catalog.entries().size(), size);
}

}  // namespace
}  // namespace transaxx::approx
