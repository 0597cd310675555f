// transaxx-evaluator: the Evaluator service (approximate inference,
// calibration and model description; one process per GPU or CPU machine).
//
// Flags: the shared service flags (libs/rpc/service_flags.h) and
//   --models_dir DIR                 model directories (required)
//   --datasets_dir DIR[,DIR...]      dataset roots, before /usr/share/datasets
//   --multipliers_dir DIR[,DIR...]   EvoApproxLib-style folders, as evo:NAME
//   --shard_cache_dir DIR            image-folder shards (default: user cache)
//   --device auto|cpu|cuda|cuda:N     compute device (default auto: a GPU if any)
//   --threads N                      intra-op CPU threads (default: all cores)
//   --max_concurrent N               Evaluate/Calibrate calls at once (1)
//   --max_queued N                   calls that may wait for a slot (16)
//   --cache_budget_bytes N           memory for models and splits (0: no limit)
//   --batch_size N                   default images per batch (64)
//   --instance NAME                  name in GetStatus (default: host name)
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/approx/catalog.h"
#include "libs/rpc/log.h"
#include "libs/rpc/serve.h"
#include "libs/rpc/service_flags.h"
#include "libs/rpc/termination_signal.h"
#include "services/evaluator/evaluator_service.h"

ABSL_FLAG(std::string, models_dir, "", "folder of model directories (model.json + weights)");
ABSL_FLAG(std::vector<std::string>, datasets_dir, {},
          "dataset roots searched before /usr/share/datasets; comma-separated list");
ABSL_FLAG(std::vector<std::string>, multipliers_dir, {},
          "EvoApproxLib-style folders (multipliers.json + NAME.lut), imported as evo:NAME; "
          "comma-separated list");
ABSL_FLAG(std::string, shard_cache_dir, "", "where image-folder shards are kept");
ABSL_FLAG(std::string, device, "auto",
          "compute device: auto (the first GPU LibTorch sees, else the CPU), cpu, cuda or "
          "cuda:N");
ABSL_FLAG(int, threads, 0, "intra-op CPU threads; 0: all cores");
ABSL_FLAG(int, max_concurrent, 1, "Evaluate/Calibrate calls computing at once");
ABSL_FLAG(int, max_queued, 16, "calls that may wait for a slot before RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, cache_budget_bytes, 0,
          "memory for loaded models and dataset splits together; 0: no limit");
ABSL_FLAG(int, batch_size, 64, "images per batch when a request does not say");
ABSL_FLAG(std::string, instance, "", "instance name reported by GetStatus; default: host name");

namespace {

int Fail(const std::string& what, const absl::Status& s) {
  transaxx::rpc::LogError(what, {{"error", std::string(s.message())}});
  return 2;
}

// The --device flag as a LibTorch device that exists here.
absl::StatusOr<at::Device> DeviceFromFlag(const std::string& text) {
  const int gpus = static_cast<int>(torch::cuda::device_count());
  if (text == "auto") return gpus > 0 ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (text == "cpu") return at::Device(at::kCPU);
  int index = 0;
  if (text != "cuda" && !(absl::StartsWith(text, "cuda:") &&
                          absl::SimpleAtoi(text.substr(5), &index) && index >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--device: '", text, "' is not auto, cpu, cuda or cuda:N"));
  }
  if (index >= gpus) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--device: ", text, " asked for, but LibTorch sees ", gpus, " CUDA device(s)"));
  }
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string HostName() {
  char name[256] = {};
  return gethostname(name, sizeof(name) - 1) == 0 ? name : "evaluator";
}

}  // namespace

int main(int argc, char** argv) {
  namespace ev = transaxx::evaluator;
  transaxx::rpc::BlockTerminationSignals();
  absl::ParseCommandLine(argc, argv);
  auto options = transaxx::rpc::ServerOptionsFromFlags("transaxx-evaluator");
  if (!options.ok()) return Fail("bad flags", options.status());
  const std::string models_dir = absl::GetFlag(FLAGS_models_dir);
  if (models_dir.empty()) return Fail("bad flags", absl::InvalidArgumentError("--models_dir is required"));
  const int max_concurrent = absl::GetFlag(FLAGS_max_concurrent);
  const int max_queued = absl::GetFlag(FLAGS_max_queued);
  const int batch_size = absl::GetFlag(FLAGS_batch_size);
  const int threads = absl::GetFlag(FLAGS_threads);
  if (max_concurrent < 1 || max_queued < 0 || batch_size < 1 || threads < 0 ||
      absl::GetFlag(FLAGS_cache_budget_bytes) < 0) {
    return Fail("bad flags", absl::InvalidArgumentError(
                                 "--max_concurrent and --batch_size must be >= 1; --max_queued, "
                                 "--threads and --cache_budget_bytes >= 0"));
  }
  absl::StatusOr<at::Device> device = DeviceFromFlag(absl::GetFlag(FLAGS_device));
  if (!device.ok()) return Fail("bad flags", device.status());
  at::set_num_threads(threads > 0 ? threads
                                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));

  transaxx::approx::Catalog catalog = transaxx::approx::Catalog::WithBuiltins();
  for (const std::string& dir : absl::GetFlag(FLAGS_multipliers_dir)) {
    if (absl::Status s = catalog.ImportEvoApprox(dir); !s.ok()) {
      return Fail("cannot import multipliers", s);
    }
  }
  transaxx::data::DatasetOptions dataset_options;
  dataset_options.roots = absl::GetFlag(FLAGS_datasets_dir);
  dataset_options.cache_dir = absl::GetFlag(FLAGS_shard_cache_dir);

  ev::EvaluatorOptions service_options;
  service_options.instance =
      absl::GetFlag(FLAGS_instance).empty() ? HostName() : absl::GetFlag(FLAGS_instance);
  service_options.default_batch_size = batch_size;
  service_options.device = *device;
  service_options.cache_budget_bytes = absl::GetFlag(FLAGS_cache_budget_bytes);

  transaxx::rpc::MetricsRegistry registry;
  ev::EvaluatorMetrics metrics(registry);
  ev::CacheBudget budget(service_options.cache_budget_bytes);
  ev::ModelStore models(models_dir, *device, &budget);
  ev::DatasetStore datasets(dataset_options, &budget);
  ev::CalibrationStore calibrations(absl::GetFlag(FLAGS_state_dir));
  ev::Admission admission(max_concurrent, max_queued);
  ev::EvaluatorService service(service_options, &models, &datasets, &calibrations, &catalog,
                               &admission, &metrics, &registry);
  return transaxx::rpc::ServeUntilTerminated(
      *options, {{&service, transaxx::v1::Evaluator::service_full_name()}}, registry);
}
