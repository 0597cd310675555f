// The power catalog's persisted user tables: a round trip, and every kind of
// damage to the state directory refused with DATA_LOSS naming the file.
#include "libs/approx/power_catalog.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "libs/approx/builtin.h"

namespace transaxx::approx {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class PowerCatalogStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/power_catalog_", getpid(), "_",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<PowerCatalog>> OpenCatalog() {
    PowerCatalogOptions options;
    options.state_dir = dir_;
    return PowerCatalog::Open(options);
  }

  // Persists one user table through the catalog, then returns its files.
  std::pair<std::string, std::string> StoreOne() {
    auto catalog = OpenCatalog();
    EXPECT_TRUE(catalog.ok()) << catalog.status();
    Multiplier drum = *MakeBuiltin("drum:k=4");
    auto m = Multiplier::Create("user:mine", Signedness::kSigned, drum.table());
    EXPECT_TRUE(m.ok());
    auto added = (*catalog)->AddUser({*m, "uploaded", "a test table", std::nullopt, std::nullopt});
    EXPECT_TRUE(added.ok() && *added) << added.status();
    const std::string base = dir_ + "/user_multipliers/mine";
    return {base + ".json", base + ".i32"};
  }

  void ExpectDamaged(const std::string& file, const std::string& why) {
    auto catalog = OpenCatalog();
    ASSERT_FALSE(catalog.ok());
    EXPECT_EQ(catalog.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(catalog.status().message()), HasSubstr(file));
    EXPECT_THAT(std::string(catalog.status().message()), HasSubstr(why));
  }

  std::string dir_;
};

TEST_F(PowerCatalogStateTest, UserTablesSurviveARestart) {
  StoreOne();
  auto catalog = OpenCatalog();
  ASSERT_TRUE(catalog.ok()) << catalog.status();
  auto entry = (*catalog)->Get("user:mine");
  ASSERT_TRUE(entry.ok()) << entry.status();
  EXPECT_EQ(entry->multiplier.content_hash(), MakeBuiltin("drum:k=4")->content_hash());
  EXPECT_EQ(entry->description, "a test table");
}

TEST_F(PowerCatalogStateTest, DamagedRecordsAreRefusedNamingTheFile) {
  auto [json, table] = StoreOne();
  std::ofstream(json) << "{not json";
  ExpectDamaged(json, "not a user multiplier record");
  std::ofstream(json) << R"({"id": "user:mine", "signed": "yes"})";
  ExpectDamaged(json, "not a user multiplier record");
  std::ofstream(json) << R"({"id": "evo:mine", "signed": true})";
  ExpectDamaged(json, "user:");
  std::ofstream(json) << R"({"id": "user:mine", "signed": true, "description": 7})";
  ExpectDamaged(json, "type must be string");
}

TEST_F(PowerCatalogStateTest, DamagedTablesAreRefusedNamingTheFile) {
  auto [json, table] = StoreOne();
  fs::resize_file(table, 1000);
  ExpectDamaged(table, "wrong-sized table (1000 bytes");
  fs::remove(table);
  ExpectDamaged(table, "missing or wrong-sized table");
  std::ofstream(table, std::ios::binary) << std::string(4 * kTableSize, '\x01');
  ExpectDamaged(table, "does not match the content hash");
}

}  // namespace
}  // namespace transaxx::approx
