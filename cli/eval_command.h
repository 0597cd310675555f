// `transaxx eval`: the accuracy of a model on a dataset split, computed in
// this process (no server): float32, int8 exact, or approximate with one
// multiplier on every layer or a per-layer configuration file.
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_EVAL_COMMAND_H_
#define TRANSAXX_CLI_EVAL_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `args` are the words after "eval". Returns the exit code.
int RunEvalCommand(const std::vector<std::string>& args);

extern const char kEvalHelp[];

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_EVAL_COMMAND_H_
