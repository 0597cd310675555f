#include "libs/approx/table_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace transaxx::approx {
namespace {

// JSON and CSV files are read whole; a 256x256 CSV table is about 1.3 MB and
// a catalog of thousands of circuits well under a megabyte, so anything
// larger is not one of them.
constexpr int64_t kMaxTextFileBytes = int64_t{16} << 20;

// The size of the regular file at `path`: NOT_FOUND / PERMISSION_DENIED when
// it cannot be examined, INVALID_ARGUMENT for a directory or device.
absl::StatusOr<int64_t> RegularFileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, path);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(path + ": not a regular file");
  return static_cast<int64_t>(st.st_size);
}

// At most `max_bytes` + 1 bytes of the file at `path`: enough for callers to
// see that a file grew past the size they checked.
absl::StatusOr<std::string> ReadFilePrefix(const std::string& path, int64_t max_bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, path);
  absl::Cleanup closer = [fd] { close(fd); };
  std::string bytes(static_cast<size_t>(max_bytes) + 1, '\0');
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = read(fd, bytes.data() + filled, bytes.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, path);
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  bytes.resize(filled);
  return bytes;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  absl::StatusOr<int64_t> size = RegularFileSize(path);
  if (!size.ok()) return size.status();
  if (*size > kMaxTextFileBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d bytes, more than the %d this reader accepts", path, *size, kMaxTextFileBytes));
  }
  absl::StatusOr<std::string> text = ReadFilePrefix(path, *size);
  if (text.ok() && static_cast<int64_t>(text->size()) != *size) {
    return absl::UnavailableError(absl::StrCat(path, ": changed while being read"));
  }
  return text;
}

absl::Status LutSizeError(const std::string& path, int64_t size) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: %d bytes, but an EvoApprox table is exactly %d bytes (65,536 little-endian 16-bit "
      "words); the file is %s",
      path, size, kEvoApproxLutBytes, size < kEvoApproxLutBytes ? "truncated" : "too large"));
}

// --- JSON -------------------------------------------------------------------

using Json = nlohmann::json;

// Names a record in messages: its index, and its name once known.
std::string RecordLabel(const std::string& path, size_t index, const std::string& name) {
  if (name.empty()) return absl::StrFormat("%s: record %d", path, index);
  return absl::StrFormat("%s: record %d (\"%s\")", path, index, name);
}

// Reads an optional non-negative number; null counts as absent.
absl::Status ReadFigure(const Json& record, const char* key, const std::string& label,
                        std::optional<double>& out) {
  const auto it = record.find(key);
  if (it == record.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: field \"%s\" must be a number, found %s",
                                                      label, key, it->type_name()));
  }
  const double value = it->get<double>();
  if (value < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: field \"%s\" must not be negative, found %g", label, key, value));
  }
  out = value;
  return absl::OkStatus();
}

absl::StatusOr<PublishedFigures> ParseRecord(const Json& record, const std::string& path,
                                             size_t index) {
  if (!record.is_object()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: must be an object, found %s", RecordLabel(path, index, ""), record.type_name()));
  }
  PublishedFigures figures;
  const auto name = record.find("name");
  if (name == record.end() || !name->is_string() || name->get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: field \"name\" must be a non-empty string, found %s", RecordLabel(path, index, ""),
        name == record.end() ? "none" : (name->is_string() ? "\"\"" : name->type_name())));
  }
  figures.name = name->get<std::string>();
  const std::string label = RecordLabel(path, index, figures.name);

  static const char* const kKnownKeys[] = {
      "name",    "signed", "mae",      "mae_pct",  "wce",      "wce_pct",    "wcre_pct", "ep_pct",
      "mre_pct", "mse",    "power_mw", "area_um2", "delay_ns", "error_rank", "source"};
  for (const auto& [key, value] : record.items()) {
    bool known = false;
    for (const char* k : kKnownKeys) known = known || key == k;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: unknown field \"%s\"", label, key));
    }
  }

  const absl::StatusOr<Signedness> from_name = SignednessFromEvoName(figures.name);
  const auto is_signed = record.find("signed");
  if (is_signed != record.end()) {
    if (!is_signed->is_boolean()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: field \"signed\" must be true or false, found %s", label, is_signed->type_name()));
    }
    figures.is_signed = is_signed->get<bool>();
    if (from_name.ok() && (*from_name == Signedness::kSigned) != figures.is_signed) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: field \"signed\" is %s but the name says %s", label,
          figures.is_signed ? "true" : "false",
          *from_name == Signedness::kSigned ? "signed (mul8s_)" : "unsigned (mul8u_)"));
    }
  } else if (from_name.ok()) {
    figures.is_signed = *from_name == Signedness::kSigned;
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: field \"signed\" is missing and the name has no mul8s_/mul8u_ prefix", label));
  }

  const std::pair<const char*, std::optional<double> PublishedFigures::*> kFigures[] = {
      {"mae", &PublishedFigures::mae},           {"mae_pct", &PublishedFigures::mae_pct},
      {"wce", &PublishedFigures::wce},           {"wce_pct", &PublishedFigures::wce_pct},
      {"wcre_pct", &PublishedFigures::wcre_pct}, {"ep_pct", &PublishedFigures::ep_pct},
      {"mre_pct", &PublishedFigures::mre_pct},   {"mse", &PublishedFigures::mse},
      {"power_mw", &PublishedFigures::power_mw}, {"area_um2", &PublishedFigures::area_um2},
      {"delay_ns", &PublishedFigures::delay_ns}};
  for (const auto& [key, member] : kFigures) {
    if (absl::Status s = ReadFigure(record, key, label, figures.*member); !s.ok()) return s;
  }

  const auto rank = record.find("error_rank");
  if (rank != record.end() && !rank->is_null()) {
    if (!rank->is_number_integer() || rank->get<int64_t>() < 0 || rank->get<int64_t>() > 256) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: field \"error_rank\" must be an integer in 0..256, found %s", label, rank->dump()));
    }
    figures.error_rank = static_cast<int>(rank->get<int64_t>());
  }

  const auto source = record.find("source");
  if (source != record.end() && !source->is_null()) {
    if (!source->is_string()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: field \"source\" must be a string, found %s", label, source->type_name()));
    }
    figures.source = source->get<std::string>();
  }
  return figures;
}

// --- CSV --------------------------------------------------------------------

// A field that is a decimal integer (optional sign, digits). Distinguishes
// "not a number" from "a number too large for int64", which SimpleAtoi
// reports alike.
bool IsDecimalInteger(absl::string_view field) {
  if (!field.empty() && (field[0] == '-' || field[0] == '+')) field.remove_prefix(1);
  if (field.empty()) return false;
  for (char c : field) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string LineLabel(const std::string& path, int line) {
  return absl::StrFormat("%s:%d", path, line);
}

// Parses field `what` of a CSV line into `out`, which must lie in [lo, hi].
absl::Status ParseCsvInteger(absl::string_view field, const char* what, int64_t lo, int64_t hi,
                             const char* range_name, const std::string& label, int64_t& out) {
  if (!IsDecimalInteger(field)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s is not a decimal integer: \"%s\"", label, what, field));
  }
  if (!absl::SimpleAtoi(field, &out) || out < lo || out > hi) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s %s is out of the range %s", label, what, field, range_name));
  }
  return absl::OkStatus();
}

bool IsCsvHeader(const std::vector<absl::string_view>& fields) {
  return fields.size() == 3 && fields[0] == "a" && fields[1] == "b" && fields[2] == "product";
}

// Writes `contents` to a temporary file beside `path`, then renames it over
// `path`.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, temporary);
  absl::Cleanup closer = [fd] { close(fd); };
  while (!contents.empty()) {
    const ssize_t n = write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status status = absl::ErrnoToStatus(errno, temporary);
      unlink(temporary.c_str());
      return status;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  std::move(closer).Invoke();
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const absl::Status status = absl::ErrnoToStatus(errno, path);
    unlink(temporary.c_str());
    return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Table> ReadEvoApproxLut(const std::string& path, Signedness signedness) {
  absl::StatusOr<int64_t> size = RegularFileSize(path);
  if (!size.ok()) return size.status();
  if (*size != kEvoApproxLutBytes) return LutSizeError(path, *size);
  absl::StatusOr<std::string> bytes = ReadFilePrefix(path, kEvoApproxLutBytes);
  if (!bytes.ok()) return bytes.status();
  // The file may have changed since it was measured.
  if (bytes->size() != size_t{kEvoApproxLutBytes}) {
    return LutSizeError(path, static_cast<int64_t>(bytes->size()));
  }
  Table table;
  for (int i = 0; i < kTableSize; ++i) {
    const uint16_t word =
        static_cast<uint16_t>(static_cast<unsigned char>((*bytes)[2 * i]) |
                              static_cast<unsigned char>((*bytes)[2 * i + 1]) << 8);
    table[i] =
        signedness == Signedness::kSigned ? int32_t{static_cast<int16_t>(word)} : int32_t{word};
  }
  return table;
}

absl::StatusOr<Signedness> SignednessFromEvoName(absl::string_view name) {
  if (absl::StartsWith(name, "mul8s_")) return Signedness::kSigned;
  if (absl::StartsWith(name, "mul8u_")) return Signedness::kUnsigned;
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", name, "\" is not an EvoApprox 8-bit multiplier name (mul8s_… or mul8u_…)"));
}

absl::StatusOr<std::vector<PublishedFigures>> ReadPublishedFigures(const std::string& json_path) {
  absl::StatusOr<std::string> text = ReadTextFile(json_path);
  if (!text.ok()) return text.status();
  Json document;
  try {
    document = Json::parse(*text);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(json_path, ": not valid JSON: ", e.what()));
  }
  if (!document.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        json_path, ": the top level must be an array of records, found ", document.type_name()));
  }
  std::vector<PublishedFigures> result;
  result.reserve(document.size());
  std::unordered_map<std::string, size_t> index_of_name;
  for (size_t i = 0; i < document.size(); ++i) {
    absl::StatusOr<PublishedFigures> figures = ParseRecord(document[i], json_path, i);
    if (!figures.ok()) return figures.status();
    const auto [it, inserted] = index_of_name.emplace(figures->name, i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: duplicate name, first in record %d",
                                                        RecordLabel(json_path, i, figures->name),
                                                        it->second));
    }
    result.push_back(*std::move(figures));
  }
  return result;
}

absl::StatusOr<Table> ReadCsvTable(const std::string& path, Signedness signedness) {
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  const bool is_signed = signedness == Signedness::kSigned;
  const int64_t lo = is_signed ? -128 : 0;
  const int64_t hi = is_signed ? 127 : 255;
  const char* const operand_range = is_signed ? "-128..127" : "0..255";
  Table table;
  // The line each pair was given on, 0 for none yet.
  std::vector<int> line_of_pair(kTableSize, 0);
  int line_number = 0;
  bool first_line = true;  // the first non-blank one, which may be the header
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);  // also the '\r' of CRLF files
    if (line.empty()) continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    for (absl::string_view& field : fields) field = absl::StripAsciiWhitespace(field);
    if (std::exchange(first_line, false) && IsCsvHeader(fields)) continue;
    const std::string label = LineLabel(path, line_number);
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: expected 3 comma-separated fields a,b,product, found %d", label, fields.size()));
    }
    int64_t a, b, product;
    absl::Status s = ParseCsvInteger(fields[0], "operand a", lo, hi, operand_range, label, a);
    if (s.ok()) s = ParseCsvInteger(fields[1], "operand b", lo, hi, operand_range, label, b);
    if (s.ok()) {
      s = ParseCsvInteger(fields[2], "product", std::numeric_limits<int32_t>::min(),
                          std::numeric_limits<int32_t>::max(), "of int32", label, product);
    }
    if (!s.ok()) return s;
    const int index = TableIndex(static_cast<int>(a), static_cast<int>(b));
    if (line_of_pair[index] != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: duplicate pair a=%d, b=%d, first given on line %d", label, a, b,
                          line_of_pair[index]));
    }
    line_of_pair[index] = line_number;
    table[index] = static_cast<int32_t>(product);
  }
  int missing = 0;
  int first_missing_a = 0, first_missing_b = 0;
  for (int a = static_cast<int>(lo); a <= hi; ++a) {
    for (int b = static_cast<int>(lo); b <= hi; ++b) {
      if (line_of_pair[TableIndex(a, b)] != 0) continue;
      if (missing++ == 0) {
        first_missing_a = a;
        first_missing_b = b;
      }
    }
  }
  if (missing > 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d of the %d operand pairs are missing (the first is a=%d, b=%d); a table gives "
        "every pair exactly once",
        path, missing, kTableSize, first_missing_a, first_missing_b));
  }
  return table;
}

absl::Status WriteCsvTable(const std::string& path, const Multiplier& multiplier) {
  const int lo = multiplier.is_signed() ? -128 : 0;
  std::string csv = "a,b,product\n";
  csv.reserve(size_t{20} * kTableSize);
  for (int a = lo; a < lo + 256; ++a) {
    for (int b = lo; b < lo + 256; ++b)
      absl::StrAppend(&csv, a, ",", b, ",", multiplier(a, b), "\n");
  }
  return WriteFileAtomically(path, csv);
}

}  // namespace transaxx::approx
