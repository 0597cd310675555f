// `transaxx models ...`: model directories, locally.
//   list       the models under a folder, with architecture and hash
//   describe   a model's approximable layers with shapes and MACs
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_MODELS_COMMAND_H_
#define TRANSAXX_CLI_MODELS_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `args` are the words after "models". Returns the exit code.
int RunModelsCommand(const std::vector<std::string>& args);

extern const char kModelsHelp[];

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_MODELS_COMMAND_H_
