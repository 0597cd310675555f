// transaxx: the command-line client of the transaxx cluster, and local tools.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/eval_command.h"
#include "cli/finetune_command.h"
#include "cli/models_command.h"
#include "cli/multipliers_command.h"
#include "cli/power_command.h"
#include "cli/search_command.h"
#include "cli/train_command.h"

namespace {

const char kHelp[] = R"(Usage: transaxx COMMAND [ARGS]

Search for energy-efficient approximate accelerators for Vision Transformers.

Commands:
  multipliers   list, show and characterize approximate multipliers (local,
                or list/show on a server with --server)
  power         estimate the power of a configuration on a power model server
  search        submit, watch and list search jobs on a coordinator, and read
                their Pareto fronts (table, JSON, CSV, SVG plot)
  models        list model directories and describe their approximable layers
  train         train a Vision Transformer on a dataset (local, CPU)
  eval          evaluate a model: fp32, int8 exact or approximate (local,
                or on an evaluator with --server)
  finetune      approximation-aware fine-tuning of a model for one
                configuration on an evaluator (a new model version)
  help          this text

Run 'transaxx COMMAND --help' for the flags of a command.
Exit codes: 0 success, 1 the operation failed, 2 usage error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "help" || words[0] == "--help" || words[0] == "-h") {
    std::printf("%s", kHelp);
    return words.empty() ? transaxx::cli::kExitUsage : transaxx::cli::kExitOk;
  }
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  if (words[0] == "multipliers") return transaxx::cli::RunMultipliersCommand(rest);
  if (words[0] == "power") return transaxx::cli::RunPowerCommand(rest);
  if (words[0] == "search") return transaxx::cli::RunSearchCommand(rest);
  if (words[0] == "models") return transaxx::cli::RunModelsCommand(rest);
  if (words[0] == "train") return transaxx::cli::RunTrainCommand(rest);
  if (words[0] == "eval") return transaxx::cli::RunEvalCommand(rest);
  if (words[0] == "finetune") return transaxx::cli::RunFinetuneCommand(rest);
  std::fprintf(stderr, "transaxx: error: unknown command '%s'; see transaxx --help\n",
               words[0].c_str());
  return transaxx::cli::kExitUsage;
}
