// The RTL of the built-in multipliers: its interface and structure, and —
// through Yosys — that the synthesized gate netlist computes exactly the
// C++ table of MakeBuiltin(id) on all 65,536 operand pairs.
#include "libs/approx/hardware/verilog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "libs/approx/builtin.h"
#include "libs/approx/hardware/netlist.h"
#include "libs/approx/hardware/synthesis.h"
#include "tests/approx/hardware/hardware_test_util.h"

namespace transaxx::approx::hardware {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Rtl(const std::string& id) {
  absl::StatusOr<std::string> verilog = BuiltinVerilog(id);
  EXPECT_TRUE(verilog.ok()) << verilog.status();
  return verilog.ok() ? *verilog : "";
}

TEST(BuiltinVerilogTest, EveryDefaultBuiltinHasTheMultInterface) {
  for (const std::string& id : DefaultBuiltinIds()) {
    EXPECT_THAT(Rtl(id), HasSubstr("module mult(input [7:0] a, input [7:0] b, output [15:0] p);"))
        << id;
  }
}

TEST(BuiltinVerilogTest, WidensPOnlyWhereProductsLeaveInt16) {
  // drum:k=2 turns 128 into 3 * 2^6 = 192, and 192 * 192 = 36864.
  EXPECT_THAT(Rtl("drum:k=2"), HasSubstr("output [16:0] p"));
  EXPECT_THAT(Rtl("drum:k=3"), HasSubstr("output [15:0] p"));
}

TEST(BuiltinVerilogTest, AcceptsAnySpellingAndRefusesBadIds) {
  EXPECT_EQ(Rtl("mask:b=1,a=1"), Rtl("mask:a=1,b=1"));
  for (const char* bad : {"nosuch", "drum:k=1", "mask:a=2", "perf:m=4,j=6", ""}) {
    EXPECT_EQ(BuiltinVerilog(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(BuiltinVerilogTest, IsTheCircuitOfThePaperNotATable) {
  // Baugh-Wooley: partial products with one sign bit enter complemented.
  EXPECT_THAT(Rtl("exact"), HasSubstr("~(a[7] & b[0])"));
  // Masking removes the rows and columns of the cleared bits.
  EXPECT_THAT(Rtl("mask:a=1"), Not(HasSubstr("a[0]")));
  EXPECT_THAT(Rtl("mask:a=1"), HasSubstr("b[0]"));
  // BAM with h = 2 has no partial products of y[0] and y[1]; v = 8 removes
  // x[0] & y[2] (weight 2^2) but keeps x[6] & y[2] (weight 2^8).
  const std::string bam = Rtl("bam:h=2,v=8");
  EXPECT_THAT(bam, Not(HasSubstr("& y[0]")));
  EXPECT_THAT(bam, Not(HasSubstr("& y[1]")));
  EXPECT_THAT(bam, Not(HasSubstr("x[0] & y[2]")));
  EXPECT_THAT(bam, HasSubstr("x[6] & y[2]"));
  EXPECT_THAT(Rtl("perf:m=2,j=3"), Not(HasSubstr("& y[3]")));
  EXPECT_THAT(Rtl("drum:k=4"), HasSubstr("kept_x[3] & kept_y[3]"));  // the 4x4 core
  EXPECT_THAT(Rtl("mitchell"), HasSubstr("characteristic"));
  EXPECT_THAT(Rtl("roba"), HasSubstr("rounded_product"));
  EXPECT_THAT(Rtl("kulkarni"), HasSubstr("module kulkarni_block2"));
  for (const std::string& id : DefaultBuiltinIds()) {
    EXPECT_THAT(Rtl(id), Not(HasSubstr("case"))) << id;
  }
}

TEST(BuiltinVerilogTest, ExactUnsignedIsAnAndArray) {
  EXPECT_EQ(ExactVerilog(Signedness::kSigned), Rtl("exact"));
  EXPECT_THAT(ExactVerilog(Signedness::kUnsigned), HasSubstr("a[7] & b[7]"));
  EXPECT_THAT(ExactVerilog(Signedness::kUnsigned), Not(HasSubstr("~")));
}

// Synthesizes the RTL and simulates the gates on every operand pair.
class NetlistEqualsTableTest : public ::testing::TestWithParam<std::string> {};

TEST_P(NetlistEqualsTableTest, OnAllOperandPairs) {
  TRANSAXX_REQUIRE_YOSYS();
  absl::StatusOr<Multiplier> multiplier = MakeBuiltin(GetParam());
  ASSERT_TRUE(multiplier.ok()) << multiplier.status();
  absl::StatusOr<SynthesisResult> synthesized = SynthesizeBuiltin(GetParam(), SynthesisOptions());
  ASSERT_TRUE(synthesized.ok()) << synthesized.status();
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(synthesized->netlist_json);
  ASSERT_TRUE(netlist.ok()) << netlist.status();
  EXPECT_EQ(netlist->cells(), synthesized->cells);
  const Table gates = netlist->Evaluate(Signedness::kSigned);
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      ASSERT_EQ(gates[TableIndex(a, b)], (*multiplier)(a, b)) << "a = " << a << ", b = " << b;
    }
  }
  // Glitches only add transitions to the functional ones.
  std::vector<std::pair<uint8_t, uint8_t>> operands;
  for (int i = 0; i < 1000; ++i) {
    operands.push_back({static_cast<uint8_t>(i * 97 + 13), static_cast<uint8_t>(i * 61 + 5)});
  }
  EXPECT_GE(netlist->SwitchedLoad(operands, DelayModel::kUnitDelay),
            netlist->SwitchedLoad(operands, DelayModel::kZeroDelay));
}

INSTANTIATE_TEST_SUITE_P(EveryFamily, NetlistEqualsTableTest,
                         ::testing::Values("exact", "mask:a=1", "mask:b=1", "mask:a=1,b=1",
                                           "mask:a=3,b=3", "mask:a=7", "mask:a=7,b=7",
                                           "mask:a=15,b=63", "mask:a=127,b=127", "bam:h=0,v=0",
                                           "bam:h=0,v=6", "bam:h=2,v=8", "bam:h=3,v=16",
                                           "bam:h=8,v=0", "perf:m=1", "perf:m=2,j=3",
                                           "perf:m=1,j=7", "perf:m=8", "drum:k=2", "drum:k=3",
                                           "drum:k=4", "drum:k=5", "drum:k=6", "drum:k=7",
                                           "drum:k=8", "mitchell", "roba", "kulkarni"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace transaxx::approx::hardware
