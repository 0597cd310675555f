#include "libs/approx/multiplier.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/approx/sha256.h"

namespace transaxx::approx {

std::string TableHash(const Table& table) {
  std::vector<unsigned char> bytes(kTableSize * 4);
  for (int i = 0; i < kTableSize; ++i) {
    const uint32_t v = static_cast<uint32_t>(table[i]);
    bytes[4 * i + 0] = static_cast<unsigned char>(v);
    bytes[4 * i + 1] = static_cast<unsigned char>(v >> 8);
    bytes[4 * i + 2] = static_cast<unsigned char>(v >> 16);
    bytes[4 * i + 3] = static_cast<unsigned char>(v >> 24);
  }
  return Sha256Hex(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Table ExactTable(Signedness signedness) {
  const int lo = signedness == Signedness::kSigned ? -128 : 0;
  Table table;
  for (int a = lo; a < lo + 256; ++a) {
    for (int b = lo; b < lo + 256; ++b) table[TableIndex(a, b)] = a * b;
  }
  return table;
}

absl::StatusOr<Multiplier> Multiplier::Create(std::string id, Signedness signedness,
                                              const Table& table) {
  if (id.empty()) return absl::InvalidArgumentError("a multiplier needs a non-empty id");
  if (signedness == Signedness::kUnsigned) {
    for (int32_t entry : table) {
      if (entry == std::numeric_limits<int32_t>::min()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "multiplier '", id, "': an unsigned table entry of -2^31 cannot be negated for "
            "sign-magnitude use on int8 operands"));
      }
    }
  }
  auto state = std::make_shared<State>();
  state->family = id.substr(0, id.find(':'));
  state->id = std::move(id);
  state->signedness = signedness;
  state->table = table;
  state->content_hash = TableHash(table);
  state->cache_key =
      absl::StrCat(signedness == Signedness::kSigned ? "s:" : "u:", state->content_hash);
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      int32_t product;
      if (signedness == Signedness::kSigned) {
        product = table[TableIndex(a, b)];
      } else {
        const int32_t magnitude = table[TableIndex(std::abs(a), std::abs(b))];
        product = (a < 0) != (b < 0) ? -magnitude : magnitude;
      }
      state->int8_table[TableIndex(a, b)] = product;
    }
  }
  const auto [min_it, max_it] =
      std::minmax_element(state->int8_table.begin(), state->int8_table.end());
  state->int8_min = *min_it;
  state->int8_max = *max_it;
  return Multiplier(std::move(state));
}

}  // namespace transaxx::approx
