// The approximate GEMM on a GPU (libs/approx/cuda/gpu_gemm.h) on the layer
// shapes of ViT-S/16, against two baselines measured in the same run:
// - cuBLAS's plain int8 GEMM (tensor cores) of the same shape: what the
//   structured multipliers' int8-term path is measured against (goal: at
//   least half its throughput);
// - the published way of emulating a table on a GPU, one thread per output
//   reading an int32 table in global memory per multiply-accumulate
//   (gpu_naive_table.h): what the table kernels are measured against (goal:
//   at least twice its throughput).
// Operands are uniformly random int8 (the worst case for table lookups) or,
// with --operands normal, normally distributed like a quantized model's.
// Each time is the median of --repeats runs timed with CUDA events after a
// warm-up run. Prints a Markdown report.
//
// Usage: gpu_gemm [--evoapprox_dir DIR] [--repeats N] [--operands uniform|normal]
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "bench/gpu_naive_table.h"
#include "libs/approx/catalog.h"
#include "libs/approx/cuda/gpu_gemm.h"

ABSL_FLAG(std::string, evoapprox_dir, TRANSAXX_EVOAPPROX_DIR,
          "folder with the EvoApprox tables and multipliers.json");
ABSL_FLAG(int, repeats, 5, "timed runs per measurement; the median is reported");
ABSL_FLAG(std::string, operands, "uniform",
          "operand distribution: 'uniform' int8, or 'normal' (activations σ = 20, weights "
          "σ = 30, rounded and clipped: closer to a quantized model's values)");

namespace transaxx::approx {
namespace {

struct Shape {
  const char* what;
  int64_t m, k, n;
};

void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// Device memory freed with its owner.
class Buffer {
 public:
  explicit Buffer(size_t bytes) { Check(cudaMalloc(&ptr_, std::max<size_t>(bytes, 1)), "cudaMalloc"); }
  ~Buffer() { cudaFree(ptr_); }
  Buffer(Buffer&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

// `sigma` 0 draws uniformly from -128..127.
Buffer RandomInt8(std::mt19937& rng, int64_t n, double sigma) {
  std::uniform_int_distribution<int> uniform(-128, 127);
  std::normal_distribution<double> normal(0.0, sigma > 0 ? sigma : 1.0);
  std::vector<int8_t> host(static_cast<size_t>(n));
  for (int8_t& x : host) {
    x = static_cast<int8_t>(
        sigma > 0 ? std::clamp(std::lround(normal(rng)), -128L, 127L) : uniform(rng));
  }
  Buffer b(host.size());
  Check(cudaMemcpy(b.as<void>(), host.data(), host.size(), cudaMemcpyHostToDevice), "cudaMemcpy");
  return b;
}

double MedianMs(const std::function<void()>& run, int repeats) {
  cudaEvent_t start, stop;
  Check(cudaEventCreate(&start), "cudaEventCreate");
  Check(cudaEventCreate(&stop), "cudaEventCreate");
  run();
  Check(cudaDeviceSynchronize(), "warm-up");
  std::vector<float> ms;
  for (int i = 0; i < repeats; ++i) {
    Check(cudaEventRecord(start), "cudaEventRecord");
    run();
    Check(cudaEventRecord(stop), "cudaEventRecord");
    Check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float t = 0;
    Check(cudaEventElapsedTime(&t, start, stop), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main() {
  if (GpuDeviceCount() == 0) {
    std::fprintf(stderr, "gpu_gemm: no CUDA device\n");
    return 2;
  }
  cudaDeviceProp prop{};
  Check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  Catalog catalog;
  Check(catalog.ImportEvoApprox(absl::GetFlag(FLAGS_evoapprox_dir)));
  std::vector<std::unique_ptr<GpuMultiplier>> multipliers;
  for (const CatalogEntry& e : catalog.entries()) {
    absl::StatusOr<std::unique_ptr<GpuMultiplier>> g = GpuMultiplier::Create(e.multiplier, 0);
    Check(g.status());
    multipliers.push_back(*std::move(g));
  }
  cublasHandle_t blas;
  if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "cublasCreate failed\n");
    return 1;
  }
  const int repeats = absl::GetFlag(FLAGS_repeats);
  const std::string operands = absl::GetFlag(FLAGS_operands);
  if (operands != "uniform" && operands != "normal") {
    std::fprintf(stderr, "gpu_gemm: --operands must be 'uniform' or 'normal', got '%s'\n",
                 operands.c_str());
    return 2;
  }
  const bool normal = operands == "normal";

  std::printf("# Approximate GEMM on the GPU\n\n");
  std::printf("Device: %s, %d multiprocessors. Reproduce: `./run bench gpu` on a machine with "
              "an NVIDIA GPU. Operands: %s; median of %d runs (CUDA events). "
              "GMAC/s = M·K·N / time.\n\n",
              prop.name, prop.multiProcessorCount,
              normal ? "normal (activations σ = 20, weights σ = 30, clipped to int8)"
                     : "uniformly random int8",
              repeats);
  for (const auto& g : multipliers) {
    std::printf("- %s: %s\n", g->multiplier().id().c_str(), g->Describe().c_str());
  }
  std::printf("\n| layer | M×K×N | multiplier | path | ms | GMAC/s | int8 cuBLAS ms | "
              "path / int8 throughput | table kernel ms | naive table ms | table kernel / naive |\n");
  std::printf("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n");

  std::vector<double> structured_fraction, table_speedup;
  std::mt19937 rng(1);
  for (int batch : {1, 64}) {
    for (const Shape& base : {Shape{"qkv", 197, 384, 1152}, Shape{"proj", 197, 384, 384},
                              Shape{"fc1", 197, 384, 1536}, Shape{"fc2", 197, 1536, 384}}) {
      const int64_t M = base.m * batch, K = base.k, N = base.n;
      const double macs = static_cast<double>(M) * K * N;
      Buffer a = RandomInt8(rng, M * K, normal ? 20 : 0), w = RandomInt8(rng, K * N, normal ? 30 : 0),
             wt = RandomInt8(rng, N * K, normal ? 30 : 0);
      Buffer c(static_cast<size_t>(M * N) * sizeof(int32_t));
      const int32_t one = 1, zero = 0;
      // K and N of these shapes are multiples of 16, as the int8 path needs.
      const double int8_ms = MedianMs(
          [&] {
            cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(N), static_cast<int>(M),
                         static_cast<int>(K), &one, wt.as<int8_t>(), CUDA_R_8I,
                         static_cast<int>(K), a.as<int8_t>(), CUDA_R_8I, static_cast<int>(K),
                         &zero, c.as<int32_t>(), CUDA_R_32I, static_cast<int>(N),
                         CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT);
          },
          repeats);
      for (const auto& g : multipliers) {
        auto time = [&](GpuKernel kernel) {
          const size_t bytes = g->WorkspaceBytes(kernel, M, K, N);
          Buffer workspace(bytes);
          return MedianMs(
              [&] {
                Check(g->Gemm(kernel, a.as<int8_t>(), w.as<int8_t>(), c.as<int32_t>(), M, K, N,
                              workspace.as<void>(), bytes, nullptr, blas));
              },
              repeats);
        };
        const GpuKernel best = g->best_kernel();
        const double best_ms = time(best);
        const GpuKernel table_kernel =
            g->Supports(GpuKernel::kTableShared) ? GpuKernel::kTableShared : GpuKernel::kTableGlobal;
        const double table_ms = best == table_kernel ? best_ms : time(table_kernel);
        Buffer table(sizeof(Table));
        Check(cudaMemcpy(table.as<void>(), g->multiplier().int8_table().data(), sizeof(Table),
                         cudaMemcpyHostToDevice),
              "cudaMemcpy");
        const double naive_ms = MedianMs(
            [&] {
              Check(LaunchNaiveTableGemm(table.as<int32_t>(), a.as<int8_t>(), w.as<int8_t>(),
                                         c.as<int32_t>(), M, K, N, nullptr),
                    "naive launch");
            },
            repeats);
        if (best == GpuKernel::kInt8Terms) {
          structured_fraction.push_back(int8_ms / best_ms);
        } else {
          table_speedup.push_back(naive_ms / table_ms);
        }
        std::printf("| %s b%d | %lldx%lldx%lld | %s | %s | %.3f | %.0f | %.3f | %.2f | %.3f (%s) | %.3f | %.2fx |\n",
                    base.what, batch, static_cast<long long>(M), static_cast<long long>(K),
                    static_cast<long long>(N), g->multiplier().id().c_str(), GpuKernelName(best),
                    best_ms, macs / best_ms / 1e6, int8_ms, int8_ms / best_ms, table_ms,
                    GpuKernelName(table_kernel), naive_ms, naive_ms / table_ms);
        std::fflush(stdout);
      }
    }
  }
  std::printf("\nSummary: structured multipliers (int8_terms) reach a median %.2f (min %.2f) of "
              "cuBLAS int8 throughput over %zu measurements; table-path multipliers' kernel is a "
              "median %.2fx (min %.2fx) the naive global-memory kernel over %zu.\n",
              Median(structured_fraction),
              structured_fraction.empty() ? 0.0
                                          : *std::min_element(structured_fraction.begin(),
                                                              structured_fraction.end()),
              structured_fraction.size(), Median(table_speedup),
              table_speedup.empty() ? 0.0
                                    : *std::min_element(table_speedup.begin(), table_speedup.end()),
              table_speedup.size());
  cublasDestroy(blas);
  return 0;
}

}  // namespace
}  // namespace transaxx::approx

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return transaxx::approx::Main();
}
