// The approximate int8 GEMM by path: the table-lookup reference (one scalar
// lookup per multiply-accumulate) against the fast path the multiplier's
// structure selects: exact dense GEMMs (structured_gemm.h) for exact,
// masking and low-rank EvoApprox multipliers, the SIMD table kernel
// (cpu/table_gemm.h) for the unsigned ones of high error rank. LibTorch's
// float32 GEMM of the same shape is the baseline of what a dense GEMM costs
// here. Every fast result is checked equal to the reference before it is
// timed.
//
// Prints a Markdown report: per shape and multiplier, the median time of
// each path over --repeats runs, the speed-up of the fast path over the
// reference, and its cost relative to float32.
//
// Usage: gemm_paths [--evoapprox_dir DIR] [--threads N] [--repeats N]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "libs/approx/catalog.h"
#include "libs/approx/cpu/table_gemm.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/structure_cache.h"
#include "libs/approx/torch/structured_gemm.h"

ABSL_FLAG(std::string, evoapprox_dir, TRANSAXX_EVOAPPROX_DIR,
          "folder with the EvoApprox tables and multipliers.json");
ABSL_FLAG(int, threads, 2, "threads of both paths (OpenMP and LibTorch)");
ABSL_FLAG(int, repeats, 5, "timed runs per measurement; the median is reported");

namespace transaxx::approx {
namespace {

struct Shape {
  const char* what;
  int64_t m, k, n;
};

double MedianMs(const std::function<void()>& run, int repeats) {
  run();  // warm-up: caches, thread pools, the structure memo
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int Main() {
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  const int repeats = absl::GetFlag(FLAGS_repeats);
  Catalog catalog = Catalog::WithBuiltins();
  if (absl::Status s = catalog.ImportEvoApprox(absl::GetFlag(FLAGS_evoapprox_dir)); !s.ok()) {
    std::fprintf(stderr, "gemm_paths: %s\n", s.ToString().c_str());
    return 1;
  }
  const std::vector<Shape> shapes = {
      {"demo model attn.qkv, batch 128 (6400x64 · 64x192)", 6400, 64, 192},
      {"vit_small mlp.fc1, batch 8 (1576x384 · 384x1536)", 1576, 384, 1536},
  };
  const std::vector<std::string> ids = {"exact",          "evo:mul8s_1L2N", "evo:mul8s_1KV8",
                                        "evo:mul8s_1L2J", "evo:mul8s_1KVA", "evo:mul8u_GJM",
                                        "evo:mul8u_2V0"};
  std::printf("# Approximate GEMM: fast paths vs the table reference\n\n");
  std::printf("Command: `./run bench gemm` (gemm_paths --threads %d --repeats %d). "
              "Median wall time in ms.\n\n",
              absl::GetFlag(FLAGS_threads), repeats);
  for (const Shape& shape : shapes) {
    const at::Tensor a = at::randint(-127, 128, {shape.m, shape.k}, at::kChar);
    const at::Tensor w = at::randint(-127, 128, {shape.k, shape.n}, at::kChar);
    const at::Tensor af = a.to(at::kFloat), wf = w.to(at::kFloat);
    const double float_ms = MedianMs([&] { at::mm(af, wf); }, repeats);
    std::printf("## %s\n\nfloat32 at::mm baseline: %.2f ms\n\n", shape.what, float_ms);
    std::printf("| multiplier | path | reference ms | fast path ms | speed-up vs reference | "
                "cost vs float32 |\n|---|---|---|---|---|---|\n");
    for (const std::string& id : ids) {
      const Multiplier m = catalog.Get(id)->multiplier;
      const Structure& structure = **CachedStructure(m);
      at::Tensor reference = at::empty({shape.m, shape.n}, at::kInt);
      auto run_reference = [&] {
        const absl::Status s =
            ApproxGemmReference(m, a.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                                reference.data_ptr<int32_t>(), shape.m, shape.k, shape.n);
        if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
      };
      const double reference_ms = MedianMs(run_reference, repeats);
      at::Tensor fast = at::empty({shape.m, shape.n}, at::kInt);
      std::function<void()> run_fast = [&] { fast = StructuredGemmInt8(structure, a, w); };
      std::string path = structure.Describe();
      if (structure.path == KernelPath::kTable) {
        run_fast = [&] {
          const absl::Status s =
              ApproxGemmTable(m, a.data_ptr<int8_t>(), w.data_ptr<int8_t>(),
                              fast.data_ptr<int32_t>(), shape.m, shape.k, shape.n);
          if (!s.ok()) std::fprintf(stderr, "%s\n", s.ToString().c_str());
        };
        path = absl::StrFormat("table kernel (%s)", TableKernelName(BestTableKernel()));
      }
      run_fast();
      if (!at::equal(fast, reference)) {
        std::fprintf(stderr, "gemm_paths: %s: fast result differs from the reference\n",
                     id.c_str());
        return 1;
      }
      const double fast_ms = MedianMs(run_fast, repeats);
      std::printf("| %s | %s | %.2f | %.2f | %.1fx | %.1fx |\n", id.c_str(), path.c_str(),
                  reference_ms, fast_ms, reference_ms / fast_ms, fast_ms / float_ms);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace
}  // namespace transaxx::approx

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return transaxx::approx::Main();
}
