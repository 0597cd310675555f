#include "libs/approx/table_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kEvoDir = TRANSAXX_EVOAPPROX_DIR;

// A fresh directory per test, removed afterwards.
class TableIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("table_io_", info->name(), "_", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `contents` to a file named `name` in the test's directory.
  std::string Write(const std::string& name, const std::string& contents) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  std::filesystem::path dir_;
};

// Expects `status` to be INVALID_ARGUMENT naming `path` and `problem`.
void ExpectRefused(const absl::Status& status, const std::string& path, const std::string& problem,
                   absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(path), HasSubstr(problem)));
}

// --- EvoApprox .lut -----------------------------------------------------------

std::vector<std::string> SharedLutNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kEvoDir)) {
    if (entry.path().extension() == ".lut") names.push_back(entry.path().stem().string());
  }
  return names;
}

TEST_F(TableIoTest, ReadsEverySharedLut) {
  const std::vector<std::string> names = SharedLutNames();
  EXPECT_EQ(names.size(), 19u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    absl::StatusOr<Signedness> s = SignednessFromEvoName(name);
    ASSERT_TRUE(s.ok()) << s.status();
    absl::StatusOr<Table> t = ReadEvoApproxLut(kEvoDir + "/" + name + ".lut", *s);
    ASSERT_TRUE(t.ok()) << t.status();
    // Every entry is a product of two 8-bit operands give or take the error,
    // far inside the 16-bit word: a misread sign or byte order would not be.
    const int lo = *s == Signedness::kSigned ? -128 : 0;
    for (int a = lo; a < lo + 256; ++a) {
      for (int b = lo; b < lo + 256; ++b) {
        ASSERT_LE(std::abs((*t)[TableIndex(a, b)] - a * b), 10000) << a << "*" << b;
      }
    }
  }
}

// The exact circuits of the release and the operand-masking ones the
// README names, entry by entry: int16 vs uint16 words, byte order and the
// [A][B] layout all show.
TEST_F(TableIoTest, SharedLutsHoldTheCircuitsProducts) {
  absl::StatusOr<Table> s = ReadEvoApproxLut(kEvoDir + "/mul8s_1KV6.lut", Signedness::kSigned);
  absl::StatusOr<Table> u = ReadEvoApproxLut(kEvoDir + "/mul8u_1JJQ.lut", Signedness::kUnsigned);
  absl::StatusOr<Table> a1 = ReadEvoApproxLut(kEvoDir + "/mul8s_1KXF.lut", Signedness::kSigned);
  ASSERT_TRUE(s.ok() && u.ok() && a1.ok());
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      ASSERT_EQ((*s)[TableIndex(a, b)], a * b);
      ASSERT_EQ((*a1)[TableIndex(a, b)], (a & ~7) * b) << a << "*" << b;  // asymmetric
    }
  }
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) ASSERT_EQ((*u)[TableIndex(a, b)], a * b);
  }
  EXPECT_EQ((*u)[TableIndex(255, 255)], 65025);  // above int16
  EXPECT_EQ((*s)[TableIndex(-128, 127)], -16256);
}

TEST_F(TableIoTest, LutMissingFileIsNotFound) {
  const std::string path = (dir_ / "mul8s_none.lut").string();
  ExpectRefused(ReadEvoApproxLut(path, Signedness::kSigned).status(), path, "No such file",
                absl::StatusCode::kNotFound);
}

TEST_F(TableIoTest, LutOfTheWrongSizeIsRefused) {
  const std::string good(kEvoApproxLutBytes, '\0');
  const std::string truncated = Write("truncated.lut", good.substr(0, kEvoApproxLutBytes - 1));
  ExpectRefused(ReadEvoApproxLut(truncated, Signedness::kSigned).status(), truncated,
                "131071 bytes, but an EvoApprox table is exactly 131072 bytes");
  ExpectRefused(ReadEvoApproxLut(truncated, Signedness::kSigned).status(), truncated, "truncated");

  const std::string oversized = Write("oversized.lut", good + "x");
  ExpectRefused(ReadEvoApproxLut(oversized, Signedness::kUnsigned).status(), oversized,
                "131073 bytes");
  ExpectRefused(ReadEvoApproxLut(oversized, Signedness::kUnsigned).status(), oversized,
                "too large");

  const std::string empty = Write("empty.lut", "");
  ExpectRefused(ReadEvoApproxLut(empty, Signedness::kSigned).status(), empty, "0 bytes");

  ExpectRefused(ReadEvoApproxLut(dir_.string(), Signedness::kSigned).status(), dir_.string(),
                "not a regular file");
}

TEST_F(TableIoTest, LutWordsAreLittleEndianAndSignedAsAsked) {
  std::string bytes(kEvoApproxLutBytes, '\0');
  // Entry [A=1][B=2] (word 258) = 0xFFFE; entry [0][1] = 0x0102.
  bytes[2 * 258] = '\xFE';
  bytes[2 * 258 + 1] = '\xFF';
  bytes[2] = '\x02';
  bytes[3] = '\x01';
  const std::string path = Write("words.lut", bytes);
  absl::StatusOr<Table> s = ReadEvoApproxLut(path, Signedness::kSigned);
  absl::StatusOr<Table> u = ReadEvoApproxLut(path, Signedness::kUnsigned);
  ASSERT_TRUE(s.ok() && u.ok());
  EXPECT_EQ((*s)[TableIndex(1, 2)], -2);
  EXPECT_EQ((*u)[TableIndex(1, 2)], 65534);
  EXPECT_EQ((*s)[TableIndex(0, 1)], 0x0102);
}

TEST_F(TableIoTest, SignednessFromEvoName) {
  EXPECT_EQ(*SignednessFromEvoName("mul8s_1L2J"), Signedness::kSigned);
  EXPECT_EQ(*SignednessFromEvoName("mul8u_GJM"), Signedness::kUnsigned);
  const absl::Status bad = SignednessFromEvoName("add8u_0FP").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("add8u_0FP"));
}

// --- Published figures (JSON) --------------------------------------------------

TEST_F(TableIoTest, ReadsTheSharedPublishedFigures) {
  absl::StatusOr<std::vector<PublishedFigures>> all =
      ReadPublishedFigures(kEvoDir + "/multipliers.json");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 19u);
  const PublishedFigures* l2j = nullptr;
  for (const PublishedFigures& p : *all) {
    if (p.name == "mul8s_1L2J") l2j = &p;
    EXPECT_EQ(p.is_signed, *SignednessFromEvoName(p.name) == Signedness::kSigned) << p.name;
    EXPECT_TRUE(p.power_mw.has_value()) << p.name;
  }
  ASSERT_NE(l2j, nullptr);
  EXPECT_TRUE(l2j->is_signed);
  EXPECT_EQ(*l2j->mae, 53.0);
  EXPECT_EQ(*l2j->wce, 255.0);
  EXPECT_EQ(*l2j->power_mw, 0.301);
  EXPECT_EQ(*l2j->area_um2, 558.9);
  EXPECT_EQ(*l2j->delay_ns, 1.36);
  EXPECT_EQ(*l2j->error_rank, 2);
  EXPECT_THAT(l2j->source, HasSubstr("EvoApproxLib"));
}

TEST_F(TableIoTest, PublishedFiguresMayOmitFiguresAndSignedness) {
  const std::string path = Write("ok.json", R"([
    {"name": "mul8u_X", "mae": 1, "mse": null},
    {"name": "custom", "signed": true, "error_rank": 3, "source": "lab"}
  ])");
  absl::StatusOr<std::vector<PublishedFigures>> all = ReadPublishedFigures(path);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_FALSE((*all)[0].is_signed);
  EXPECT_EQ((*all)[0].mae, 1.0);
  EXPECT_FALSE((*all)[0].mse.has_value());
  EXPECT_FALSE((*all)[0].power_mw.has_value());
  EXPECT_TRUE((*all)[1].is_signed);
  EXPECT_EQ((*all)[1].error_rank, 3);
  EXPECT_EQ((*all)[1].source, "lab");

  const std::string empty = Write("empty.json", "[]");
  ASSERT_TRUE(ReadPublishedFigures(empty).ok());
  EXPECT_TRUE(ReadPublishedFigures(empty)->empty());
}

TEST_F(TableIoTest, MalformedPublishedFiguresAreRefused) {
  struct Case {
    const char* file;
    const char* json;
    const char* problem;
  };
  const Case cases[] = {
      {"syntax.json", R"([{"name": "mul8s_A",}])", "not valid JSON"},
      {"empty.json", "", "not valid JSON"},
      {"object.json", R"({"name": "mul8s_A"})", "top level must be an array"},
      {"not_object.json", R"([{"name": "mul8s_A"}, 7])", "record 1: must be an object"},
      {"no_name.json", R"([{"signed": true}])", "record 0: field \"name\" must be a non-empty"},
      {"name_number.json", R"([{"name": 5}])",
       "field \"name\" must be a non-empty string, found number"},
      {"name_empty.json", R"([{"name": ""}])", "field \"name\" must be a non-empty string"},
      {"power_string.json", R"([{"name": "mul8s_A", "power_mw": "0.3"}])",
       "record 0 (\"mul8s_A\"): field \"power_mw\" must be a number, found string"},
      {"signed_string.json", R"([{"name": "mul8s_A", "signed": "yes"}])",
       "field \"signed\" must be true or false"},
      {"rank_float.json", R"([{"name": "mul8s_A", "error_rank": 2.5}])",
       "field \"error_rank\" must be an integer in 0..256"},
      {"rank_big.json", R"([{"name": "mul8s_A", "error_rank": 300}])",
       "field \"error_rank\" must be an integer in 0..256, found 300"},
      {"source_number.json", R"([{"name": "mul8s_A", "source": 1}])",
       "field \"source\" must be a string"},
      {"negative_power.json", R"([{"name": "mul8s_A"}, {"name": "mul8u_B", "power_mw": -0.1}])",
       "record 1 (\"mul8u_B\"): field \"power_mw\" must not be negative"},
      {"negative_mae.json", R"([{"name": "mul8s_A", "mae": -1}])",
       "field \"mae\" must not be negative"},
      {"unknown.json", R"([{"name": "mul8s_A", "power_mW": 0.3}])", "unknown field \"power_mW\""},
      {"duplicate.json", R"([{"name": "mul8s_A"}, {"name": "mul8s_B"}, {"name": "mul8s_A"}])",
       "record 2 (\"mul8s_A\"): duplicate name, first in record 0"},
      {"contradiction.json", R"([{"name": "mul8s_A", "signed": false}])",
       "\"signed\" is false but the name says signed"},
      {"no_signedness.json", R"([{"name": "custom"}])", "field \"signed\" is missing"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = Write(c.file, c.json);
    ExpectRefused(ReadPublishedFigures(path).status(), path, c.problem);
  }
  const std::string absent = (dir_ / "absent.json").string();
  ExpectRefused(ReadPublishedFigures(absent).status(), absent, "No such file",
                absl::StatusCode::kNotFound);
}

// --- CSV tables ---------------------------------------------------------------

// The CSV lines of the exact table, without a header.
std::string ExactCsv(Signedness s) {
  const int lo = s == Signedness::kSigned ? -128 : 0;
  std::string csv;
  for (int a = lo; a < lo + 256; ++a) {
    for (int b = lo; b < lo + 256; ++b) absl::StrAppend(&csv, a, ",", b, ",", a * b, "\n");
  }
  return csv;
}

TEST_F(TableIoTest, CsvRoundTripsEverySharedLut) {
  for (const std::string& name : SharedLutNames()) {
    SCOPED_TRACE(name);
    const Signedness s = *SignednessFromEvoName(name);
    absl::StatusOr<Table> lut = ReadEvoApproxLut(kEvoDir + "/" + name + ".lut", s);
    ASSERT_TRUE(lut.ok()) << lut.status();
    absl::StatusOr<Multiplier> m = Multiplier::Create("evo:" + name, s, *lut);
    ASSERT_TRUE(m.ok()) << m.status();
    const std::string path = (dir_ / (name + ".csv")).string();
    ASSERT_TRUE(WriteCsvTable(path, *m).ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    absl::StatusOr<Table> back = ReadCsvTable(path, s);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == *lut);
    absl::StatusOr<Multiplier> again = Multiplier::Create("csv:" + name, s, *back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->content_hash(), m->content_hash());
  }
}

TEST_F(TableIoTest, CsvAcceptsAnyOrderCrlfBlankLinesAndSpaces) {
  std::string csv = "a, b, product\r\n\r\n";
  // Descending order, spaces around fields, CRLF line ends.
  for (int a = 255; a >= 0; --a) {
    for (int b = 255; b >= 0; --b) absl::StrAppend(&csv, " ", a, " , ", b, ",", a * b + 1, "\r\n");
  }
  const std::string path = Write("loose.csv", csv);
  absl::StatusOr<Table> t = ReadCsvTable(path, Signedness::kUnsigned);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[TableIndex(255, 3)], 766);
  EXPECT_EQ((*t)[TableIndex(0, 0)], 1);
}

TEST_F(TableIoTest, CsvExtremeProductsFitInt32) {
  const std::string csv = absl::StrReplaceAll("a,b,product\n" + ExactCsv(Signedness::kSigned),
                                              {{"\n-128,-128,16384\n", "\n-128,-128,-2147483648\n"},
                                               {"\n127,127,16129\n", "\n127,127,2147483647\n"}});
  const std::string path = Write("extreme.csv", csv);
  absl::StatusOr<Table> t = ReadCsvTable(path, Signedness::kSigned);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)[TableIndex(-128, -128)], std::numeric_limits<int32_t>::min());
  EXPECT_EQ((*t)[TableIndex(127, 127)], std::numeric_limits<int32_t>::max());
}

TEST_F(TableIoTest, MalformedCsvTablesAreRefused) {
  const std::string exact_s = ExactCsv(Signedness::kSigned);
  const std::string exact_u = ExactCsv(Signedness::kUnsigned);
  // Line 1 is the header; the pair (a, b) of the signed table is on line
  // 2 + (a + 128)·256 + (b + 128).
  const std::string header = "a,b,product\n";
  struct Case {
    const char* file;
    Signedness signedness;
    std::string csv;
    const char* problem;
  };
  const Case cases[] = {
      {"bad_number.csv", Signedness::kSigned,
       header + absl::StrReplaceAll(exact_s, {{"\n0,5,0\n", "\n0,5,zero\n"}}),
       ":32903: product is not a decimal integer: \"zero\""},
      {"bad_operand.csv", Signedness::kSigned,
       header + absl::StrReplaceAll(exact_s, {{"\n0,5,0\n", "\n0,5x,0\n"}}),
       ":32903: operand b is not a decimal integer: \"5x\""},
      {"signed_out_of_range.csv", Signedness::kSigned, header + "128,0,0\n" + exact_s,
       ":2: operand a 128 is out of the range -128..127"},
      {"unsigned_negative.csv", Signedness::kUnsigned, exact_u + "-1,0,0\n",
       ":65537: operand a -1 is out of the range 0..255"},
      {"unsigned_too_large.csv", Signedness::kUnsigned, "3,256,768\n" + exact_u,
       ":1: operand b 256 is out of the range 0..255"},
      {"product_range.csv", Signedness::kUnsigned, "0,0,2147483648\n",
       ":1: product 2147483648 is out of the range of int32"},
      {"product_huge.csv", Signedness::kUnsigned, "0,0,-99999999999999999999\n",
       ":1: product -99999999999999999999 is out of the range of int32"},
      {"duplicate.csv", Signedness::kSigned, header + exact_s + "-128,-127,16256\n",
       ":65538: duplicate pair a=-128, b=-127, first given on line 3"},
      {"fields.csv", Signedness::kUnsigned, "1,2,2,0\n", ":1: expected 3 comma-separated fields"},
      {"missing.csv", Signedness::kSigned,
       header + absl::StrReplaceAll(exact_s, {{"\n5,-7,-35\n", "\n"}, {"\n9,9,81\n", "\n"}}),
       "2 of the 65536 operand pairs are missing (the first is a=5, b=-7)"},
      // Cut in the middle of a line: the last line lacks its product.
      {"truncated_mid_line.csv", Signedness::kUnsigned, exact_u.substr(0, exact_u.size() - 7),
       ":65536: expected 3 comma-separated fields a,b,product, found 2"},
      // Cut at a line end: the last lines are missing.
      {"truncated.csv", Signedness::kUnsigned, exact_u.substr(0, exact_u.rfind("255,200,")),
       "56 of the 65536 operand pairs are missing (the first is a=255, b=200)"},
      {"header_only.csv", Signedness::kSigned, header,
       "65536 of the 65536 operand pairs are missing (the first is a=-128, b=-128)"},
      {"empty.csv", Signedness::kUnsigned, "", "65536 of the 65536 operand pairs are missing"},
      {"late_header.csv", Signedness::kUnsigned, exact_u + header,
       ":65537: operand a is not a decimal integer: \"a\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = Write(c.file, c.csv);
    ExpectRefused(ReadCsvTable(path, c.signedness).status(), path, c.problem);
  }
  const std::string absent = (dir_ / "absent.csv").string();
  ExpectRefused(ReadCsvTable(absent, Signedness::kSigned).status(), absent, "No such file",
                absl::StatusCode::kNotFound);
}

TEST_F(TableIoTest, WritingIntoAMissingDirectoryFails) {
  absl::StatusOr<Table> lut = ReadEvoApproxLut(kEvoDir + "/mul8s_1KV6.lut", Signedness::kSigned);
  ASSERT_TRUE(lut.ok());
  absl::StatusOr<Multiplier> m = Multiplier::Create("evo:mul8s_1KV6", Signedness::kSigned, *lut);
  ASSERT_TRUE(m.ok());
  const std::string path = (dir_ / "no" / "such" / "t.csv").string();
  const absl::Status s = WriteCsvTable(path, *m);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(path));
}

}  // namespace
}  // namespace transaxx::approx
