#include "cli/models_command.h"

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "cli/local_flags.h"
#include "cli/remote.h"
#include "cli/text_table.h"
#include "libs/nn/approximable_layers.h"
#include "libs/nn/model_dir.h"
#include "libs/rpc/v1_enums.h"
#include "transaxx/v1/evaluator.grpc.pb.h"

namespace transaxx::cli {

const char kModelsHelp[] = R"(Usage: transaxx models COMMAND [FLAGS]

Model directories (model.json + model.safetensors), read locally, or the
models of an evaluator server with --server HOST:PORT (then --model is a model
id of the server; client flags as for every remote command: --tls_ca,
--tls_cert, --tls_key, --auth_token_file, --timeout).

Commands:
  list                  Every model directory directly under --models_dir:
                        name, architecture, classes, content hash.
      --models_dir DIR    (default $TRANSAXX_MODELS_DIR)
  describe              The approximable layers of a model, in model order:
                        name, kind, operand shapes (per image), output shape,
                        MACs per image and share, exact by default (the head).
      --model DIR         the model directory (required)
      --attention_matmuls also list the attention matmuls (attn.qk, attn.av)

Flags of every command:
  --output table|json   output format (default table)

Examples:
  transaxx models list --models_dir deploy/local/models
  transaxx models describe --model deploy/local/models/fashion-vit --output json
  transaxx models list --server 127.0.0.1:50051
  transaxx models describe --server 127.0.0.1:50051 --model fashion-vit
)";

namespace {

namespace fs = std::filesystem;
namespace v1 = transaxx::v1;

std::string Shape(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

int List(const Args& args, bool json) {
  std::string dir;
  if (auto flag = args.Value("models_dir")) {
    dir = *flag;
  } else if (const char* env = std::getenv("TRANSAXX_MODELS_DIR")) {
    dir = env;
  }
  if (dir.empty()) {
    return ReportError(absl::InvalidArgumentError("--models_dir (or TRANSAXX_MODELS_DIR) is required"),
                       true);
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return ReportError(absl::NotFoundError(absl::StrCat("models folder ", dir, " does not exist")));
  }
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / nn::kModelJson)) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  nlohmann::json out = nlohmann::json::array();
  TextTable table({"NAME", "ARCHITECTURE", "CLASSES", "HASH"});
  for (const fs::path& path : dirs) {
    absl::StatusOr<nn::ModelDescription> d = nn::ReadModelDescription(path);
    absl::StatusOr<std::string> hash = nn::ModelContentHash(path);
    if (!d.ok() || !hash.ok()) {
      std::fprintf(stderr, "transaxx: warning: skipping %s: %s\n", path.c_str(),
                   (!d.ok() ? d.status() : hash.status()).ToString().c_str());
      continue;
    }
    const std::string name = path.filename().string();
    out.push_back({{"name", name},
                   {"dir", path.string()},
                   {"architecture", nn::VitConfigToJson(d->architecture)},
                   {"num_classes", d->architecture.num_classes},
                   {"content_hash", *hash}});
    table.AddRow({name, d->architecture.name.empty() ? "custom" : d->architecture.name,
                  absl::StrCat(d->architecture.num_classes), hash->substr(0, 12)});
  }
  std::printf("%s", json ? (out.dump(2) + "\n").c_str() : table.Render().c_str());
  return kExitOk;
}

// Prints a model's approximable layers (local or remote) as `describe` does.
void PrintLayers(const std::string& model, const std::string& architecture,
                 const std::string& hash, const nlohmann::json& architecture_json,
                 const std::vector<nn::ApproximableLayer>& layers, bool json) {
  int64_t total = 0;
  for (const nn::ApproximableLayer& l : layers) total += l.macs_per_image;
  if (json) {
    nlohmann::json out = {{"model", model},
                          {"content_hash", hash},
                          {"architecture", architecture_json},
                          {"total_macs_per_image", total},
                          {"layers", nlohmann::json::array()}};
    for (const nn::ApproximableLayer& l : layers) {
      out["layers"].push_back({{"name", l.name},
                               {"kind", nn::LayerKindName(l.kind)},
                               {"input_shape", l.input_shape},
                               {"weight_shape", l.weight_shape},
                               {"output_shape", l.output_shape},
                               {"macs_per_image", l.macs_per_image},
                               {"exact_by_default", l.exact_by_default}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("model %s (%s), content hash %s\n", model.c_str(), architecture.c_str(),
              hash.c_str());
  TextTable table({"LAYER", "KIND", "INPUT", "WEIGHT", "OUTPUT", "MACS/IMAGE", "SHARE", "DEFAULT"});
  for (const nn::ApproximableLayer& l : layers) {
    table.AddRow({l.name, nn::LayerKindName(l.kind), Shape(l.input_shape), Shape(l.weight_shape),
                  Shape(l.output_shape), absl::StrCat(l.macs_per_image),
                  absl::StrFormat("%.2f%%", 100.0 * static_cast<double>(l.macs_per_image) /
                                                static_cast<double>(total)),
                  l.exact_by_default ? "exact" : "approximable"});
  }
  std::printf("%s%zu layers, %lld MACs per image\n", table.Render().c_str(), layers.size(),
              static_cast<long long>(total));
}

int Describe(const Args& args, bool json) {
  const std::optional<std::string> dir = args.Value("model");
  if (!dir) return ReportError(absl::InvalidArgumentError("--model is required"), true);
  absl::StatusOr<nn::ModelDescription> d = nn::ReadModelDescription(*dir);
  if (!d.ok()) return ReportError(d.status());
  absl::StatusOr<std::string> hash = nn::ModelContentHash(*dir);
  if (!hash.ok()) return ReportError(hash.status());
  PrintLayers(*dir, d->architecture.name.empty() ? "custom" : d->architecture.name, *hash,
              nn::VitConfigToJson(d->architecture),
              nn::ApproximableLayers(d->architecture, args.Has("attention_matmuls")), json);
  return kExitOk;
}

std::vector<int64_t> Dims(const v1::TensorShape& shape) {
  return std::vector<int64_t>(shape.dims().begin(), shape.dims().end());
}

// `models list --server`: the evaluator's models.
int RemoteList(const Args& args, bool json) {
  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return ReportError(channel.status(), true);
  auto stub = v1::Evaluator::NewStub(channel->channel());
  v1::ListModelsResponse response;
  auto context = channel->NewCall();
  if (absl::Status s = FromGrpc(stub->ListModels(context.get(), {}, &response), args); !s.ok()) {
    return ReportError(s);
  }
  nlohmann::json out = nlohmann::json::array();
  TextTable table({"NAME", "ARCHITECTURE", "CLASSES", "PARAMETERS", "HASH", "LOADED"});
  for (const v1::ModelInfo& m : response.models()) {
    out.push_back({{"name", m.ref().id()},
                   {"architecture", m.architecture()},
                   {"num_classes", m.num_classes()},
                   {"parameter_count", m.parameter_count()},
                   {"content_hash", m.ref().content_hash()},
                   {"loaded", m.loaded()}});
    table.AddRow({m.ref().id(), m.architecture(), absl::StrCat(m.num_classes()),
                  absl::StrCat(m.parameter_count()), m.ref().content_hash().substr(0, 12),
                  m.loaded() ? "yes" : "no"});
  }
  std::printf("%s", json ? (out.dump(2) + "\n").c_str() : table.Render().c_str());
  return kExitOk;
}

// `models describe --server --model ID`: DescribeModel of the evaluator.
int RemoteDescribe(const Args& args, bool json) {
  const std::optional<std::string> id = args.Value("model");
  if (!id) return ReportError(absl::InvalidArgumentError("--model is required"), true);
  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return ReportError(channel.status(), true);
  auto stub = v1::Evaluator::NewStub(channel->channel());
  v1::DescribeModelRequest request;
  request.mutable_model()->set_id(*id);
  v1::DescribeModelResponse response;
  auto context = channel->NewCall();
  if (absl::Status s = FromGrpc(stub->DescribeModel(context.get(), request, &response), args);
      !s.ok()) {
    return ReportError(s);
  }
  std::vector<nn::ApproximableLayer> layers;
  for (const v1::ApproximableLayer& l : response.layers()) {
    const bool attention =
        l.kind() == v1::LAYER_KIND_ATTENTION_QK || l.kind() == v1::LAYER_KIND_ATTENTION_AV;
    if (attention && !args.Has("attention_matmuls")) continue;
    layers.push_back({l.name(), rpc::LayerKindFromProto(l.kind()), Dims(l.input_shape()),
                      Dims(l.weight_shape()), Dims(l.output_shape()), l.macs_per_image(),
                      l.exact_by_default()});
  }
  PrintLayers(*id, response.model().architecture(), response.model().ref().content_hash(),
              response.model().architecture(), layers, json);
  return kExitOk;
}

}  // namespace

int RunModelsCommand(const std::vector<std::string>& words) {
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::printf("%s", kModelsHelp);
    return words.empty() ? kExitUsage : kExitOk;
  }
  const std::string& command = words[0];
  if (command != "list" && command != "describe") {
    return ReportError(absl::InvalidArgumentError("unknown command 'models " + command +
                                                  "'; see transaxx models --help"),
                       true);
  }
  std::set<std::string> value_flags = {"output"};
  value_flags.insert(ClientFlags().begin(), ClientFlags().end());
  std::set<std::string> bool_flags = {"help"};
  if (command == "list") value_flags.insert("models_dir");
  if (command == "describe") {
    value_flags.insert("model");
    bool_flags.insert("attention_matmuls");
  }
  auto args = Args::Parse(std::vector<std::string>(words.begin() + 1, words.end()), value_flags,
                          bool_flags);
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kModelsHelp);
    return kExitOk;
  }
  auto json = WantJson(*args);
  if (!json.ok()) return ReportError(json.status(), true);
  if (args->Value("server")) {
    if (args->Value("models_dir")) {
      return ReportError(absl::InvalidArgumentError("--models_dir is local; the server has its own"),
                         true);
    }
    return command == "list" ? RemoteList(*args, *json) : RemoteDescribe(*args, *json);
  }
  return command == "list" ? List(*args, *json) : Describe(*args, *json);
}

}  // namespace transaxx::cli
