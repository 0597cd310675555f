// Plain-text tables for terminals: a header row and left-aligned columns
// padded to their widest cell; numeric-looking cells are right-aligned.
//
// Thread-safety: plain values.
#ifndef TRANSAXX_CLI_TEXT_TABLE_H_
#define TRANSAXX_CLI_TEXT_TABLE_H_

#include <string>
#include <vector>

namespace transaxx::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  // REQUIRES: row.size() == header size.
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_TEXT_TABLE_H_
