// The gate-level simulator on hand-written Yosys JSON netlists: every gate
// type, the reading of p, the refusal of netlists it cannot simulate, and
// the switched load with and without glitches. Needs no Yosys.
#include "libs/approx/hardware/netlist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace transaxx::approx::hardware {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// Yosys numbers nets from 2; a and b take 2..9 and 10..17 as in its output.
int A(int i) { return 2 + i; }
int B(int i) { return 10 + i; }

struct Cell {
  std::string type;
  std::vector<std::pair<std::string, Json>> pins;
};

// A Yosys-style JSON netlist of module "mult" with the given p bits (least
// significant first: net numbers or "0"/"1"/"x") and cells.
std::string Netlist(const std::vector<Json>& p_bits, const std::vector<Cell>& cells) {
  Json a = Json::array(), b = Json::array();
  for (int i = 0; i < 8; ++i) {
    a.push_back(A(i));
    b.push_back(B(i));
  }
  Json module;
  module["ports"] = {{"a", {{"direction", "input"}, {"bits", a}}},
                     {"b", {{"direction", "input"}, {"bits", b}}},
                     {"p", {{"direction", "output"}, {"bits", p_bits}}}};
  module["cells"] = Json::object();
  for (size_t i = 0; i < cells.size(); ++i) {
    Json connections = Json::object();
    for (const auto& [pin, bit] : cells[i].pins) connections[pin] = Json::array({bit});
    module["cells"]["$abc$" + std::to_string(i)] = {{"type", cells[i].type},
                                                    {"connections", connections}};
  }
  return Json{{"creator", "test"}, {"modules", {{"mult", module}}}}.dump();
}

// One gate of every supported type, each driving one bit of p; p[15] is
// a[7] itself, so p reads negative exactly when a is.
std::string EveryGateNetlist() {
  std::vector<Cell> cells = {
      {"$_AND_", {{"A", A(0)}, {"B", B(0)}, {"Y", 100}}},
      {"$_NAND_", {{"A", A(1)}, {"B", B(1)}, {"Y", 101}}},
      {"$_OR_", {{"A", A(2)}, {"B", B(2)}, {"Y", 102}}},
      {"$_NOR_", {{"A", A(3)}, {"B", B(3)}, {"Y", 103}}},
      {"$_XOR_", {{"A", A(4)}, {"B", B(4)}, {"Y", 104}}},
      {"$_XNOR_", {{"A", A(5)}, {"B", B(5)}, {"Y", 105}}},
      {"$_ANDNOT_", {{"A", A(6)}, {"B", B(6)}, {"Y", 106}}},
      {"$_ORNOT_", {{"A", A(7)}, {"B", B(7)}, {"Y", 107}}},
      {"$_MUX_", {{"A", A(0)}, {"B", B(0)}, {"S", A(1)}, {"Y", 108}}},
      {"$_NOT_", {{"A", A(2)}, {"Y", 109}}},
      {"$_BUF_", {{"A", B(3)}, {"Y", 110}}},
  };
  std::vector<Json> p;
  for (int net = 100; net <= 110; ++net) p.push_back(net);
  for (const char* constant : {"1", "0", "0", "0"}) p.push_back(constant);
  p.push_back(A(7));
  return Netlist(p, cells);
}

int64_t EveryGateProduct(int a, int b) {
  const auto bit = [](int v, int i) { return (v >> i) & 1; };
  const int bits[16] = {bit(a, 0) & bit(b, 0),
                        1 - (bit(a, 1) & bit(b, 1)),
                        bit(a, 2) | bit(b, 2),
                        1 - (bit(a, 3) | bit(b, 3)),
                        bit(a, 4) ^ bit(b, 4),
                        1 - (bit(a, 5) ^ bit(b, 5)),
                        bit(a, 6) & !bit(b, 6),
                        bit(a, 7) | !bit(b, 7),
                        bit(a, 1) ? bit(b, 0) : bit(a, 0),
                        !bit(a, 2),
                        bit(b, 3),
                        1,
                        0,
                        0,
                        0,
                        bit(a, 7)};
  int64_t p = 0;
  for (int i = 0; i < 16; ++i) p |= int64_t{bits[i]} << i;
  return p;
}

TEST(GateNetlistTest, SimulatesEveryGateTypeOnAllOperands) {
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(EveryGateNetlist());
  ASSERT_TRUE(netlist.ok()) << netlist.status();
  EXPECT_EQ(netlist->cells(), 11);
  EXPECT_EQ(netlist->output_width(), 16);
  const Table unsigned_p = netlist->Evaluate(Signedness::kUnsigned);
  const Table signed_p = netlist->Evaluate(Signedness::kSigned);
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const int64_t p = EveryGateProduct(a, b);
      ASSERT_EQ(unsigned_p[TableIndex(a, b)], p) << a << " " << b;
      ASSERT_EQ(signed_p[TableIndex(a, b)], a >= 128 ? p - 65536 : p) << a << " " << b;
    }
  }
}

TEST(GateNetlistTest, CheckEqualsNamesTheFirstDifferingOperands) {
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(EveryGateNetlist());
  ASSERT_TRUE(netlist.ok()) << netlist.status();
  Table table = netlist->Evaluate(Signedness::kSigned);
  absl::StatusOr<Multiplier> same = Multiplier::Create("user:gates", Signedness::kSigned, table);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(netlist->CheckEquals(*same).ok());

  const int32_t right = table[TableIndex(-3, 5)];
  table[TableIndex(-3, 5)] += 1;
  table[TableIndex(-2, 0)] += 1;  // A later index: not the first difference.
  absl::StatusOr<Multiplier> other = Multiplier::Create("user:other", Signedness::kSigned, table);
  ASSERT_TRUE(other.ok());
  const absl::Status status = netlist->CheckEquals(*other);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'user:other'"));
  EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("for a = -3, b = 5 it gives ", right,
                                                       " where the table has ", right + 1)));
  EXPECT_THAT(status.message(), HasSubstr("2 of 65536"));
}

TEST(GateNetlistTest, RefusesWhatItCannotSimulate) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not a Yosys JSON netlist"},
      {Json{{"modules", {{"other", Json::object()}}}}.dump(), "no module 'mult'"},
      {Netlist({100}, {{"$_DFF_P_", {{"C", A(0)}, {"D", B(0)}, {"Q", 100}}}}), "'$_DFF_P_'"},
      {Netlist({100}, {{"$_NOT_", {{"A", 101}, {"Y", 100}}}, {"$_NOT_", {{"A", 100}, {"Y", 101}}}}),
       "combinational loop"},
      {Netlist({100}, {{"$_NOT_", {{"A", 555}, {"Y", 100}}}}), "undriven"},
      {Netlist({"x"}, {}), "undefined constant 'x'"},
      {Netlist({100},
               {{"$_NOT_", {{"A", A(0)}, {"Y", 100}}}, {"$_NOT_", {{"A", A(1)}, {"Y", 100}}}}),
       "more than one driver"},
      {Netlist({A(0)}, {{"$_AND_", {{"A", A(0)}, {"Y", 100}}}}), "lacks pin B"},
      {Netlist({}, {}), "output [W-1:0] p"},
      // Members of the wrong JSON type are refused, not trusted.
      {R"({"modules": {"mult": {"ports": {"a": 5}}}})", "input [7:0] a"},
      {R"({"modules": {"mult": []}})", "module without ports"},
      {Netlist({100}, {{"$_NOT_", {{"A", A(0)}, {"Y", "x"}}}}), "has no output net"},
  };
  for (const auto& [json, why] : cases) {
    absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(json);
    EXPECT_EQ(netlist.status().code(), absl::StatusCode::kInvalidArgument) << why;
    EXPECT_THAT(netlist.status().message(), HasSubstr(why));
  }
  Json no_b = Json::parse(Netlist({A(0)}, {}));
  no_b["modules"]["mult"]["ports"].erase("b");
  EXPECT_THAT(GateNetlist::FromYosysJson(no_b.dump()).status().message(),
              HasSubstr("input [7:0] b"));
}

// p[0] = a[0] XOR NOT(NOT(a[0])) is constantly 0, but the two paths from
// a[0] have depths 1 and 3: under unit delays it pulses once per change.
TEST(GateNetlistTest, UnitDelayCountsGlitchesThatZeroDelayDoesNot) {
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(
      Netlist({102}, {{"$_NOT_", {{"A", A(0)}, {"Y", 100}}},
                      {"$_NOT_", {{"A", 100}, {"Y", 101}}},
                      {"$_XOR_", {{"A", A(0)}, {"B", 101}, {"Y", 102}}}}));
  ASSERT_TRUE(netlist.ok()) << netlist.status();
  const std::vector<std::pair<uint8_t, uint8_t>> one_change = {{0, 0}, {1, 0}};
  // Loads: a[0] its 2 gate pins; each NOT its output and 1 pin; the XOR its
  // output and the p[0] port. Zero delay: a[0] and both NOTs switch once.
  EXPECT_EQ(netlist->SwitchedLoad(one_change, DelayModel::kZeroDelay), 2 + 2 + 2);
  // Unit delay: the XOR output also rises and falls again.
  EXPECT_EQ(netlist->SwitchedLoad(one_change, DelayModel::kUnitDelay), 2 + 2 + 2 + 2 * 2);
  // Over many changes the counts add up; operand bits the circuit ignores
  // (all of b here) switch nothing.
  std::vector<std::pair<uint8_t, uint8_t>> toggling;
  for (int i = 0; i < 201; ++i) toggling.push_back({static_cast<uint8_t>(i % 2), 0});
  EXPECT_EQ(netlist->SwitchedLoad(toggling, DelayModel::kUnitDelay), 200 * 10);
  EXPECT_EQ(netlist->SwitchedLoad({{1, 7}, {1, 7}, {1, 9}}, DelayModel::kUnitDelay), 0);
}

}  // namespace
}  // namespace transaxx::approx::hardware
