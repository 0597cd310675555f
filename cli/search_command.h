// `transaxx search`: the client of the search coordinator
// (proto/transaxx/v1/search.proto, docs/coordinator.md).
//   transaxx search submit --model ID --multipliers LIST --max_evaluations N [FLAGS] [--wait]
//   transaxx search list [--state S] [--kind K] [--page_size N]
//   transaxx search get JOB
//   transaxx search watch JOB
//   transaxx search cancel JOB
//   transaxx search results JOB [--all] [--output table|json|csv] [--plot FILE.svg]
// Client flags as every remote command (cli/remote.h); exit codes as
// cli/command.h.
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_SEARCH_COMMAND_H_
#define TRANSAXX_CLI_SEARCH_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `words` are the words after "search". Returns the exit code.
int RunSearchCommand(const std::vector<std::string>& words);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_SEARCH_COMMAND_H_
