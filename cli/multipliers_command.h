// `transaxx multipliers ...`: the local (no server) multiplier commands.
//   list           the catalog with error figures
//   show ID        one multiplier in detail
//   characterize   the error figures of a table file
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_MULTIPLIERS_COMMAND_H_
#define TRANSAXX_CLI_MULTIPLIERS_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `args` are the words after "multipliers". Returns the exit code.
int RunMultipliersCommand(const std::vector<std::string>& args);

extern const char kMultipliersHelp[];

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_MULTIPLIERS_COMMAND_H_
