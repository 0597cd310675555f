// An 8x8-bit approximate multiplier: a pure function of two 8-bit operands
// given by its full 256x256 table, with an ID, a family, parameters and a
// content hash.
//
// Operand A is the activation, operand B the weight; tables need not be
// symmetric. Entry [A][B] is stored at index A*256 + B where A and B are the
// operands' bytes: for signed multipliers the two's-complement byte of an
// int8 operand (-1 is row 255), for unsigned ones the value 0..255.
//
// The content hash is the SHA-256 (lowercase hex) of the canonical table:
// the 65,536 entries as little-endian int32 in index order. Two multipliers
// of one signedness with equal hashes compute the same function; read with
// the other signedness, the same entries are another function (other operand
// values, another int8 table), so whatever is derived from a multiplier is
// cached by cache_key(), which adds the signedness.
//
// Thread-safety: immutable after construction; copies share the table.
#ifndef TRANSAXX_LIBS_APPROX_MULTIPLIER_H_
#define TRANSAXX_LIBS_APPROX_MULTIPLIER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace transaxx::approx {

enum class Signedness { kSigned, kUnsigned };

constexpr int kTableSize = 256 * 256;
using Table = std::array<int32_t, kTableSize>;

// Index of the operand pair (a, b) given as values: -128..127 for signed
// tables, 0..255 for unsigned ones (the byte of the value in both cases).
constexpr int TableIndex(int a, int b) {
  return (static_cast<uint8_t>(a) << 8) | static_cast<uint8_t>(b);
}

class Multiplier {
 public:
  // `family` is the part of `id` before any ':' (e.g. "drum", "evo").
  // INVALID_ARGUMENT when `id` is empty.
  static absl::StatusOr<Multiplier> Create(std::string id, Signedness signedness,
                                           const Table& table);

  const std::string& id() const { return state_->id; }
  const std::string& family() const { return state_->family; }
  Signedness signedness() const { return state_->signedness; }
  bool is_signed() const { return state_->signedness == Signedness::kSigned; }
  const std::string& content_hash() const { return state_->content_hash; }
  // The key of caches of derived data (structure, gradients, error figures,
  // device copies): "s:" or "u:" for the signedness, then the content hash.
  const std::string& cache_key() const { return state_->cache_key; }

  // The product of operand values a and b.
  // REQUIRES: a, b in -128..127 (signed) or 0..255 (unsigned).
  int32_t operator()(int a, int b) const { return state_->table[TableIndex(a, b)]; }

  // The stored table, indexed by TableIndex.
  const Table& table() const { return state_->table; }

  // The table an int8 GEMM uses: entry [TableIndex(a, b)] is this
  // multiplier's product of the int8 values a and b. Signed tables are used
  // as they are; unsigned ones through sign-magnitude,
  // sign(a)·sign(b)·T[|a|][|b|], which is how unsigned circuits serve
  // symmetric int8 quantization.
  const Table& int8_table() const { return state_->int8_table; }
  // The smallest and the largest entry of int8_table(), kept so that the
  // overflow bound of every GEMM call (reference_gemm.h) costs nothing.
  int32_t int8_min() const { return state_->int8_min; }
  int32_t int8_max() const { return state_->int8_max; }

 private:
  struct State {
    std::string id;
    std::string family;
    Signedness signedness;
    std::string content_hash;
    std::string cache_key;
    Table table;
    Table int8_table;
    int32_t int8_min = 0;
    int32_t int8_max = 0;
  };
  explicit Multiplier(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// The content hash of a table, as described above.
std::string TableHash(const Table& table);

// The table of the exact product for operands of `signedness`: the reference
// every approximate table is compared with.
Table ExactTable(Signedness signedness);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_MULTIPLIER_H_
