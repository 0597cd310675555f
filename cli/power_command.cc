#include "cli/power_command.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "cli/local_flags.h"
#include "cli/text_table.h"
#include "libs/nn/approx_config.h"
#include "libs/nn/approximable_layers.h"
#include "libs/nn/model_dir.h"
#include "cli/remote.h"
#include "libs/rpc/client_channel.h"
#include "libs/rpc/v1_enums.h"
#include "transaxx/v1/power_model.grpc.pb.h"

namespace transaxx::cli {

const char kPowerHelp[] = R"(Usage: transaxx power estimate --server HOST:PORT (--model DIR | --layers FILE.json)
                                --config FILE.json [--output table|json]

Estimates the relative power (the TransAxx paper's metric, 1 = all exact),
absolute power and energy of a configuration, with a per-layer breakdown.

  --model DIR     a model directory: its approximable layers and MACs
  --layers FILE   or a JSON array of layers:
                  [{"name": "blocks.0.mlp.fc1", "macs_per_image": 1769472,
                    "kind": "linear"}, ...]   kind: linear, conv2d,
                  attention_qk, attention_av (optional)
  --config FILE   a configuration, as for transaxx eval:
                  {"default": "exact", "layers": {"LAYER": "MULTIPLIER_ID"},
                   "include_attention_matmuls": false}
                  "default" covers every layer not listed.
  --output table|json   (default table)

Client flags:
  --server HOST:PORT    the power model (default $TRANSAXX_SERVER)
  --tls_ca/--tls_cert/--tls_key FILE, --auth_token_file FILE
                        TLS and token (default $TRANSAXX_TLS_CA, ...)
  --timeout DURATION    deadline of each call (default 30s)
)";

namespace {

namespace v1 = transaxx::v1;

struct Connection {
  rpc::ClientChannel channel;
  std::unique_ptr<v1::PowerModel::Stub> stub;
};

absl::StatusOr<Connection> Connect(const Args& args) {
  absl::StatusOr<rpc::ClientChannel> channel = ConnectFromFlags(args);
  if (!channel.ok()) return channel.status();
  auto stub = v1::PowerModel::NewStub(channel->channel());
  return Connection{*std::move(channel), std::move(stub)};
}

approx::ErrorFigures FromProto(const v1::ErrorFigures& f) {
  approx::ErrorFigures e{};
  e.mae = f.mae();
  e.wce = f.wce();
  e.wcre_pct = 100 * f.wcre();
  e.ep_pct = 100 * f.ep();
  e.mre_pct = 100 * f.mre();
  e.mse = f.mse();
  e.mred = f.mred();
  e.nmed = f.nmed();
  e.mean_error = f.mean_error();
  e.pairs = f.pair_count();
  return e;
}

MultiplierSummary Summary(const v1::MultiplierInfo& m) {
  MultiplierSummary s;
  s.id = m.ref().id();
  s.family = m.family();
  s.content_hash = m.ref().content_hash();
  s.source = m.source();
  s.is_signed = m.signedness() != v1::SIGNEDNESS_UNSIGNED;
  s.errors.full = FromProto(m.full_range());
  s.errors.narrow = FromProto(m.narrow_range());
  s.errors.error_rank = m.full_range().error_rank();
  const v1::HardwareFigures& h = m.hardware();
  if (h.has_power_mw()) s.power_mw = h.power_mw();
  if (h.has_area_um2()) s.area_um2 = h.area_um2();
  if (h.has_delay_ns()) s.delay_ns = h.delay_ns();
  s.provenance = h.provenance() == v1::FIGURE_PROVENANCE_PUBLISHED   ? "published"
                 : h.provenance() == v1::FIGURE_PROVENANCE_ESTIMATED ? "estimated"
                                                                     : "unknown";
  if (auto path = rpc::KernelPathFromProto(m.structure().kernel_path())) {
    s.kernel_path = approx::KernelPathName(*path);
  }
  s.structure = m.structure().description();
  return s;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot open ", path));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " is not JSON"));
  return j;
}

absl::Status ReadLayers(const std::string& path, v1::EstimatePowerRequest* r) {
  absl::StatusOr<nlohmann::json> j = ReadJsonFile(path, "--layers");
  if (!j.ok()) return j.status();
  if (!j->is_array()) return absl::InvalidArgumentError(absl::StrCat("--layers: ", path, " is not a JSON array"));
  for (size_t i = 0; i < j->size(); ++i) {
    const nlohmann::json& l = (*j)[i];
    if (!l.is_object() || !l.contains("name") || !l["name"].is_string() ||
        !l.contains("macs_per_image") || !l["macs_per_image"].is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--layers: ", path, ": entry ", i, " needs a string \"name\" and an integer \"macs_per_image\""));
    }
    v1::LayerMacs* out = r->add_layers();
    out->set_name(l["name"].get<std::string>());
    out->set_macs_per_image(l["macs_per_image"].get<int64_t>());
    const std::string kind = l.value("kind", "");
    if (kind == "linear") out->set_kind(v1::LAYER_KIND_LINEAR);
    else if (kind == "conv2d") out->set_kind(v1::LAYER_KIND_CONV2D);
    else if (kind == "attention_qk") out->set_kind(v1::LAYER_KIND_ATTENTION_QK);
    else if (kind == "attention_av") out->set_kind(v1::LAYER_KIND_ATTENTION_AV);
    else if (!kind.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--layers: ", path, ": entry ", i,
                                                     " has unknown kind '", kind, "'"));
    }
  }
  return absl::OkStatus();
}

void AddConfiguration(const nn::ApproxConfig& config, v1::EstimatePowerRequest* r) {
  v1::Configuration* c = r->mutable_configuration();
  if (config.default_multiplier) c->mutable_default_multiplier()->set_id(*config.default_multiplier);
  for (const auto& [layer, id] : config.layers) {
    v1::LayerAssignment* a = c->add_assignments();
    a->set_layer(layer);
    a->mutable_multiplier()->set_id(id);
  }
}

// The approximable layers of the model in `dir` (the attention matmuls when
// the configuration includes them).
absl::Status AddModelLayers(const std::string& dir, bool attention, v1::EstimatePowerRequest* r) {
  absl::StatusOr<nn::ModelDescription> d = nn::ReadModelDescription(dir);
  if (!d.ok()) return d.status();
  for (const nn::ApproximableLayer& l : nn::ApproximableLayers(d->architecture, attention)) {
    v1::LayerMacs* out = r->add_layers();
    out->set_name(l.name);
    out->set_macs_per_image(l.macs_per_image);
    out->set_kind(rpc::LayerKindToProto(l.kind));
  }
  return absl::OkStatus();
}

const char* ProvenanceName(v1::FigureProvenance p) {
  switch (p) {
    case v1::FIGURE_PROVENANCE_PUBLISHED: return "published";
    case v1::FIGURE_PROVENANCE_ESTIMATED: return "estimated";
    default: return "unknown";
  }
}

int Estimate(const Args& args) {
  absl::StatusOr<bool> json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  if (!args.Value("layers") == !args.Value("model") || !args.Value("config")) {
    return ReportError(
        absl::InvalidArgumentError("give --config FILE and one of --model DIR or --layers FILE"),
        true);
  }
  absl::StatusOr<nn::ApproxConfig> config = nn::ReadApproxConfig(*args.Value("config"));
  if (!config.ok()) return ReportError(config.status());
  v1::EstimatePowerRequest request;
  if (auto model = args.Value("model")) {
    if (absl::Status s = AddModelLayers(*model, config->include_attention_matmuls, &request);
        !s.ok()) {
      return ReportError(s);
    }
  } else if (absl::Status s = ReadLayers(*args.Value("layers"), &request); !s.ok()) {
    return ReportError(s);
  }
  AddConfiguration(*config, &request);
  absl::StatusOr<Connection> conn = Connect(args);
  if (!conn.ok()) return ReportError(conn.status(), conn.status().code() == absl::StatusCode::kInvalidArgument);
  v1::EstimatePowerResponse response;
  auto context = conn->channel.NewCall();
  if (absl::Status s = FromGrpc(conn->stub->EstimatePower(context.get(), request, &response),
                                args);
      !s.ok()) {
    return ReportError(s);
  }
  const v1::PowerFigures& p = response.power();
  if (*json) {
    nlohmann::json out = {{"relative_power", p.relative_power()},
                          {"provenance", ProvenanceName(p.provenance())},
                          {"config_hash", response.config_hash()},
                          {"total_macs_per_image", response.total_macs_per_image()},
                          {"approximated_mac_fraction", response.approximated_mac_fraction()},
                          {"approximated_power_share", response.approximated_power_share()}};
    if (p.has_power_mw()) out["power_mw"] = p.power_mw();
    if (p.has_energy_pj_per_inference()) out["energy_pj_per_inference"] = p.energy_pj_per_inference();
    nlohmann::json layers = nlohmann::json::array();
    for (const v1::LayerPower& l : response.layers()) {
      nlohmann::json item = {{"layer", l.layer()},
                             {"macs_per_image", l.macs_per_image()},
                             {"mac_fraction", l.mac_fraction()},
                             {"multiplier", l.multiplier().id()},
                             {"multiplier_relative_power", l.multiplier_relative_power()},
                             {"relative_power_contribution", l.relative_power_contribution()},
                             {"provenance", ProvenanceName(l.provenance())}};
      if (l.has_power_mw_contribution()) item["power_mw_contribution"] = l.power_mw_contribution();
      if (l.has_energy_pj_per_inference()) item["energy_pj_per_inference"] = l.energy_pj_per_inference();
      layers.push_back(item);
    }
    out["layers"] = layers;
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  TextTable table({"LAYER", "MACS", "SHARE", "MULTIPLIER", "REL POWER", "CONTRIBUTION", "FIGURES"});
  for (const v1::LayerPower& l : response.layers()) {
    table.AddRow({l.layer(), std::to_string(l.macs_per_image()), absl::StrFormat("%.4f", l.mac_fraction()),
                  l.multiplier().id(), absl::StrFormat("%.4f", l.multiplier_relative_power()),
                  absl::StrFormat("%.4f", l.relative_power_contribution()), ProvenanceName(l.provenance())});
  }
  std::printf("%s\n", table.Render().c_str());
  std::printf("relative power:   %.4f (saving %.1f%%, %s figures)\n", p.relative_power(),
              100 * (1 - p.relative_power()), ProvenanceName(p.provenance()));
  std::printf("approximated:     %.1f%% of MACs, %.4f of the relative power\n",
              100 * response.approximated_mac_fraction(), response.approximated_power_share());
  if (p.has_power_mw()) std::printf("multiplier power: %.4f mW (MAC-weighted mean)\n", p.power_mw());
  if (p.has_energy_pj_per_inference()) {
    std::printf("energy:           %.1f pJ per image\n", p.energy_pj_per_inference());
  }
  std::printf("config hash:      %s\n", response.config_hash().c_str());
  return kExitOk;
}

}  // namespace

absl::StatusOr<std::vector<MultiplierSummary>> FetchMultipliers(const Args& args,
                                                                const std::string& glob) {
  absl::StatusOr<Connection> conn = Connect(args);
  if (!conn.ok()) return conn.status();
  v1::ListMultipliersRequest request;
  if (!glob.empty()) request.mutable_filter()->add_id_globs(glob);
  request.set_page_size(1000);
  std::vector<MultiplierSummary> out;
  do {
    v1::ListMultipliersResponse response;
    auto context = conn->channel.NewCall();
    if (absl::Status s = FromGrpc(conn->stub->ListMultipliers(context.get(), request, &response),
                                  args);
        !s.ok()) {
      return s;
    }
    for (const v1::MultiplierInfo& m : response.multipliers()) out.push_back(Summary(m));
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return out;
}

absl::StatusOr<MultiplierSummary> FetchMultiplier(const Args& args, const std::string& id) {
  absl::StatusOr<Connection> conn = Connect(args);
  if (!conn.ok()) return conn.status();
  v1::GetMultiplierRequest request;
  request.mutable_multiplier()->set_id(id);
  v1::GetMultiplierResponse response;
  auto context = conn->channel.NewCall();
  if (absl::Status s = FromGrpc(conn->stub->GetMultiplier(context.get(), request, &response),
                                args);
      !s.ok()) {
    return s;
  }
  return Summary(response.multiplier());
}

int RunPowerCommand(const std::vector<std::string>& words) {
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::printf("%s", kPowerHelp);
    return words.empty() ? kExitUsage : kExitOk;
  }
  if (words[0] != "estimate") {
    return ReportError(absl::InvalidArgumentError("unknown command 'power " + words[0] +
                                                  "'; see transaxx power --help"),
                       true);
  }
  std::set<std::string> value_flags = ClientFlags();
  value_flags.insert({"layers", "model", "config", "output"});
  auto args = Args::Parse({words.begin() + 1, words.end()}, value_flags, {"help"});
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kPowerHelp);
    return kExitOk;
  }
  return Estimate(*args);
}

}  // namespace transaxx::cli
