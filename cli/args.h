// The command line of one `transaxx` subcommand: positional arguments and
// `--name VALUE` / `--name=VALUE` / boolean `--name` flags, checked against
// the flags the subcommand declares. A value flag may be given more than once
// only when the subcommand declares it repeatable.
//
// Thread-safety: plain values.
#ifndef TRANSAXX_CLI_ARGS_H_
#define TRANSAXX_CLI_ARGS_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace transaxx::cli {

class Args {
 public:
  // INVALID_ARGUMENT naming the flag for an undeclared flag, a value flag
  // without a value, a value given to a boolean flag, or a repeated flag
  // not in `repeatable_flags` (a subset of `value_flags`).
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& bool_flags,
                                    const std::set<std::string>& repeatable_flags = {});

  const std::vector<std::string>& positional() const { return positional_; }
  // The flag's value (the last one of a repeatable flag).
  std::optional<std::string> Value(const std::string& flag) const;
  // Every value of the flag in command-line order; empty when not given.
  std::vector<std::string> Values(const std::string& flag) const;
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }

  // For commands that take flags only: INVALID_ARGUMENT naming the first
  // positional argument and pointing at `transaxx COMMAND --help`.
  absl::Status ExpectNoPositionals(const std::string& command) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> flags_;
};

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_ARGS_H_
