// `transaxx finetune`: approximation-aware fine-tuning of a model for one
// configuration on an evaluator (Evaluator.FineTune), with a progress line,
// ending with the new model's id and the validation accuracy before and
// after. The configuration comes from --multiplier, a --config file, or a
// point of a search job's Pareto front (--job/--point, read from the
// coordinator).
//
// Thread-safety: call from main.
#ifndef TRANSAXX_CLI_FINETUNE_COMMAND_H_
#define TRANSAXX_CLI_FINETUNE_COMMAND_H_

#include <string>
#include <vector>

namespace transaxx::cli {

// `args` are the words after "finetune". Returns the exit code.
int RunFinetuneCommand(const std::vector<std::string>& args);

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_FINETUNE_COMMAND_H_
