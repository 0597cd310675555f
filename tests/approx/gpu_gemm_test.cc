// The GPU kernels against the reference GEMM, bit for bit: every shared
// EvoApprox table (signed, and unsigned through sign-magnitude), built-ins,
// a random 16-bit table and a random 32-bit one, in every kernel each
// multiplier supports, on ragged shapes (M, N, K not multiples of the tiles
// or of 16), extreme operands and sums deeper than one int8 GEMM may take.
// The GPU tests skip without a CUDA device; the argument checks that need
// none run everywhere.
#include "libs/approx/cuda/gpu_gemm.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "libs/approx/builtin.h"
#include "libs/approx/reference_gemm.h"
#include "tests/approx/gemm_test_inputs.h"

namespace transaxx::approx {
namespace {

using ::testing::HasSubstr;

// A device copy of a host vector, freed with its owner.
template <typename T>
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<T>& host) : size_(host.size()) {
    EXPECT_EQ(cudaMalloc(&ptr_, std::max<size_t>(Bytes(), 1)), cudaSuccess);
    if (size_ > 0) {
      EXPECT_EQ(cudaMemcpy(ptr_, host.data(), Bytes(), cudaMemcpyHostToDevice), cudaSuccess);
    }
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  T* get() const { return static_cast<T*>(ptr_); }
  std::vector<T> ToHost() const {
    std::vector<T> host(size_);
    if (size_ > 0) {
      EXPECT_EQ(cudaMemcpy(host.data(), ptr_, Bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
    }
    return host;
  }

 private:
  size_t Bytes() const { return size_ * sizeof(T); }
  void* ptr_ = nullptr;
  size_t size_;
};

std::vector<Multiplier> Multipliers() {
  std::vector<Multiplier> out = EvoApproxMultipliers();
  for (const char* id : {"exact", "drum:k=4", "mitchell"}) out.push_back(*MakeBuiltin(id));
  out.push_back(MultiDigitMultiplier());
  out.push_back(FoldingMultiplier());
  std::mt19937 rng(5);
  for (int32_t range : {1 << 15, 1 << 20}) {
    std::uniform_int_distribution<int32_t> entry(-range, range - 1);
    Table random;
    for (int32_t& v : random) v = entry(rng);
    out.push_back(*Multiplier::Create("random" + std::to_string(range), Signedness::kSigned, random));
  }
  return out;
}

class GpuGemmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (GpuDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
    ASSERT_EQ(cublasCreate(&blas_), CUBLAS_STATUS_SUCCESS);
  }
  void TearDown() override {
    if (blas_ != nullptr) cublasDestroy(blas_);
  }

  void ExpectSame(const GpuMultiplier& g, GpuKernel kernel, const std::vector<int8_t>& a,
                  const std::vector<int8_t>& w, int64_t M, int64_t K, int64_t N) {
    std::vector<int32_t> expected(static_cast<size_t>(M * N));
    ASSERT_TRUE(
        ApproxGemmReference(g.multiplier(), a.data(), w.data(), expected.data(), M, K, N).ok());
    DeviceArray<int8_t> da(a), dw(w);
    DeviceArray<int32_t> dc(std::vector<int32_t>(static_cast<size_t>(M * N), 7));
    DeviceArray<char> workspace(std::vector<char>(g.WorkspaceBytes(kernel, M, K, N)));
    const absl::Status s = g.Gemm(kernel, da.get(), dw.get(), dc.get(), M, K, N, workspace.get(),
                                  g.WorkspaceBytes(kernel, M, K, N), nullptr, blas_);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(dc.ToHost(), expected) << g.multiplier().id() << " " << GpuKernelName(kernel)
                                     << " M=" << M << " K=" << K << " N=" << N;
  }

  cublasHandle_t blas_ = nullptr;
};

std::vector<GpuKernel> Kernels(const GpuMultiplier& g) {
  std::vector<GpuKernel> out;
  for (GpuKernel k : {GpuKernel::kInt8Terms, GpuKernel::kTableShared, GpuKernel::kTableGlobal}) {
    if (g.Supports(k)) out.push_back(k);
  }
  return out;
}

TEST_F(GpuGemmTest, EveryKernelEqualsTheReferenceOnRaggedShapes) {
  std::mt19937 rng(1);
  struct Shape {
    int64_t M, K, N;
  };
  const std::vector<Shape> shapes = {{1, 1, 1},     {3, 37, 9},    {64, 32, 64}, {65, 33, 63},
                                     {130, 100, 129}, {197, 384, 72}, {5, 1000, 17}};
  for (const Multiplier& m : Multipliers()) {
    absl::StatusOr<std::unique_ptr<GpuMultiplier>> g = GpuMultiplier::Create(m, 0);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_TRUE((*g)->Supports((*g)->best_kernel()));
    if (m.id() == "multi-digit") {  // weights 1, 128 and 128^2
      EXPECT_THAT((*g)->Describe(), HasSubstr("in 3 tensor-core GEMMs"));
    }
    for (GpuKernel kernel : Kernels(**g)) {
      for (const Shape& s : shapes) {
        ExpectSame(**g, kernel, RandomInt8(rng, s.M * s.K), RandomInt8(rng, s.K * s.N), s.M, s.K, s.N);
      }
    }
  }
}

TEST_F(GpuGemmTest, ExtremeOperands) {
  for (const Multiplier& m : Multipliers()) {
    std::unique_ptr<GpuMultiplier> g = *GpuMultiplier::Create(m, 0);
    for (GpuKernel kernel : Kernels(*g)) {
      for (int8_t av : {int8_t{-128}, int8_t{127}, int8_t{-1}}) {
        for (int8_t wv : {int8_t{-128}, int8_t{127}}) {
          const int64_t M = 2, K = std::min<int64_t>(3000, MaxAccumulationDepth(m)), N = 19;
          ExpectSame(*g, kernel, std::vector<int8_t>(M * K, av), std::vector<int8_t>(K * N, wv), M,
                     K, N);
        }
      }
    }
  }
}

// An all-zero table admits any depth, but each int8 GEMM of its terms
// (a·b - a·b) sums 2^14 per step: K beyond 131,071 must be split.
TEST_F(GpuGemmTest, DeepSumsAreSplitIntoExactChunks) {
  Table zero{};
  const Multiplier m = *Multiplier::Create("zero", Signedness::kSigned, zero);
  std::unique_ptr<GpuMultiplier> g = *GpuMultiplier::Create(m, 0);
  const int64_t M = 2, K = 140000, N = 3;
  for (GpuKernel kernel : Kernels(*g)) {
    ExpectSame(*g, kernel, std::vector<int8_t>(M * K, -128), std::vector<int8_t>(K * N, -128), M,
               K, N);
  }
}

TEST_F(GpuGemmTest, EmptyShapes) {
  std::unique_ptr<GpuMultiplier> g = *GpuMultiplier::Create(*MakeBuiltin("drum:k=4"), 0);
  for (GpuKernel kernel : Kernels(*g)) {
    ExpectSame(*g, kernel, {}, std::vector<int8_t>(5), 0, 1, 5);
    ExpectSame(*g, kernel, std::vector<int8_t>(4), {}, 4, 1, 0);
    ExpectSame(*g, kernel, {}, {}, 3, 0, 4);  // no terms: zeros
  }
}

TEST_F(GpuGemmTest, RejectsBadArguments) {
  std::unique_ptr<GpuMultiplier> g = *GpuMultiplier::Create(*MakeBuiltin("exact"), 0);
  DeviceArray<int8_t> a(std::vector<int8_t>(64)), w(std::vector<int8_t>(64));
  DeviceArray<int32_t> c(std::vector<int32_t>(64));
  EXPECT_EQ(g->Gemm(GpuKernel::kInt8Terms, a.get(), w.get(), c.get(), 8, 8, 8, nullptr, 0, nullptr,
                    blas_)
                .code(),
            absl::StatusCode::kFailedPrecondition);  // no workspace
  EXPECT_EQ(g->Gemm(GpuKernel::kTableGlobal, a.get(), w.get(), c.get(), -1, 8, 8, nullptr, 0,
                    nullptr, blas_)
                .code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<int32_t> wide(kTableSize, 1 << 20);
  Table t;
  std::copy(wide.begin(), wide.end(), t.begin());
  std::unique_ptr<GpuMultiplier> flat =
      *GpuMultiplier::Create(*Multiplier::Create("flat", Signedness::kSigned, t), 0);
  const absl::Status s = flat->Gemm(GpuKernel::kTableShared, a.get(), w.get(), c.get(), 8, 8, 8,
                                    nullptr, 0, nullptr, blas_);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("table_shared"));
}

// Runs everywhere: without a device, Create says so instead of failing later.
TEST(GpuGemmNoDeviceTest, CreateNamesTheMissingDevice) {
  const int count = GpuDeviceCount();
  absl::StatusOr<std::unique_ptr<GpuMultiplier>> g =
      GpuMultiplier::Create(*MakeBuiltin("exact"), count);
  EXPECT_EQ(g.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(g.status().message(), HasSubstr("no CUDA device"));
}

}  // namespace
}  // namespace transaxx::approx
