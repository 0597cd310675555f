// transaxx-power-model: the PowerModel service (multiplier catalog with
// error and hardware figures, characterization, configuration power).
//
// Flags: the shared service flags (libs/rpc/service_flags.h) and
//   --multipliers_dir DIR[,DIR...]  EvoApproxLib-style folders (comma list)
//   --yosys PATH                   Yosys for synthesis estimates
//   --synthesis_timeout DURATION   limit of one Yosys run
//   --warm_builtins                estimate the default built-ins at start-up
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "libs/approx/builtin.h"
#include "libs/approx/power_catalog.h"
#include "libs/rpc/log.h"
#include "libs/rpc/serve.h"
#include "libs/rpc/service_flags.h"
#include "libs/rpc/termination_signal.h"
#include "services/power_model/power_model_service.h"

ABSL_FLAG(std::vector<std::string>, multipliers_dir, {},
          "EvoApproxLib-style folders (multipliers.json + NAME.lut), imported as evo:NAME; "
          "comma-separated list");
ABSL_FLAG(std::string, yosys, "yosys", "Yosys executable (path or name in PATH)");
ABSL_FLAG(absl::Duration, synthesis_timeout, absl::Minutes(2), "limit of one Yosys run");
ABSL_FLAG(bool, warm_builtins, true,
          "estimate the default built-ins' hardware figures in the background at start-up");

int main(int argc, char** argv) {
  transaxx::rpc::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  auto options = transaxx::rpc::ServerOptionsFromFlags("transaxx-power-model");
  if (!options.ok()) {
    transaxx::rpc::LogError("bad flags", {{"error", std::string(options.status().message())}});
    return 2;
  }
  transaxx::rpc::MetricsRegistry registry;
  transaxx::power_model::PowerModelMetrics metrics(registry);
  transaxx::approx::PowerCatalogOptions catalog_options;
  catalog_options.evoapprox_dirs = absl::GetFlag(FLAGS_multipliers_dir);
  catalog_options.state_dir = absl::GetFlag(FLAGS_state_dir);
  catalog_options.synthesis.yosys = absl::GetFlag(FLAGS_yosys);
  catalog_options.synthesis.timeout = absl::GetFlag(FLAGS_synthesis_timeout);
  catalog_options.on_synthesis = [&metrics](absl::Duration d) {
    metrics.synthesis_runs.Increment();
    metrics.synthesis_seconds.Observe(absl::ToDoubleSeconds(d));
  };
  auto catalog = transaxx::approx::PowerCatalog::Open(std::move(catalog_options));
  if (!catalog.ok()) {
    transaxx::rpc::LogError("cannot open the catalog",
                            {{"error", std::string(catalog.status().message())}});
    return 1;
  }
  if (absl::GetFlag(FLAGS_warm_builtins)) {
    (*catalog)->WarmInBackground(transaxx::approx::DefaultBuiltinIds());
  }
  transaxx::power_model::PowerModelService service(catalog->get(), &metrics);
  return transaxx::rpc::ServeUntilTerminated(
      *options, {{&service, transaxx::v1::PowerModel::service_full_name()}}, registry);
}
