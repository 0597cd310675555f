// The approximate GEMM on the CPU, on ViT-S/16's linear layer shapes
// (M = 197 tokens × batch; K × N of attn.qkv, attn.proj, mlp.fc1, mlp.fc2)
// for every shared EvoApprox table: the fast path each multiplier's
// structure selects (structured_gemm.h: exact, masking and low-rank, on the
// engine it chooses; or the SIMD table kernel, cpu/table_gemm.h) against
// baselines measured in the same run on the same shape:
//   - float32 torch::linear (what the exact model's layer costs);
//   - the exact int8 GEMM (the structured path of `exact`) on each engine of
//     the structured GEMM: float32, and u8·s8 where FBGEMM runs (where a
//     full-range a·b takes one run of depth K with VNNI and two without,
//     so that without VNNI twice its GMAC/s is the engine's rate per run);
//   - the scalar table kernel, one lookup per multiply-accumulate, the way
//     AdaPT and TransAxx emulate approximate layers (its cost does not
//     depend on the table; measured with the first table multiplier);
//   - for table multipliers, where the CPU's best table kernel is not avx2
//     (avx512), the avx2 kernel on the same operands.
// Per multiplier it reports the GEMM alone (int8 operands in, int32 sums
// out) with its throughput (and, where the structured GEMM chose u8·s8, its
// speedup over the float32 engine on the same operands), and the whole
// approximate layer (ApproxLinear: quantization of input and weight, the
// GEMM, rescaling) against float32 torch::linear. Every fast result is
// checked equal to the reference (reference_gemm.h) on the first 197 rows
// before it is timed.
//
// Prints a Markdown report, the goals first.
//
// Usage: gemm_paths [--evoapprox_dir DIR] [--threads N] [--repeats N]
//          [--batches 1,64] [--multipliers GLOB]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "libs/approx/catalog.h"
#include "libs/approx/cpu/table_gemm.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/structure_cache.h"
#include "libs/approx/torch/approx_ops.h"
#include "libs/approx/torch/structured_gemm.h"
#include "libs/approx/torch/u8s8_gemm.h"

ABSL_FLAG(std::string, evoapprox_dir, TRANSAXX_EVOAPPROX_DIR,
          "folder with the EvoApprox tables and multipliers.json");
ABSL_FLAG(int, threads, 2, "threads of every path (OpenMP and LibTorch)");
ABSL_FLAG(int, repeats, 5,
          "timed runs per measurement, after one warm-up; the fastest is reported");
ABSL_FLAG(std::vector<std::string>, batches, std::vector<std::string>({"1", "64"}),
          "batch sizes: M = 197 × batch");
ABSL_FLAG(std::string, multipliers, "evo:*", "glob of the catalog IDs to measure");

namespace transaxx::approx {
namespace {

constexpr int64_t kTokens = 197;  // 14 × 14 patches and the class token

struct Layer {
  const char* name;
  int64_t k, n;
};

constexpr Layer kLayers[] = {
    {"attn.qkv", 384, 1152}, {"attn.proj", 384, 384}, {"mlp.fc1", 384, 1536}, {"mlp.fc2", 1536, 384}};

// The fastest of `repeats` timed runs after a warm-up. On a shared machine
// other work only ever adds time, in windows of seconds that a median of a
// few runs does not escape (a layer measured at 3x its GEMM while its
// neighbours took 1.1x); the fastest run is the nearest to the code's own
// cost, and every path and baseline is timed alike.
double FastestMs(const std::function<void()>& run, int repeats) {
  run();  // warm-up: caches, thread pools, the structure memo
  double fastest = 0;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    fastest = i == 0 ? ms : std::min(fastest, ms);
  }
  return fastest;
}

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "gemm_paths: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// One multiplier's measurements on one shape.
struct Row {
  std::string id, path;
  bool structured = false;
  double gemm_ms = 0, layer_ms = 0;
  // The float32 engine's GEMM, where the structured GEMM chose u8·s8.
  double float_engine_ms = 0;
  // The avx2 table kernel, where it is not the one a table row runs.
  double avx2_ms = 0;
};

struct ShapeResult {
  std::string title;
  int64_t m = 0, k = 0, n = 0;
  double linear_ms = 0, exact_ms = 0, exact_u8s8_ms = 0, scalar_ms = 0;
  std::vector<Row> rows;
};

double Gmacs(const ShapeResult& s, double ms) {
  return static_cast<double>(s.m) * s.k * s.n / (ms * 1e6);
}

ShapeResult Measure(const std::vector<Multiplier>& multipliers, const Layer& layer, int64_t batch,
                    int repeats) {
  ShapeResult r;
  r.title = absl::StrFormat("%s, batch %d", layer.name, batch);
  r.m = kTokens * batch;
  r.k = layer.k;
  r.n = layer.n;
  const at::Tensor a = at::randint(-128, 128, {r.m, r.k}, at::kChar);
  const at::Tensor w = at::randint(-128, 128, {r.k, r.n}, at::kChar);
  const at::Tensor input = at::randn({r.m, r.k});
  const at::Tensor weight = at::randn({r.n, r.k}) * 0.05;
  const at::Tensor bias = at::randn({r.n});
  const float input_amax = input.abs().max().item<float>();
  // The reference on the first rows: enough to catch any wrong sum.
  const int64_t checked = std::min(r.m, kTokens);
  const at::Tensor a_checked = a.narrow(0, 0, checked).contiguous();

  r.linear_ms = FastestMs([&] { at::linear(input, weight, bias); }, repeats);
  Catalog builtins = Catalog::WithBuiltins();
  const Multiplier exact = builtins.Get("exact")->multiplier;
  const Structure& exact_structure = **CachedStructure(exact);
  r.exact_ms = FastestMs(
      [&] { StructuredGemmInt8(exact_structure, a, w, StructuredEngine::kFloat32); }, repeats);
  if (U8S8GemmAvailable()) {
    r.exact_u8s8_ms = FastestMs(
        [&] { StructuredGemmInt8(exact_structure, a, w, StructuredEngine::kU8S8); }, repeats);
  }

  for (const Multiplier& m : multipliers) {
    const Structure& structure = **CachedStructure(m);
    Row row;
    row.id = m.id();
    row.structured = structure.path != KernelPath::kTable;
    at::Tensor fast = at::empty({r.m, r.n}, at::kInt);
    std::function<void()> run_fast = [&] { fast = StructuredGemmInt8(structure, a, w); };
    row.path = row.structured ? absl::StrFormat("%s; %s", structure.Describe(), CpuGemmKernel(m))
                              : CpuGemmKernel(m);
    if (!row.structured) {
      run_fast = [&] {
        Check(ApproxGemmTable(m, a.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                              fast.data_ptr<int32_t>(), r.m, r.k, r.n));
      };
      if (r.scalar_ms == 0) {
        at::Tensor scalar = at::empty({r.m, r.n}, at::kInt);
        r.scalar_ms = FastestMs(
            [&] {
              Check(ApproxGemmTable(m, a.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                                    scalar.data_ptr<int32_t>(), r.m, r.k, r.n,
                                    TableKernel::kScalar));
            },
            repeats);
      }
    }
    run_fast();
    at::Tensor reference = at::empty({checked, r.n}, at::kInt);
    Check(ApproxGemmReference(m, a_checked.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                              reference.data_ptr<int32_t>(), checked, r.k, r.n));
    if (!at::equal(fast.narrow(0, 0, checked), reference)) {
      std::fprintf(stderr, "gemm_paths: %s: fast result differs from the reference\n",
                   m.id().c_str());
      std::exit(1);
    }
    row.gemm_ms = FastestMs(run_fast, repeats);
    if (!row.structured && TableKernelFor(m, BestTableKernel()) != TableKernel::kAvx2 &&
        TableKernelSupported(TableKernel::kAvx2)) {
      at::Tensor avx2 = at::empty({r.m, r.n}, at::kInt);
      row.avx2_ms = FastestMs(
          [&] {
            Check(ApproxGemmTable(m, a.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                                  avx2.data_ptr<int32_t>(), r.m, r.k, r.n, TableKernel::kAvx2));
          },
          repeats);
      if (!at::equal(avx2, fast)) {
        std::fprintf(stderr, "gemm_paths: %s: the avx2 table kernel differs\n", m.id().c_str());
        std::exit(1);
      }
    }
    if (row.structured && ChosenStructuredEngine(structure) == StructuredEngine::kU8S8) {
      row.float_engine_ms = FastestMs(
          [&] { StructuredGemmInt8(structure, a, w, StructuredEngine::kFloat32); }, repeats);
    }
    row.layer_ms = FastestMs(
        [&] { ApproxLinear(input, weight, bias, m, input_amax, WeightQuantization::kPerChannel); },
        repeats);
    std::fprintf(stderr, "gemm_paths: %s %s: %.2f ms\n", r.title.c_str(), m.id().c_str(),
                 row.gemm_ms);
    r.rows.push_back(row);
  }
  return r;
}

void PrintShape(const ShapeResult& s) {
  std::printf("## %s (%" PRId64 "x%" PRId64 " · %" PRId64 "x%" PRId64 ")\n\n", s.title.c_str(),
              s.m, s.k, s.k, s.n);
  std::printf("Baselines: float32 torch::linear %.2f ms (%.1f GMAC/s); exact int8 GEMM on "
              "float32 %.2f ms (%.1f GMAC/s)",
              s.linear_ms, Gmacs(s, s.linear_ms), s.exact_ms, Gmacs(s, s.exact_ms));
  if (s.exact_u8s8_ms > 0) {
    std::printf(", on u8·s8 %.2f ms (%.1f GMAC/s, %s)", s.exact_u8s8_ms, Gmacs(s, s.exact_u8s8_ms),
                U8S8PairSumsSaturate() ? "two runs" : "one run");
  }
  if (s.scalar_ms > 0) {
    std::printf("; scalar table kernel %.2f ms (%.2f GMAC/s)", s.scalar_ms, Gmacs(s, s.scalar_ms));
    if (BestTableKernel() == TableKernel::kAvx512) {
      std::printf("; the avx512 table kernel runs its %s form here",
                  Avx512FormFor(s.m, s.n) == Avx512Form::kDirect ? "direct" : "expanded");
    }
  }
  std::printf(".\n\n| multiplier | path | GEMM ms | GMAC/s | × scalar table kernel | "
              "× float32 engine | × avx2 table kernel | layer ms | layer / float32 linear |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& row : s.rows) {
    // The scalar kernel is measured only for shapes with a table-path row.
    const std::string speedup =
        s.scalar_ms > 0 ? absl::StrFormat("%.1fx", s.scalar_ms / row.gemm_ms) : "";
    const std::string over_float =
        row.float_engine_ms > 0 ? absl::StrFormat("%.2fx", row.float_engine_ms / row.gemm_ms) : "";
    const std::string over_avx2 =
        row.avx2_ms > 0 ? absl::StrFormat("%.2fx", row.avx2_ms / row.gemm_ms) : "";
    std::printf("| %s | %s | %.2f | %.2f | %s | %s | %s | %.2f | %.2f |\n", row.id.c_str(),
                row.path.c_str(), row.gemm_ms, Gmacs(s, row.gemm_ms), speedup.c_str(),
                over_float.c_str(), over_avx2.c_str(), row.layer_ms, row.layer_ms / s.linear_ms);
  }
  std::printf("\n");
}

// The goals of the fast paths, worst case over shapes: structured layers at
// most 2× float32 torch::linear; table kernels at least 5× the scalar one.
void PrintGoals(const std::vector<ShapeResult>& shapes) {
  std::printf("## Goals, worst case over the shapes\n\n"
              "| multiplier | path | worst layer / float32 linear (goal ≤ 2 for structured) | "
              "worst × scalar table kernel (goal ≥ 5 for tables) |\n|---|---|---:|---:|\n");
  for (size_t i = 0; i < shapes.front().rows.size(); ++i) {
    double worst_layer = 0, worst_speedup = 1e300;
    for (const ShapeResult& s : shapes) {
      worst_layer = std::max(worst_layer, s.rows[i].layer_ms / s.linear_ms);
      if (s.scalar_ms > 0) worst_speedup = std::min(worst_speedup, s.scalar_ms / s.rows[i].gemm_ms);
    }
    const Row& row = shapes.front().rows[i];
    std::printf("| %s | %s | %.2f%s | %s |\n", row.id.c_str(), row.path.c_str(), worst_layer,
                row.structured ? (worst_layer <= 2 ? " (met)" : " (not met)") : "",
                row.structured ? "" : absl::StrFormat("%.1fx%s", worst_speedup,
                                                      worst_speedup >= 5 ? " (met)" : " (not met)")
                                          .c_str());
  }
  std::printf("\n");
}

int Main() {
  const int threads = absl::GetFlag(FLAGS_threads);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  if (threads < 1 || repeats < 1 || absl::GetFlag(FLAGS_batches).empty()) {
    std::fprintf(stderr, "gemm_paths: --threads and --repeats must be at least 1 and --batches "
                         "must name a batch size\n");
    return 2;
  }
  at::set_num_threads(threads);
  Catalog catalog = Catalog::WithBuiltins();
  Check(catalog.ImportEvoApprox(absl::GetFlag(FLAGS_evoapprox_dir)));
  std::vector<Multiplier> multipliers;
  for (const CatalogEntry& e : catalog.Match(absl::GetFlag(FLAGS_multipliers))) {
    multipliers.push_back(e.multiplier);
  }
  if (multipliers.empty()) {
    std::fprintf(stderr, "gemm_paths: no multiplier matches --multipliers\n");
    return 2;
  }
  std::vector<ShapeResult> shapes;
  for (const std::string& batch_flag : absl::GetFlag(FLAGS_batches)) {
    int64_t batch = 0;
    if (!absl::SimpleAtoi(batch_flag, &batch) || batch < 1) {
      std::fprintf(stderr, "gemm_paths: --batches: '%s' is not a positive batch size\n",
                   batch_flag.c_str());
      return 2;
    }
    for (const Layer& layer : kLayers) shapes.push_back(Measure(multipliers, layer, batch, repeats));
  }

  std::printf("# Approximate GEMM on the CPU: fast paths against the baselines\n\n");
  const char* pair_sums = !U8S8GemmAvailable()     ? "none (FBGEMM does not run here)"
                          : U8S8PairSumsSaturate() ? "saturating int16 (no VNNI)"
                                                   : "int32 (VNNI)";
  std::printf(
      "Command: `./run bench gemm` (gemm_paths --threads %d --repeats %d --batches %s). "
      "CPU: %s, %d threads; table kernel variant: %s; FBGEMM's u8·s8 pair sums: %s. "
      "Fastest wall time of %d runs after a warm-up; GMAC/s = M·K·N / time. Operands: "
      "uniform random int8 (GEMM), normal floats (layer, per-channel weight scales). "
      "Every fast result was checked equal to the reference on the first %" PRId64 " rows.\n\n",
      threads, repeats, absl::StrJoin(absl::GetFlag(FLAGS_batches), ",").c_str(), CpuName().c_str(),
      threads, TableKernelName(BestTableKernel()), pair_sums, repeats, kTokens);
  PrintGoals(shapes);
  for (const ShapeResult& s : shapes) PrintShape(s);
  return 0;
}

}  // namespace
}  // namespace transaxx::approx

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return transaxx::approx::Main();
}
