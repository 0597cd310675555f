// Reading and writing multiplier tables and the figures published with them:
//
// - EvoApproxLib lookup tables (.lut): 65,536 little-endian 16-bit words,
//   entry [A][B] at word A*256 + B with A, B the operands' bytes; int16 words
//   for signed circuits (mul8s_*), uint16 for unsigned ones (mul8u_*).
// - The published figures of a library of circuits: a JSON array of records
//   (see PublishedFigures), as in ../shared/data/evoapprox/multipliers.json.
// - Plain CSV tables: one line "a,b,product" per operand pair, operands as
//   values (-128..127 signed, 0..255 unsigned), every pair exactly once, in
//   any order, optionally after a header line "a,b,product". Blank lines and
//   a trailing '\r' (CRLF files) are ignored, as is whitespace around fields.
//
// Every error names the file and the problem (with the line for CSV, the
// record for JSON): NOT_FOUND / PERMISSION_DENIED when a file cannot be
// opened, INVALID_ARGUMENT for contents this reader refuses, UNAVAILABLE for
// a JSON or CSV file that changes while being read. A failed read returns no
// partial result.
//
// Thread-safety: functions without shared state; concurrent calls on
// different files are safe.
#ifndef TRANSAXX_LIBS_APPROX_TABLE_IO_H_
#define TRANSAXX_LIBS_APPROX_TABLE_IO_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

// Size of an EvoApprox .lut file in bytes.
inline constexpr int kEvoApproxLutBytes = 2 * kTableSize;

// Reads an EvoApprox .lut file, interpreting its words as int16 (kSigned) or
// uint16 (kUnsigned). INVALID_ARGUMENT, with the size found and expected,
// for a file of any other size than kEvoApproxLutBytes.
absl::StatusOr<Table> ReadEvoApproxLut(const std::string& path, Signedness signedness);

// The signedness an EvoApprox circuit name says: "mul8s_…" is signed,
// "mul8u_…" unsigned. INVALID_ARGUMENT for other names.
absl::StatusOr<Signedness> SignednessFromEvoName(absl::string_view name);

// The figures a library publishes for one circuit. Percentages of absolute
// errors (mae_pct, wce_pct) are relative to 2^16; see error_metrics.h for the
// definitions. Absent (or JSON null) figures were not published.
struct PublishedFigures {
  std::string name;  // non-empty, unique within its file
  bool is_signed;    // JSON "signed"; when absent, from the name's mul8s_/mul8u_ prefix
  std::optional<double> mae, mae_pct, wce, wce_pct, wcre_pct, ep_pct, mre_pct, mse;
  std::optional<double> power_mw, area_um2, delay_ns;  // hardware figures
  std::optional<int> error_rank;                       // integer in 0..256
  std::string source;                                  // where the figures come from
};

// Reads a JSON array of records with the keys of PublishedFigures ("signed"
// for is_signed). All figures are non-negative numbers. INVALID_ARGUMENT,
// naming the file, the record (by its index from 0, and its name when it has
// one) and the field, for: text that is not JSON, a top level that is not an
// array, a record that is not an object, a missing, empty or non-string
// name, a field of the wrong type, a negative figure, an unknown field (a
// typo would otherwise silently drop a figure), a "signed" that contradicts
// the name's prefix, or a name used twice. Files over 16 MiB are refused.
absl::StatusOr<std::vector<PublishedFigures>> ReadPublishedFigures(const std::string& json_path);

// Reads a CSV table (format above). INVALID_ARGUMENT, naming the file and
// line, for a line without exactly three fields, a field that is not a
// decimal integer, an operand out of range, a product outside int32, a pair
// given twice (with the line of its first occurrence), and — naming the
// file — for pairs never given (how many, and the first). Files over 16 MiB
// are refused.
absl::StatusOr<Table> ReadCsvTable(const std::string& path, Signedness signedness);

// Writes `multiplier`'s table as a CSV table that ReadCsvTable reads back
// into the same table: the header, then the pairs with a, then b, ascending.
// The file is written beside `path` and renamed over it, so a reader never
// sees half a table. Errors of the file system, naming `path`.
absl::Status WriteCsvTable(const std::string& path, const Multiplier& multiplier);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TABLE_IO_H_
