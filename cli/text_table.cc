#include "cli/text_table.h"

#include <algorithm>

namespace transaxx::cli {
namespace {

bool LooksNumeric(const std::string& cell) {
  return !cell.empty() && cell.find_first_not_of("0123456789.-+e%") == std::string::npos;
}

}  // namespace

std::string TextTable::Render() const {
  std::vector<size_t> width(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto append = [&](const std::vector<std::string>& row, bool header) {
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      out += !header && LooksNumeric(row[c]) ? pad + row[c] : row[c] + pad;
      out += c + 1 < row.size() ? "  " : "";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  append(header_, true);
  for (const auto& row : rows_) append(row, false);
  return out;
}

}  // namespace transaxx::cli
