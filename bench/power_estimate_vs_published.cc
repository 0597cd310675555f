// Checks the synthesis-based power estimate (libs/approx/hardware) against
// published figures: five EvoApproxLib circuits are exactly operand-masking
// multipliers of the built-in `mask` family, so the estimate of the built-in
// can be compared with the PDK45 power the library publishes for the circuit,
// both relative to their own exact multiplier (mask's: the built-in `exact`;
// EvoApprox's: mul8s_1KV6).
//
// Prints a Markdown report: the comparison for the default power proxy
// (relative error per circuit, mean relative error, ranking agreement), then
// the same summary for every proxy, relative area against published area,
// the estimates of every default built-in, and why a bare truth table is not
// synthesized: the same comparison for circuits generated from the tables
// alone (one case statement each, several minutes of Yosys).
// The goal is the same ranking and a mean relative error <= 25%.
//
// Needs Yosys. Usage:
//   power_estimate_vs_published [--evoapprox_dir DIR] [--cache_dir DIR] [--yosys PATH]
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "libs/approx/builtin.h"
#include "libs/approx/hardware/estimate.h"
#include "libs/approx/hardware/synthesis.h"
#include "libs/approx/table_io.h"

ABSL_FLAG(std::string, evoapprox_dir, TRANSAXX_EVOAPPROX_DIR,
          "folder with the EvoApprox tables and multipliers.json");
ABSL_FLAG(std::string, cache_dir, "", "synthesis cache folder (none by default)");
ABSL_FLAG(std::string, yosys, "yosys", "the Yosys executable");

namespace transaxx::approx::hardware {
namespace {

struct Pair {
  std::string builtin;
  std::string circuit;
};

// The built-ins and the EvoApproxLib circuits with the same table
// (../shared/data/evoapprox/README.md).
const std::vector<Pair> kPairs = {{"mask:a=1", "mul8s_1KVM"},
                                  {"mask:a=1,b=1", "mul8s_1L2J"},
                                  {"mask:a=7", "mul8s_1KXF"},
                                  {"mask:a=3,b=3", "mul8s_1L2L"},
                                  {"mask:a=7,b=7", "mul8s_1L2N"}};
constexpr char kExactCircuit[] = "mul8s_1KV6";

struct Proxy {
  std::string name;
  EstimateOptions options;
};

std::vector<Proxy> Proxies(const SynthesisOptions& synthesis) {
  std::vector<Proxy> proxies;
  const EstimateOptions defaults;
  proxies.push_back({"default", defaults});
  proxies.back().options.synthesis = synthesis;
  const struct {
    const char* name;
    PowerProxy proxy;
    DelayModel delay;
    OperandStream operands;
  } kinds[] = {
      {"transistor count", PowerProxy::kTransistors, DelayModel::kZeroDelay,
       OperandStream::kUniform},
      {"switched load, zero delay, uniform operands", PowerProxy::kSwitchedLoad,
       DelayModel::kZeroDelay, OperandStream::kUniform},
      {"switched load, zero delay, int8 Gaussian operands", PowerProxy::kSwitchedLoad,
       DelayModel::kZeroDelay, OperandStream::kGaussianInt8},
      {"switched load, unit delay, uniform operands", PowerProxy::kSwitchedLoad,
       DelayModel::kUnitDelay, OperandStream::kUniform},
      {"switched load, unit delay, int8 Gaussian operands", PowerProxy::kSwitchedLoad,
       DelayModel::kUnitDelay, OperandStream::kGaussianInt8},
  };
  for (const auto& kind : kinds) {
    EstimateOptions options;
    options.synthesis = synthesis;
    options.power_proxy = kind.proxy;
    options.delay_model = kind.delay;
    options.operands = kind.operands;
    const bool is_default =
        kind.proxy == defaults.power_proxy &&
        (kind.proxy == PowerProxy::kTransistors ||
         (kind.delay == defaults.delay_model && kind.operands == defaults.operands));
    proxies.push_back({absl::StrCat(kind.name, is_default ? " (default)" : ""), options});
  }
  return proxies;
}

// Kendall's tau between two equally long lists (1: same order).
double KendallTau(const std::vector<double>& x, const std::vector<double>& y) {
  int concordant = 0, discordant = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      const double s = (x[i] - x[j]) * (y[i] - y[j]);
      if (s > 0) ++concordant;
      if (s < 0) ++discordant;
    }
  }
  return static_cast<double>(concordant - discordant) / (concordant + discordant);
}

double MeanRelativeError(const std::vector<double>& estimated, const std::vector<double>& truth) {
  double sum = 0;
  for (size_t i = 0; i < truth.size(); ++i) sum += std::abs(estimated[i] - truth[i]) / truth[i];
  return sum / static_cast<double>(truth.size());
}

// `m`'s table as one case statement over the operand bits: a circuit with
// no structure but the one logic synthesis finds by itself.
std::string TruthTableVerilog(const Multiplier& m) {
  std::string text =
      "module mult(input [7:0] a, input [7:0] b, output reg [15:0] p);\n"
      "  always @* begin\n    case ({a, b})\n";
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) {
      absl::StrAppendFormat(&text, "      16'h%04x: p = 16'h%04x;\n", ((a & 255) << 8) | (b & 255),
                            m(a, b) & 0xffff);
    }
  }
  absl::StrAppend(&text, "      default: p = 16'h0000;\n    endcase\n  end\nendmodule\n");
  return text;
}

// Relative power of the circuits synthesized from the bare tables (against
// the exact table synthesized the same way) beside the published figures.
absl::Status ReportTruthTableSynthesis(SynthesisOptions synthesis,
                                       const std::vector<double>& published_power,
                                       const SynthesisResult& designed_exact) {
  synthesis.timeout = absl::Minutes(10);
  const auto synthesize = [&](const std::string& id) -> absl::StatusOr<SynthesisResult> {
    absl::StatusOr<Multiplier> m = MakeBuiltin(id);
    if (!m.ok()) return m.status();
    const absl::Time start = absl::Now();
    absl::StatusOr<SynthesisResult> netlist =
        SynthesizeUserVerilog(TruthTableVerilog(*m), "mult", *m, synthesis);
    std::fprintf(stderr, "truth table of %s synthesized in %.0f s\n", id.c_str(),
                 absl::ToDoubleSeconds(absl::Now() - start));
    return netlist;
  };
  absl::StatusOr<SynthesisResult> exact = synthesize("exact");
  if (!exact.ok()) return exact.status();
  std::printf(
      "\n## Synthesizing the bare truth table (why uploads need their circuit)\n\n"
      "Each table written as one 65,536-entry case statement and synthesized by the "
      "same flow;\nrelative to the exact table synthesized the same way (%lld cells, "
      "against %lld for\nthe exact array multiplier above). Default power proxy.\n\n"
      "| circuit | cells | published | estimated | relative error |\n|---|---:|---:|---:|---:|\n",
      static_cast<long long>(exact->cells), static_cast<long long>(designed_exact.cells));
  std::vector<double> estimated;
  for (size_t i = 0; i < kPairs.size(); ++i) {
    absl::StatusOr<SynthesisResult> netlist = synthesize(kPairs[i].builtin);
    if (!netlist.ok()) return netlist.status();
    absl::StatusOr<EstimatedFigures> figures =
        RelativeFigures(*netlist, *exact, Signedness::kSigned, EstimateOptions());
    if (!figures.ok()) return figures.status();
    estimated.push_back(figures->relative_power);
    std::printf("| %s | %lld | %.3f | %.3f | %+.1f%% |\n", kPairs[i].circuit.c_str(),
                static_cast<long long>(netlist->cells), published_power[i], estimated.back(),
                100 * (estimated.back() - published_power[i]) / published_power[i]);
  }
  std::printf("\nMean relative error: %.1f%%. Kendall tau %.2f.\n",
              100 * MeanRelativeError(estimated, published_power),
              KendallTau(estimated, published_power));
  return absl::OkStatus();
}

absl::Status Run() {
  const std::string dir = absl::GetFlag(FLAGS_evoapprox_dir);
  absl::StatusOr<std::vector<PublishedFigures>> published =
      ReadPublishedFigures(dir + "/multipliers.json");
  if (!published.ok()) return published.status();
  const auto figures_of = [&](const std::string& name) -> const PublishedFigures* {
    for (const PublishedFigures& f : *published) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  const PublishedFigures* exact = figures_of(kExactCircuit);
  if (exact == nullptr || !exact->power_mw || !exact->area_um2) {
    return absl::NotFoundError(absl::StrCat("no published figures of ", kExactCircuit));
  }

  SynthesisOptions synthesis;
  synthesis.yosys = absl::GetFlag(FLAGS_yosys);
  synthesis.cache_dir = absl::GetFlag(FLAGS_cache_dir);
  absl::StatusOr<std::string> yosys_version = YosysVersion(synthesis);
  if (!yosys_version.ok()) return yosys_version.status();
  absl::StatusOr<SynthesisResult> exact_netlist = SynthesizeExact(Signedness::kSigned, synthesis);
  if (!exact_netlist.ok()) return exact_netlist.status();

  std::vector<double> published_power, published_area;
  std::vector<SynthesisResult> netlists;
  for (const Pair& pair : kPairs) {
    const PublishedFigures* f = figures_of(pair.circuit);
    if (f == nullptr || !f->power_mw || !f->area_um2) {
      return absl::NotFoundError(absl::StrCat("no published figures of ", pair.circuit));
    }
    // The pairing rests on the tables being identical; check it.
    absl::StatusOr<Table> table =
        ReadEvoApproxLut(absl::StrCat(dir, "/", pair.circuit, ".lut"), Signedness::kSigned);
    if (!table.ok()) return table.status();
    absl::StatusOr<Multiplier> builtin = MakeBuiltin(pair.builtin);
    if (!builtin.ok()) return builtin.status();
    if (builtin->table() != *table) {
      return absl::FailedPreconditionError(
          absl::StrCat(pair.builtin, " and ", pair.circuit, " have different tables"));
    }
    absl::StatusOr<SynthesisResult> netlist = SynthesizeBuiltin(pair.builtin, synthesis);
    if (!netlist.ok()) return netlist.status();
    netlists.push_back(*std::move(netlist));
    published_power.push_back(*f->power_mw / *exact->power_mw);
    published_area.push_back(*f->area_um2 / *exact->area_um2);
  }

  std::printf(
      "# Estimated vs published relative power of the masking multipliers\n\n"
      "Reproduce: `./run bench power` (builds this program and rewrites this file).\n\n"
      "Five EvoApproxLib v2022 circuits compute exactly the tables of built-in `mask`\n"
      "multipliers (checked here table against table). Published: PDK45 power of the\n"
      "circuit / power of the exact mul8s_1KV6 (%.3f mW). Estimated: the built-in's RTL\n"
      "synthesized by libs/approx/hardware with %s,\nrelative to the built-in "
      "`exact` synthesized the same way (%lld cells, %lld transistors).\n\n",
      *exact->power_mw, yosys_version->c_str(), static_cast<long long>(exact_netlist->cells),
      static_cast<long long>(exact_netlist->transistors));

  struct Summary {
    std::string name;
    double mean_error;
    double tau;
  };
  std::vector<Summary> summaries;
  std::vector<double> estimated_area;
  for (const Proxy& proxy : Proxies(synthesis)) {
    std::vector<double> estimated;
    for (const SynthesisResult& netlist : netlists) {
      absl::StatusOr<EstimatedFigures> figures =
          RelativeFigures(netlist, *exact_netlist, Signedness::kSigned, proxy.options);
      if (!figures.ok()) return figures.status();
      estimated.push_back(figures->relative_power);
      if (proxy.name == "default") estimated_area.push_back(figures->relative_area);
    }
    const double mean_error = MeanRelativeError(estimated, published_power);
    const double tau = KendallTau(estimated, published_power);
    if (proxy.name != "default") {
      summaries.push_back({proxy.name, mean_error, tau});
      continue;
    }
    std::printf(
        "## Relative power, default proxy\n\n"
        "| circuit | built-in | published | estimated | relative error |\n"
        "|---|---|---:|---:|---:|\n");
    for (size_t i = 0; i < kPairs.size(); ++i) {
      std::printf("| %s | `%s` | %.3f | %.3f | %+.1f%% |\n", kPairs[i].circuit.c_str(),
                  kPairs[i].builtin.c_str(), published_power[i], estimated[i],
                  100 * (estimated[i] - published_power[i]) / published_power[i]);
    }
    std::printf(
        "\nMean relative error: **%.1f%%** (goal <= 25%%). Ranking: %s (Kendall tau "
        "%.2f).\n\n",
        100 * mean_error, tau == 1 ? "**same order as published**" : "**differs from published**",
        tau);
  }

  std::printf(
      "## Every power proxy\n\n| power proxy | mean relative error | Kendall tau |\n"
      "|---|---:|---:|\n");
  for (const Summary& s : summaries) {
    std::printf("| %s | %.1f%% | %.2f |\n", s.name.c_str(), 100 * s.mean_error, s.tau);
  }
  std::printf(
      "\n## Relative area (transistor count vs published PDK45 area)\n\n"
      "| circuit | published | estimated | relative error |\n|---|---:|---:|---:|\n");
  for (size_t i = 0; i < kPairs.size(); ++i) {
    std::printf("| %s | %.3f | %.3f | %+.1f%% |\n", kPairs[i].circuit.c_str(), published_area[i],
                estimated_area[i],
                100 * (estimated_area[i] - published_area[i]) / published_area[i]);
  }
  std::printf("\nMean relative error: %.1f%%. Kendall tau %.2f.\n",
              100 * MeanRelativeError(estimated_area, published_area),
              KendallTau(estimated_area, published_area));

  // What the catalog serves for the default built-ins, for the docs, with
  // two other proxies beside the default. bam:h=0,v=0 is the exact product
  // computed on magnitudes: it shows what the sign unit of the
  // sign-magnitude families costs by itself.
  EstimateOptions zero_delay, gaussian;
  zero_delay.delay_model = DelayModel::kZeroDelay;
  gaussian.operands = OperandStream::kGaussianInt8;
  std::printf(
      "\n## Estimates of the default built-ins\n\n"
      "Relative power by the default proxy, and by two others: zero delay "
      "(no glitches)\nwith uniform operands, and unit delay with int8 Gaussian "
      "operands. `bam:h=0,v=0`\ncomputes the exact product on magnitudes: its row "
      "is what the sign unit costs\nthat every sign-magnitude family (bam, perf, drum, "
      "mitchell, roba, kulkarni)\npays in a two's-complement int8 datapath.\n\n"
      "| multiplier | cells | transistors | relative area | relative power | "
      "zero delay | Gaussian operands |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::vector<std::string> ids = DefaultBuiltinIds();
  ids.insert(ids.begin() + 1, "bam:h=0,v=0");
  for (const std::string& id : ids) {
    absl::StatusOr<SynthesisResult> netlist = SynthesizeBuiltin(id, synthesis);
    if (!netlist.ok()) return netlist.status();
    std::vector<EstimatedFigures> figures;
    for (const EstimateOptions& options : {EstimateOptions(), zero_delay, gaussian}) {
      absl::StatusOr<EstimatedFigures> f =
          RelativeFigures(*netlist, *exact_netlist, Signedness::kSigned, options);
      if (!f.ok()) return f.status();
      figures.push_back(*f);
    }
    std::printf("| `%s` | %lld | %lld | %.3f | %.3f | %.3f | %.3f |\n", id.c_str(),
                static_cast<long long>(figures[0].cells),
                static_cast<long long>(figures[0].transistors), figures[0].relative_area,
                figures[0].relative_power, figures[1].relative_power, figures[2].relative_power);
  }
  return ReportTruthTableSynthesis(synthesis, published_power, *exact_netlist);
}

}  // namespace
}  // namespace transaxx::approx::hardware

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Status status = transaxx::approx::hardware::Run();
  if (!status.ok()) {
    std::fprintf(stderr, "power_estimate_vs_published: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
