// `transaxx train`: trains a Vision Transformer from scratch on a dataset
// split, in this process, and writes a model directory (model_dir.h).
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_TRAIN_COMMAND_H_
#define TRANSAXX_CLI_TRAIN_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `args` are the words after "train". Returns the exit code.
int RunTrainCommand(const std::vector<std::string>& args);

extern const char kTrainHelp[];

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_TRAIN_COMMAND_H_
