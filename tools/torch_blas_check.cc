// Build-time check that LibTorch's CPU BLAS is a fast one.
//
// Times a 1024x1024x1024 fp32 matmul on one intra-op thread and fails when it
// runs below the given GFLOP/s: the reference (netlib) BLAS reaches a few
// GFLOP/s, MKL or OpenBLAS tens. A slow BLAS makes every fp32 layer of the
// evaluator crawl without any other symptom, so the build refuses it.
//
// Usage: torch_blas_check MIN_GFLOPS STAMP_FILE
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MIN_GFLOPS STAMP_FILE\n", argv[0]);
    return 2;
  }
  const double min_gflops = std::atof(argv[1]);
  at::set_num_threads(1);
  constexpr int64_t n = 1024;
  at::Tensor a = at::randn({n, n});
  at::Tensor b = at::randn({n, n});
  at::Tensor c = at::matmul(a, b);  // Warm-up: page faults, code loading.
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    c = at::matmul(a, b);
    std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  const double gflops = 2.0 * n * n * n / best / 1e9;
  std::printf("LibTorch 1024^3 fp32 matmul on 1 thread: %.1f GFLOP/s (required >= %.1f)\n",
              gflops, min_gflops);
  if (gflops < min_gflops) {
    std::fprintf(stderr,
                 "error: LibTorch's BLAS is too slow (%.1f GFLOP/s < %.1f): this looks like the "
                 "reference BLAS. The PyPI torch wheel ships MKL on x86-64; check that the wheel "
                 "in the virtual environment is the official one. Build configuration:\n%s\n",
                 gflops, min_gflops, at::show_config().c_str());
    return 1;
  }
  std::ofstream(argv[2]) << gflops << "\n";
  return 0;
}
