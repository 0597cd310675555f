#include "cli/multipliers_command.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "cli/args.h"
#include "cli/command.h"
#include "cli/local_flags.h"
#include "cli/power_command.h"
#include "cli/remote.h"
#include "cli/text_table.h"
#include "libs/approx/builtin.h"
#include "libs/approx/catalog.h"
#include "libs/approx/error_metrics.h"
#include "libs/approx/structure.h"
#include "libs/approx/structure_cache.h"
#include "libs/approx/table_io.h"
#include "libs/approx/torch/approx_ops.h"

namespace transaxx::cli {

const char kMultipliersHelp[] = R"(Usage: transaxx multipliers COMMAND [FLAGS]

Multiplier commands; list and show run locally, or against a power model
server with --server HOST:PORT (and the client flags of 'transaxx power').

Commands:
  list                  The catalog: built-in multipliers and imported tables,
                        with their error figures.
      --match GLOB        only IDs matching GLOB, e.g. 'evo:mul8s_*' or 'drum:*'
  show ID               One multiplier: family, parameters, hash, error
                        figures over the full and the narrow range, and the
                        published hardware figures of imported tables.
  characterize FILE     Error figures of a table file: an EvoApproxLib .lut
                        (65,536 16-bit words) or a CSV of lines 'a,b,product'.
      --signed | --unsigned   how to read the operands (required)

Flags of every command (--multipliers_dir only locally):
  --multipliers_dir DIR   an EvoApproxLib-style folder (multipliers.json and
                          NAME.lut files) imported as evo:NAME; default
                          $TRANSAXX_MULTIPLIERS_DIR
  --output table|json     output format (default table)

Figures: MAE/WCE mean/worst-case absolute error, WCRE worst-case relative
error (%), EP error probability (%), MRE mean relative error (%), MSE mean
squared error, MRED mean relative error distance, NMED MAE normalized by the
largest exact product, mean error (signed), error rank (rank of LUT - a*b).
The narrow range is operands in [-127, 127] ([0, 127] for unsigned tables),
what symmetric int8 quantization produces.

Examples:
  transaxx multipliers list --match 'drum:*'
  transaxx multipliers show mask:a=1,b=1
  transaxx multipliers characterize mul8s_1L2J.lut --signed --output json
)";

namespace {

using approx::Catalog;
using approx::CatalogEntry;
using approx::ErrorFigures;
using approx::ErrorReport;

const std::set<std::string> kCommonFlags = {"multipliers_dir", "output"};

std::string Fixed(double v, int digits) { return absl::StrFormat("%.*f", digits, v); }

nlohmann::json FiguresJson(const ErrorFigures& f) {
  return {{"mae", f.mae},           {"wce", f.wce},         {"wcre_pct", f.wcre_pct},
          {"ep_pct", f.ep_pct},     {"mre_pct", f.mre_pct}, {"mse", f.mse},
          {"mred", f.mred},         {"nmed", f.nmed},       {"mean_error", f.mean_error}};
}

nlohmann::json ReportJson(const ErrorReport& r) {
  nlohmann::json j = FiguresJson(r.full);
  j["error_rank"] = r.error_rank;
  j["narrow_range"] = FiguresJson(r.narrow);
  return j;
}

MultiplierSummary LocalSummary(const CatalogEntry& e) {
  MultiplierSummary s;
  s.id = e.multiplier.id();
  s.family = e.multiplier.family();
  s.content_hash = e.multiplier.content_hash();
  s.source = e.source;
  s.is_signed = e.multiplier.is_signed();
  s.errors = approx::ComputeErrorFigures(e.multiplier);
  if (const auto& p = e.published) {
    s.power_mw = p->power_mw;
    s.area_um2 = p->area_um2;
    s.delay_ns = p->delay_ns;
    s.provenance = "published";
  }
  return s;
}

std::string SignednessName(bool is_signed) { return is_signed ? "signed" : "unsigned"; }

// The multipliers to list: from the server with --server, else the local catalog.
absl::StatusOr<std::vector<MultiplierSummary>> ListSummaries(const Args& args) {
  const std::string glob = args.Value("match").value_or("");
  if (args.Value("server")) return FetchMultipliers(args, glob);
  auto catalog = CatalogFromFlags(args);
  if (!catalog.ok()) return catalog.status();
  std::vector<MultiplierSummary> out;
  for (const CatalogEntry& e : glob.empty() ? catalog->entries() : catalog->Match(glob)) {
    out.push_back(LocalSummary(e));
  }
  return out;
}

int List(const Args& args) {
  auto json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  auto entries = ListSummaries(args);
  if (!entries.ok()) return ReportError(entries.status());
  nlohmann::json out = nlohmann::json::array();
  TextTable table({"ID", "SIGN", "MAE", "WCE", "EP %", "MRED", "RANK", "POWER mW"});
  for (const MultiplierSummary& e : *entries) {
    const ErrorReport& r = e.errors;
    if (*json) {
      nlohmann::json item = {{"id", e.id},
                             {"signed", e.is_signed},
                             {"content_hash", e.content_hash},
                             {"source", e.source},
                             {"errors", ReportJson(r)}};
      if (e.power_mw) item["power_mw"] = *e.power_mw;
      out.push_back(item);
    } else {
      table.AddRow({e.id, SignednessName(e.is_signed), Fixed(r.full.mae, 2),
                    Fixed(r.full.wce, 0), Fixed(r.full.ep_pct, 2), Fixed(r.full.mred, 5),
                    std::to_string(r.error_rank), e.power_mw ? Fixed(*e.power_mw, 3) : "-"});
    }
  }
  if (*json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%s", table.Render().c_str());
    std::printf("%zu multipliers. Any built-in ID works beyond this list, e.g. drum:k=7.\n",
                entries->size());
  }
  return kExitOk;
}

std::string FamilySummary(const std::string& family) {
  for (const approx::Family& f : approx::BuiltinFamilies()) {
    if (f.name == family) return f.summary;
  }
  return "";
}

void PrintFigures(const ErrorReport& r) {
  TextTable table({"FIGURE", "FULL RANGE", "NARROW RANGE"});
  auto row = [&](const std::string& name, double full, double narrow, int digits) {
    table.AddRow({name, Fixed(full, digits), Fixed(narrow, digits)});
  };
  row("MAE", r.full.mae, r.narrow.mae, 4);
  row("WCE", r.full.wce, r.narrow.wce, 0);
  row("WCRE %", r.full.wcre_pct, r.narrow.wcre_pct, 2);
  row("EP %", r.full.ep_pct, r.narrow.ep_pct, 4);
  row("MRE %", r.full.mre_pct, r.narrow.mre_pct, 4);
  row("MSE", r.full.mse, r.narrow.mse, 4);
  row("MRED", r.full.mred, r.narrow.mred, 6);
  row("NMED", r.full.nmed, r.narrow.nmed, 8);
  row("mean error", r.full.mean_error, r.narrow.mean_error, 4);
  std::printf("%s", table.Render().c_str());
  std::printf("error rank: %d\n", r.error_rank);
}

int Show(const Args& args) {
  if (args.positional().size() != 1) {
    return ReportError(absl::InvalidArgumentError("usage: transaxx multipliers show ID"), true);
  }
  auto json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  absl::StatusOr<MultiplierSummary> m;
  if (args.Value("server")) {
    m = FetchMultiplier(args, args.positional()[0]);
  } else {
    auto catalog = CatalogFromFlags(args);
    if (!catalog.ok()) return ReportError(catalog.status());
    auto entry = catalog->Get(args.positional()[0]);
    if (!entry.ok()) return ReportError(entry.status());
    m = LocalSummary(*entry);
    // Cached: CpuGemmKernel looks the same analysis up.
    auto analyzed = approx::CachedStructure(entry->multiplier);
    if (!analyzed.ok()) return ReportError(analyzed.status());
    m->kernel_path = approx::KernelPathName((*analyzed)->path);
    m->structure = (*analyzed)->Describe();
    m->cpu_kernel = approx::CpuGemmKernel(entry->multiplier);
  }
  if (!m.ok()) return ReportError(m.status());
  const ErrorReport& r = m->errors;
  const bool has_hardware = m->power_mw || m->area_um2 || m->delay_ns;
  if (*json) {
    nlohmann::json out = {{"id", m->id},         {"family", m->family},
                          {"signed", m->is_signed}, {"content_hash", m->content_hash},
                          {"source", m->source}, {"errors", ReportJson(r)}};
    if (!m->kernel_path.empty()) out["kernel_path"] = m->kernel_path;
    if (!m->structure.empty()) out["structure"] = m->structure;
    if (!m->cpu_kernel.empty()) out["cpu_kernel"] = m->cpu_kernel;
    if (has_hardware) {
      nlohmann::json hw = {{"provenance", m->provenance}};
      if (m->power_mw) hw["power_mw"] = *m->power_mw;
      if (m->area_um2) hw["area_um2"] = *m->area_um2;
      if (m->delay_ns) hw["delay_ns"] = *m->delay_ns;
      out[m->provenance == "published" ? "published" : "hardware"] = hw;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("id:        %s\n", m->id.c_str());
  std::printf("family:    %s\n", m->family.c_str());
  if (std::string summary = FamilySummary(m->family); !summary.empty()) {
    std::printf("           %s\n", summary.c_str());
  }
  std::printf("operands:  %s\n", SignednessName(m->is_signed).c_str());
  std::printf("hash:      %s\n", m->content_hash.c_str());
  std::printf("source:    %s\n", m->source.c_str());
  if (!m->structure.empty()) std::printf("kernel path: %s\n", m->structure.c_str());
  if (!m->cpu_kernel.empty()) std::printf("cpu kernel:  %s\n", m->cpu_kernel.c_str());
  if (has_hardware) {
    std::printf("%-10s power %s mW, area %s um2, delay %s ns\n", (m->provenance + ":").c_str(),
                m->power_mw ? Fixed(*m->power_mw, 3).c_str() : "-",
                m->area_um2 ? Fixed(*m->area_um2, 1).c_str() : "-",
                m->delay_ns ? Fixed(*m->delay_ns, 2).c_str() : "-");
  }
  std::printf("\n");
  PrintFigures(r);
  return kExitOk;
}

int Characterize(const Args& args) {
  if (args.positional().size() != 1) {
    return ReportError(absl::InvalidArgumentError(
                           "usage: transaxx multipliers characterize FILE --signed|--unsigned"),
                       true);
  }
  if (args.Has("signed") == args.Has("unsigned")) {
    return ReportError(absl::InvalidArgumentError("give exactly one of --signed and --unsigned"),
                       true);
  }
  auto json = WantJson(args);
  if (!json.ok()) return ReportError(json.status(), true);
  const std::string& path = args.positional()[0];
  const approx::Signedness signedness =
      args.Has("signed") ? approx::Signedness::kSigned : approx::Signedness::kUnsigned;
  absl::StatusOr<approx::Table> table = absl::EndsWith(path, ".csv")
                                            ? approx::ReadCsvTable(path, signedness)
                                            : approx::ReadEvoApproxLut(path, signedness);
  if (!table.ok()) return ReportError(table.status());
  auto m = approx::Multiplier::Create("user:" + path, signedness, *table);
  if (!m.ok()) return ReportError(m.status());
  const ErrorReport r = approx::ComputeErrorFigures(*m);
  if (*json) {
    std::printf("%s\n", ReportJson(r).dump(2).c_str());
  } else {
    std::printf("file: %s (%s)\nhash: %s\n\n", path.c_str(), SignednessName(m->is_signed()).c_str(),
                m->content_hash().c_str());
    PrintFigures(r);
  }
  return kExitOk;
}

}  // namespace

int RunMultipliersCommand(const std::vector<std::string>& words) {
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    std::printf("%s", kMultipliersHelp);
    return words.empty() ? kExitUsage : kExitOk;
  }
  const std::string& command = words[0];
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  std::set<std::string> value_flags = kCommonFlags;
  std::set<std::string> bool_flags = {"help"};
  if (command == "list") value_flags.insert("match");
  if (command == "list" || command == "show") value_flags.insert(ClientFlags().begin(), ClientFlags().end());
  if (command == "characterize") bool_flags.insert({"signed", "unsigned"});
  if (command != "list" && command != "show" && command != "characterize") {
    return ReportError(absl::InvalidArgumentError("unknown command 'multipliers " + command +
                                                  "'; see transaxx multipliers --help"),
                       true);
  }
  auto args = Args::Parse(rest, value_flags, bool_flags);
  if (!args.ok()) return ReportError(args.status(), true);
  if (args->Has("help")) {
    std::printf("%s", kMultipliersHelp);
    return kExitOk;
  }
  if (command == "list") return List(*args);
  if (command == "show") return Show(*args);
  return Characterize(*args);
}

}  // namespace transaxx::cli
