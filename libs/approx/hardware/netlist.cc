#include "libs/approx/hardware/netlist.h"

#include <algorithm>
#include <bit>
#include <map>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace transaxx::approx::hardware {
namespace {

using Json = nlohmann::json;

absl::Status Bad(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("gate netlist: ", why));
}

// Lookups that never throw, whatever the JSON holds: the member `key` of an
// object, or nullptr.
const Json* Member(const Json& object, const std::string& key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string StringMember(const Json& object, const std::string& key) {
  const Json* member = Member(object, key);
  return member != nullptr && member->is_string() ? member->get<std::string>() : "";
}

// The bits of port `name` when it has direction `direction`, or nullptr.
const Json* PortBits(const Json& ports, const std::string& name, const std::string& direction) {
  const Json* port = Member(ports, name);
  if (port == nullptr || StringMember(*port, "direction") != direction) return nullptr;
  const Json* bits = Member(*port, "bits");
  return bits != nullptr && bits->is_array() ? bits : nullptr;
}

}  // namespace

absl::StatusOr<GateNetlist> GateNetlist::FromYosysJson(absl::string_view json_text,
                                                       absl::string_view top) {
  static const std::map<std::string, std::pair<Op, int>>* kinds =
      new std::map<std::string, std::pair<Op, int>>{
          {"$_BUF_", {Op::kBuf, 1}},       {"$_NOT_", {Op::kNot, 1}},
          {"$_AND_", {Op::kAnd, 2}},       {"$_NAND_", {Op::kNand, 2}},
          {"$_OR_", {Op::kOr, 2}},         {"$_NOR_", {Op::kNor, 2}},
          {"$_XOR_", {Op::kXor, 2}},       {"$_XNOR_", {Op::kXnor, 2}},
          {"$_ANDNOT_", {Op::kAndNot, 2}}, {"$_ORNOT_", {Op::kOrNot, 2}},
          {"$_MUX_", {Op::kMux, 3}}};
  const Json root = Json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (root.is_discarded() || !root.is_object()) return Bad("not a Yosys JSON netlist");
  const Json* modules = Member(root, "modules");
  const Json* module = modules == nullptr ? nullptr : Member(*modules, std::string(top));
  if (module == nullptr) return Bad(absl::StrCat("no module '", top, "'"));
  const Json* ports = Member(*module, "ports");
  if (ports == nullptr) return Bad("module without ports");

  GateNetlist netlist;
  // Yosys bit numbers to our net indexes.
  std::unordered_map<int64_t, int> nets;
  for (const auto& [name, first] : {std::pair<std::string, int>{"a", kFirstA}, {"b", kFirstB}}) {
    const Json* bits = PortBits(*ports, name, "input");
    if (bits == nullptr || bits->size() != 8) {
      return Bad(absl::StrCat("the module needs the port 'input [7:0] ", name, "'"));
    }
    for (int i = 0; i < 8; ++i) {
      const Json& bit = (*bits)[i];
      if (!bit.is_number_integer() || !nets.emplace(bit.get<int64_t>(), first + i).second) {
        return Bad(absl::StrCat("input ", name, "[", i, "] is not a free net"));
      }
    }
  }
  const Json* p_bits = PortBits(*ports, "p", "output");
  if (p_bits == nullptr || p_bits->empty() || p_bits->size() > 32) {
    return Bad("the module needs the port 'output [W-1:0] p' with 1 <= W <= 32");
  }

  // Gates with their inputs still as Yosys bits; outputs get nets first, so
  // that inputs can be resolved whatever the order of the cells.
  struct RawGate {
    Op op;
    int inputs;
    Json in[3];
    int out;
  };
  std::vector<RawGate> raw;
  const Json empty_cells = Json::object();
  const Json* cells = Member(*module, "cells");
  if (cells == nullptr) cells = &empty_cells;
  if (!cells->is_object()) return Bad("'cells' is not an object");
  for (const auto& [cell_name, cell] : cells->items()) {
    const std::string type = StringMember(cell, "type");
    auto kind = kinds->find(type);
    if (kind == kinds->end()) {
      return Bad(absl::StrCat("cell '", cell_name, "' has type '", type,
                              "'; only combinational gates of Yosys's internal library "
                              "($_AND_, $_XOR_, $_MUX_, ...) are supported"));
    }
    const Json* connections = Member(cell, "connections");
    auto single_bit = [&](const char* pin) -> const Json* {
      const Json* bits = connections == nullptr ? nullptr : Member(*connections, pin);
      return bits != nullptr && bits->is_array() && bits->size() == 1 ? &(*bits)[0] : nullptr;
    };
    RawGate gate{kind->second.first, kind->second.second, {}, 0};
    static constexpr const char* kPins[3] = {"A", "B", "S"};
    for (int i = 0; i < gate.inputs; ++i) {
      const Json* bit = single_bit(kPins[i]);
      if (bit == nullptr) return Bad(absl::StrCat("cell '", cell_name, "' lacks pin ", kPins[i]));
      gate.in[i] = *bit;
    }
    const Json* out = single_bit("Y");
    if (out == nullptr || !out->is_number_integer()) {
      return Bad(absl::StrCat("cell '", cell_name, "' has no output net"));
    }
    const int net = netlist.nets_++;
    if (!nets.emplace(out->get<int64_t>(), net).second) {
      return Bad(absl::StrCat("net ", out->get<int64_t>(), " has more than one driver (cell '",
                              cell_name, "')"));
    }
    gate.out = net;
    raw.push_back(std::move(gate));
  }

  auto resolve = [&](const Json& bit, const std::string& where) -> absl::StatusOr<int> {
    if (bit.is_string()) {
      if (bit == "0") return kConst0;
      if (bit == "1") return kConst1;
      return Bad(absl::StrCat(where, " is the undefined constant '", bit.get<std::string>(), "'"));
    }
    if (!bit.is_number_integer()) return Bad(absl::StrCat(where, " is not a net"));
    auto it = nets.find(bit.get<int64_t>());
    if (it == nets.end()) return Bad(absl::StrCat(where, " is undriven"));
    return it->second;
  };

  // Kahn's algorithm: a gate is ready once the gates driving its inputs are.
  std::vector<int> driver(netlist.nets_, -1);
  for (size_t g = 0; g < raw.size(); ++g) driver[raw[g].out] = static_cast<int>(g);
  std::vector<Gate> gates(raw.size());
  std::vector<int> pending(raw.size(), 0);
  std::vector<std::vector<int>> readers(raw.size());
  for (size_t g = 0; g < raw.size(); ++g) {
    gates[g] = {raw[g].op, raw[g].inputs, {kConst0, kConst0, kConst0}, raw[g].out};
    for (int i = 0; i < raw[g].inputs; ++i) {
      absl::StatusOr<int> net = resolve(raw[g].in[i], absl::StrCat("an input of gate ", g));
      if (!net.ok()) return net.status();
      gates[g].in[i] = *net;
      if (driver[*net] >= 0) {
        ++pending[g];
        readers[driver[*net]].push_back(static_cast<int>(g));
      }
    }
  }
  std::vector<int> ready;
  for (size_t g = 0; g < raw.size(); ++g) {
    if (pending[g] == 0) ready.push_back(static_cast<int>(g));
  }
  netlist.load_.assign(netlist.nets_, 0);
  while (!ready.empty()) {
    const int g = ready.back();
    ready.pop_back();
    netlist.gates_.push_back(gates[g]);
    for (int reader : readers[g]) {
      if (--pending[reader] == 0) ready.push_back(reader);
    }
  }
  if (netlist.gates_.size() != gates.size()) return Bad("the netlist has a combinational loop");
  for (const Gate& gate : netlist.gates_) {
    ++netlist.load_[gate.out];
    for (int i = 0; i < gate.inputs; ++i) ++netlist.load_[gate.in[i]];
  }
  for (size_t i = 0; i < p_bits->size(); ++i) {
    absl::StatusOr<int> net = resolve((*p_bits)[i], absl::StrCat("output p[", i, "]"));
    if (!net.ok()) return net.status();
    netlist.outputs_.push_back(*net);
    ++netlist.load_[*net];
  }
  return netlist;
}

uint64_t GateNetlist::Apply(Op op, uint64_t x, uint64_t y, uint64_t s) {
  switch (op) {
    case Op::kBuf:
      return x;
    case Op::kNot:
      return ~x;
    case Op::kAnd:
      return x & y;
    case Op::kNand:
      return ~(x & y);
    case Op::kOr:
      return x | y;
    case Op::kNor:
      return ~(x | y);
    case Op::kXor:
      return x ^ y;
    case Op::kXnor:
      return ~(x ^ y);
    case Op::kAndNot:
      return x & ~y;
    case Op::kOrNot:
      return x | ~y;
    case Op::kMux:
      return (s & y) | (~s & x);
  }
  return 0;
}

void GateNetlist::Settle(std::vector<uint64_t>& values) const {
  for (const Gate& gate : gates_) {
    values[gate.out] = Apply(gate.op, values[gate.in[0]], values[gate.in[1]], values[gate.in[2]]);
  }
}

void GateNetlist::SetInputs(const uint8_t* a, const uint8_t* b, int count,
                            std::vector<uint64_t>& values) {
  values[kConst0] = 0;
  values[kConst1] = ~uint64_t{0};
  for (int i = 0; i < 8; ++i) {
    uint64_t a_word = 0, b_word = 0;
    for (int k = 0; k < count; ++k) {
      a_word |= uint64_t{(a[k] >> i) & 1u} << k;
      b_word |= uint64_t{(b[k] >> i) & 1u} << k;
    }
    values[kFirstA + i] = a_word;
    values[kFirstB + i] = b_word;
  }
}

Table GateNetlist::Evaluate(Signedness signedness) const {
  Table table;
  std::vector<uint64_t> values(nets_, 0);
  uint8_t a[64], b[64];
  const int width = output_width();
  for (int first = 0; first < kTableSize; first += 64) {
    for (int k = 0; k < 64; ++k) {
      a[k] = static_cast<uint8_t>((first + k) >> 8);
      b[k] = static_cast<uint8_t>(first + k);
    }
    SetInputs(a, b, 64, values);
    Settle(values);
    for (int k = 0; k < 64; ++k) {
      int64_t p = 0;
      for (int i = 0; i < width; ++i)
        p |= static_cast<int64_t>((values[outputs_[i]] >> k) & 1) << i;
      if (signedness == Signedness::kSigned && ((p >> (width - 1)) & 1)) p -= int64_t{1} << width;
      table[first + k] = static_cast<int32_t>(p);
    }
  }
  return table;
}

absl::Status GateNetlist::CheckEquals(const Multiplier& expected) const {
  const Table actual = Evaluate(expected.signedness());
  int differing = 0, first = -1;
  for (int index = 0; index < kTableSize; ++index) {
    if (actual[index] == expected.table()[index]) continue;
    if (differing++ == 0) first = index;
  }
  if (differing == 0) return absl::OkStatus();
  const auto value = [&](int byte) {
    return expected.is_signed() ? static_cast<int>(static_cast<int8_t>(byte)) : byte;
  };
  const int a = value(first >> 8), b = value(first & 255);
  return absl::InvalidArgumentError(
      absl::StrCat("the circuit does not compute the table of '", expected.id(), "': for a = ", a,
                   ", b = ", b, " it gives ", actual[first], " where the table has ",
                   expected.table()[first], " (", differing, " of 65536 operand pairs differ)"));
}

double GateNetlist::SwitchedLoad(const std::vector<std::pair<uint8_t, uint8_t>>& operands,
                                 DelayModel delay_model) const {
  std::vector<uint64_t> before(nets_, 0), after(nets_, 0), next;
  uint8_t a0[64], b0[64], a1[64], b1[64];
  double load = 0;
  const auto count = [&](const std::vector<uint64_t>& from, const std::vector<uint64_t>& to) {
    for (int net = kFirstA; net < nets_; ++net) {
      load += static_cast<double>(std::popcount(from[net] ^ to[net])) * load_[net];
    }
  };
  const size_t transitions = operands.size() - 1;
  for (size_t first = 0; first < transitions; first += 64) {
    const int lanes = static_cast<int>(std::min<size_t>(64, transitions - first));
    for (int k = 0; k < lanes; ++k) {
      std::tie(a0[k], b0[k]) = operands[first + k];
      std::tie(a1[k], b1[k]) = operands[first + k + 1];
    }
    SetInputs(a0, b0, lanes, before);
    Settle(before);
    SetInputs(a1, b1, lanes, after);
    if (delay_model == DelayModel::kZeroDelay) {
      Settle(after);
      count(before, after);
      continue;
    }
    // Unit delay: the inputs switch at once; then, from the settled old
    // state, every gate recomputes from the values of the previous step
    // until nothing changes. Counting every step's changes counts the
    // glitches too.
    for (int net = kFirstA; net < kFirstFree; ++net) {
      load += static_cast<double>(std::popcount(before[net] ^ after[net])) * load_[net];
      before[net] = after[net];
    }
    for (bool changed = true; changed;) {
      next = before;
      for (const Gate& gate : gates_) {
        next[gate.out] = Apply(gate.op, before[gate.in[0]], before[gate.in[1]], before[gate.in[2]]);
      }
      changed = false;
      for (const Gate& gate : gates_) {
        const uint64_t toggled = next[gate.out] ^ before[gate.out];
        if (toggled == 0) continue;
        changed = true;
        load += static_cast<double>(std::popcount(toggled)) * load_[gate.out];
      }
      std::swap(before, next);
    }
  }
  return load;
}

}  // namespace transaxx::approx::hardware
