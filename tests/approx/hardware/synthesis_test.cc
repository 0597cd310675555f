// Synthesis with Yosys: sensible counts, the cache, user Verilog checked
// against its table, and every failure mapped to its status code.
#include "libs/approx/hardware/synthesis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "libs/approx/builtin.h"
#include "libs/approx/hardware/verilog.h"
#include "libs/approx/table_io.h"
#include "tests/approx/hardware/hardware_test_util.h"

namespace transaxx::approx::hardware {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

Multiplier Builtin(const std::string& id) {
  absl::StatusOr<Multiplier> m = MakeBuiltin(id);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::vector<fs::path> Files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
  return files;
}

constexpr char kMaskA1Verilog[] =
    "module mult(input [7:0] a, input [7:0] b, output [15:0] p);\n"
    "  assign p = $signed(a & 8'hfe) * $signed(b);\n"
    "endmodule\n";

TEST(SynthesisTest, ExactAndMaskedMultipliersGetSensibleCounts) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<SynthesisResult> exact = SynthesizeBuiltin("exact", SynthesisOptions());
  ASSERT_TRUE(exact.ok()) << exact.status();
  // An 8x8 array multiplier: 64 partial products and about 50 full adders
  // of a dozen gates each, roughly 300 to 500 simple gates.
  EXPECT_GT(exact->cells, 200);
  EXPECT_LT(exact->cells, 800);
  // Between 4 (NAND) and 12 (XOR, MUX) transistors per gate.
  EXPECT_GE(exact->transistors, 4 * exact->cells);
  EXPECT_LE(exact->transistors, 12 * exact->cells);
  EXPECT_THAT(exact->netlist_json, HasSubstr("\"$_XOR_\""));

  absl::StatusOr<SynthesisResult> masked = SynthesizeBuiltin("mask:a=7,b=7", SynthesisOptions());
  ASSERT_TRUE(masked.ok()) << masked.status();
  // A 5x5 array instead of 8x8: about 25/64 of the partial products.
  EXPECT_GT(masked->transistors, exact->transistors / 5);
  EXPECT_LT(masked->transistors, exact->transistors * 3 / 5);
  EXPECT_GT(masked->cells, 0);
}

TEST(SynthesisTest, UnsignedExactMultiplierIsCheckedAgainstTheUnsignedTable) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<SynthesisResult> exact = SynthesizeExact(Signedness::kUnsigned, {});
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_GT(exact->transistors, 1000);
}

TEST(SynthesisTest, SecondRunComesFromTheCacheWithoutYosys) {
  TRANSAXX_REQUIRE_YOSYS();
  SynthesisOptions options;
  options.cache_dir = (FreshDir("cache") / "nested").string();  // created on demand
  absl::StatusOr<SynthesisResult> first = SynthesizeBuiltin("mask:a=1", options);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::vector<fs::path> files = Files(options.cache_dir);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".json");
  EXPECT_EQ(files[0].stem().string().size(), 64u);  // a SHA-256 in hex

  // With no Yosys to run, only the cache can answer.
  options.yosys = "/nonexistent/bin/yosys";
  absl::StatusOr<SynthesisResult> second = SynthesizeBuiltin("mask:a=1", options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->cells, first->cells);
  EXPECT_EQ(second->transistors, first->transistors);
  EXPECT_EQ(second->netlist_json, first->netlist_json);
  // Another multiplier is another key.
  EXPECT_EQ(SynthesizeBuiltin("mask:b=1", options).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // User Verilog with the same table is another circuit: another key too.
  EXPECT_EQ(SynthesizeUserVerilog(kMaskA1Verilog, "", Builtin("mask:a=1"), options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SynthesisTest, DamagedCacheEntryIsRecomputed) {
  TRANSAXX_REQUIRE_YOSYS();
  SynthesisOptions options;
  options.cache_dir = FreshDir("damaged").string();
  absl::StatusOr<SynthesisResult> first = SynthesizeBuiltin("mask:a=3,b=3", options);
  ASSERT_TRUE(first.ok()) << first.status();
  const fs::path entry = Files(options.cache_dir).at(0);
  std::ofstream(entry, std::ios::trunc) << "{\"cells\": 1";
  absl::StatusOr<SynthesisResult> again = SynthesizeBuiltin("mask:a=3,b=3", options);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->transistors, first->transistors);
  options.yosys = "/nonexistent/bin/yosys";  // The entry was rewritten.
  EXPECT_TRUE(SynthesizeBuiltin("mask:a=3,b=3", options).ok());
}

TEST(SynthesisTest, MissingYosysIsFailedPreconditionSayingWhatToInstall) {
  SynthesisOptions options;
  for (const char* yosys : {"/nonexistent/bin/yosys", "transaxx-no-such-yosys"}) {
    options.yosys = yosys;
    const absl::Status status = SynthesizeBuiltin("exact", options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << yosys;
    EXPECT_THAT(status.message(), HasSubstr(yosys));
    EXPECT_THAT(status.message(), HasSubstr("install the Debian package yosys"));
  }
}

TEST(SynthesisTest, ReportsTheYosysVersion) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<std::string> version = YosysVersion({});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_THAT(*version, ::testing::StartsWith("Yosys "));
  SynthesisOptions missing;
  missing.yosys = "/nonexistent/bin/yosys";
  EXPECT_EQ(YosysVersion(missing).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SynthesisTest, YosysRunningPastTheTimeoutIsKilled) {
  // A stand-in that never finishes on its own.
  const fs::path fake = FreshDir("fake") / "yosys";
  std::ofstream(fake) << "#!/bin/sh\n/bin/sleep 600\n";
  fs::permissions(fake, fs::perms::owner_all);
  SynthesisOptions options;
  options.yosys = fake.string();
  options.timeout = absl::Milliseconds(100);
  const absl::Status status = SynthesizeBuiltin("exact", options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(status.message(), HasSubstr("100ms"));
}

TEST(SynthesisTest, MalformedVerilogIsInvalidArgumentWithYosysMessage) {
  TRANSAXX_REQUIRE_YOSYS();
  const absl::Status status = SynthesizeUserVerilog(
                                  "module mult(input [7:0] a, input [7:0] b, output [15:0] p);\n"
                                  "  assign p = a * ;\nendmodule\n",
                                  "", Builtin("exact"), {})
                                  .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("Yosys rejected the design"));
  EXPECT_THAT(status.message(), HasSubstr("ERROR"));
  EXPECT_THAT(status.message(), HasSubstr("syntax error"));
}

TEST(SynthesisTest, VerilogWithoutTheMultiplierPortsIsInvalidArgument) {
  TRANSAXX_REQUIRE_YOSYS();
  const absl::Status one_bit =
      SynthesizeUserVerilog("module other(input a, output p);\n  assign p = a;\nendmodule\n", "",
                            Builtin("exact"), {})
          .status();
  EXPECT_EQ(one_bit.code(), absl::StatusCode::kInvalidArgument) << one_bit;
  EXPECT_THAT(one_bit.message(), HasSubstr("input [7:0] a"));
  const absl::Status narrow_a = SynthesizeUserVerilog(
                                    "module mult(input [3:0] a, input [7:0] b, output [15:0] p);\n"
                                    "  assign p = a * b;\nendmodule\n",
                                    "", Builtin("exact"), {})
                                    .status();
  EXPECT_EQ(narrow_a.code(), absl::StatusCode::kInvalidArgument) << narrow_a;
  EXPECT_THAT(narrow_a.message(), HasSubstr("input [7:0] a"));
}

// mask:a=1 as a user would write it: a top module of any name built from a
// helper module.
constexpr char kHierarchicalMaskA1Verilog[] =
    "module clear_lsb(input [7:0] x, output [7:0] y);\n"
    "  assign y = {x[7:1], 1'b0};\n"
    "endmodule\n"
    "module my_mul(input [7:0] a, input [7:0] b, output [15:0] p);\n"
    "  wire [7:0] a_cleared;\n"
    "  clear_lsb c(.x(a), .y(a_cleared));\n"
    "  assign p = $signed(a_cleared) * $signed(b);\n"
    "endmodule\n";

TEST(SynthesisTest, TopModuleOfAnyNameIsNamedOrFoundAndCheckedAgainstTheTable) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<SynthesisResult> named =
      SynthesizeUserVerilog(kHierarchicalMaskA1Verilog, "my_mul", Builtin("mask:a=1"), {});
  ASSERT_TRUE(named.ok()) << named.status();
  absl::StatusOr<SynthesisResult> found =
      SynthesizeUserVerilog(kHierarchicalMaskA1Verilog, "", Builtin("mask:a=1"), {});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->cells, named->cells);
  EXPECT_EQ(found->transistors, named->transistors);

  // Naming the helper synthesizes the helper, whose ports do not fit.
  const absl::Status helper =
      SynthesizeUserVerilog(kHierarchicalMaskA1Verilog, "clear_lsb", Builtin("mask:a=1"), {})
          .status();
  EXPECT_EQ(helper.code(), absl::StatusCode::kInvalidArgument) << helper;
  EXPECT_THAT(helper.message(), HasSubstr("input [7:0] a"));
  const absl::Status missing =
      SynthesizeUserVerilog(kHierarchicalMaskA1Verilog, "mult", Builtin("mask:a=1"), {}).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument) << missing;
  EXPECT_THAT(missing.message(), HasSubstr("Yosys rejected the design"));
  EXPECT_THAT(missing.message(), HasSubstr("mult"));
  // A found top that computes another table says it was found, not named.
  const absl::Status other =
      SynthesizeUserVerilog(kHierarchicalMaskA1Verilog, "", Builtin("exact"), {}).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kInvalidArgument) << other;
  EXPECT_THAT(other.message(), HasSubstr("chosen automatically"));
}

TEST(SynthesisTest, TopModuleThatIsNoIdentifierIsRefusedBeforeYosysRuns) {
  SynthesisOptions no_yosys;
  no_yosys.yosys = "/nonexistent/bin/yosys";
  for (const char* top : {"my mul", "mult\nshell rm -rf x", "1mult", "a;b", "m-ult"}) {
    const absl::Status status =
        SynthesizeUserVerilog(kMaskA1Verilog, top, Builtin("mask:a=1"), no_yosys).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << top;
    EXPECT_THAT(status.message(), HasSubstr("not a Verilog identifier")) << top;
  }
  EXPECT_EQ(SynthesizeUserVerilog(kMaskA1Verilog, std::string(300, 'm'), Builtin("mask:a=1"),
                                  no_yosys)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SynthesisTest, SequentialVerilogIsInvalidArgument) {
  TRANSAXX_REQUIRE_YOSYS();
  const absl::Status status =
      SynthesizeUserVerilog(
          "module mult(input clk, input [7:0] a, input [7:0] b,\n"
          "            output reg [15:0] p);\n"
          "  always @(posedge clk) p <= $signed(a) * $signed(b);\nendmodule\n",
          "", Builtin("exact"), {})
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("combinational"));
}

TEST(SynthesisTest, UserVerilogThatDiffersFromItsTableIsRefusedNamingTheOperands) {
  TRANSAXX_REQUIRE_YOSYS();
  // (a & ~1) * b is not the exact product; the first pair in table order
  // where they differ is a = 1, b = 1.
  const absl::Status status = SynthesizeUserVerilog(kMaskA1Verilog, "", Builtin("exact"), {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("'exact'"));
  EXPECT_THAT(status.message(), HasSubstr("for a = 1, b = 1 it gives 0 where the table has 1"));
}

TEST(SynthesisTest, UserVerilogOfAnEvoApproxTableIsAccepted) {
  TRANSAXX_REQUIRE_YOSYS();
  // mul8s_1L2J clears bit 0 of both operands.
  absl::StatusOr<Table> table =
      ReadEvoApproxLut(TRANSAXX_EVOAPPROX_DIR "/mul8s_1L2J.lut", Signedness::kSigned);
  ASSERT_TRUE(table.ok()) << table.status();
  absl::StatusOr<Multiplier> evo =
      Multiplier::Create("evo:mul8s_1L2J", Signedness::kSigned, *table);
  ASSERT_TRUE(evo.ok());
  absl::StatusOr<SynthesisResult> result = SynthesizeUserVerilog(
      "module mult(input [7:0] a, input [7:0] b, output [15:0] p);\n"
      "  wire [7:0] x = {a[7:1], 1'b0}, y = {b[7:1], 1'b0};\n"
      "  assign p = $signed(x) * $signed(y);\nendmodule\n",
      "", *evo, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_GT(result->transistors, 0);
}

TEST(SynthesisTest, UnsignedUserVerilogIsReadAsUnsigned) {
  TRANSAXX_REQUIRE_YOSYS();
  const Multiplier exact = UnsignedExactMultiplier();
  EXPECT_TRUE(SynthesizeUserVerilog("module mult(input [7:0] a, input [7:0] b, output [15:0] p);\n"
                                    "  assign p = a * b;\nendmodule\n",
                                    "", exact, {})
                  .ok());
}

TEST(SynthesisTest, UserVerilogThatReadsFilesIsRefused) {
  for (const char* verilog : {"`include \"/etc/passwd\"\n", "initial $readmemh(\"x\", m);\n"}) {
    const absl::Status status = SynthesizeUserVerilog(verilog, "", Builtin("exact"), {}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << verilog;
    EXPECT_THAT(status.message(), HasSubstr("self-contained"));
  }
}

}  // namespace
}  // namespace transaxx::approx::hardware
