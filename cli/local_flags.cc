#include "cli/local_flags.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdlib>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace transaxx::cli {

absl::StatusOr<bool> WantJson(const Args& args) {
  const std::string output = args.Value("output").value_or("table");
  if (output != "table" && output != "json") {
    return absl::InvalidArgumentError("--output must be table or json");
  }
  return output == "json";
}

absl::StatusOr<approx::Catalog> CatalogFromFlags(const Args& args) {
  approx::Catalog catalog = approx::Catalog::WithBuiltins();
  std::string dir;
  if (auto flag = args.Value("multipliers_dir")) {
    dir = *flag;
  } else if (const char* env = std::getenv("TRANSAXX_MULTIPLIERS_DIR")) {
    dir = env;
  }
  if (!dir.empty()) {
    if (absl::Status s = catalog.ImportEvoApprox(dir); !s.ok()) return s;
  }
  return catalog;
}

data::DatasetOptions DatasetOptionsFromFlags(const Args& args) {
  data::DatasetOptions options;
  std::string roots;
  if (auto flag = args.Value("datasets_dir")) {
    roots = *flag;
  } else if (const char* env = std::getenv("TRANSAXX_DATASETS_DIR")) {
    roots = env;
  }
  for (absl::string_view root : absl::StrSplit(roots, ',', absl::SkipEmpty())) {
    options.roots.emplace_back(root);
  }
  return options;
}

absl::StatusOr<int64_t> IntFlag(const Args& args, const std::string& name, int64_t fallback,
                                int64_t min) {
  const std::optional<std::string> text = args.Value(name);
  if (!text) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(*text, &value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer >= ", min, ", got '", *text, "'"));
  }
  return value;
}

absl::StatusOr<double> NumberFlag(const Args& args, const std::string& name, double fallback,
                                  bool positive) {
  const std::optional<std::string> text = args.Value(name);
  if (!text) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(*text, &value) || !std::isfinite(value) ||
      (positive ? value <= 0 : value < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " must be a number ",
                                                   positive ? "> 0" : ">= 0", ", got '", *text,
                                                   "'"));
  }
  return value;
}

absl::Status SetThreadsFromFlags(const Args& args) {
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  absl::StatusOr<int64_t> threads = IntFlag(args, "threads", cores, 1);
  if (!threads.ok()) return threads.status();
  at::set_num_threads(static_cast<int>(*threads));
  return absl::OkStatus();
}

absl::StatusOr<approx::WeightQuantization> WeightGranularityFlag(const Args& args) {
  const std::string g = args.Value("weight_granularity").value_or("per_channel");
  if (g == "per_channel") return approx::WeightQuantization::kPerChannel;
  if (g == "per_tensor") return approx::WeightQuantization::kPerTensor;
  return absl::InvalidArgumentError("--weight_granularity must be per_channel or per_tensor");
}

}  // namespace transaxx::cli
