#include "libs/approx/cuda/gpu_gemm.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/approx/cuda/gpu_kernels.h"
#include "libs/approx/int8_terms.h"
#include "libs/approx/reference_gemm.h"
#include "libs/approx/structure_cache.h"

namespace transaxx::approx {
namespace {

using gpu::TableForm;

absl::Status CudaStatus(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(e)));
}

absl::Status BlasStatus(cublasStatus_t s, const char* what) {
  if (s == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cublasGetStatusString(s)));
}

// Makes `device` current for its lifetime, restoring the caller's device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
    if (previous_ != device) cudaSetDevice(device);
  }
  ~DeviceGuard() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Device memory freed with its owner.
struct DeviceBuffer {
  void* ptr = nullptr;
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr); }

  absl::Status Upload(const void* host, size_t bytes) {
    if (absl::Status s = CudaStatus(cudaMalloc(&ptr, bytes), "cudaMalloc"); !s.ok()) return s;
    return CudaStatus(cudaMemcpy(ptr, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
};

// The int8 GEMM operands are padded to multiples of 16 (K and N), which
// every int8 tensor-core kernel of cuBLAS accepts.
int64_t Padded(int64_t n) { return (n + 15) / 16 * 16; }
size_t Aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }
// Deepest int8 GEMM whose int32 sums cannot overflow, kept a multiple of 16.
constexpr int64_t kInt8Chunk = kMaxInt8TermDepth / 16 * 16;

// A 16-bit form of the table, if one holds every entry.
std::optional<std::pair<TableForm, std::vector<int16_t>>> Table16(const Table& t) {
  for (TableForm form : {TableForm::kRaw16, TableForm::kOffset16}) {
    std::vector<int16_t> out(kTableSize);
    bool fits = true;
    for (int a = -128; a < 128 && fits; ++a) {
      for (int b = -128; b < 128 && fits; ++b) {
        const int index = TableIndex(a, b);
        const int64_t v = t[index] - (form == TableForm::kOffset16 ? a * b : 0);
        fits = v >= INT16_MIN && v <= INT16_MAX;
        out[index] = static_cast<int16_t>(v);
      }
    }
    if (fits) return std::make_pair(form, std::move(out));
  }
  return std::nullopt;
}

}  // namespace

struct GpuMultiplier::DeviceData {
  int multiprocessors = 1;
  DeviceBuffer table32;
  std::optional<TableForm> form16;
  DeviceBuffer table16;
  // The int8 terms grouped by weight: the terms of a group share one GEMM,
  // their operands concatenated along K. A group's maps lie at `offset` in
  // `maps`: its `count` a_maps, then its `count` b_maps, 256 bytes each.
  struct Group {
    uint32_t weight = 1;
    int count = 0;
    size_t offset = 0;
  };
  std::vector<Group> groups;
  int terms = 0;
  DeviceBuffer maps;
  std::string structure;
};

const char* GpuKernelName(GpuKernel kernel) {
  switch (kernel) {
    case GpuKernel::kInt8Terms:
      return "int8_terms";
    case GpuKernel::kTableShared:
      return "table_shared";
    case GpuKernel::kTableGlobal:
      return "table_global";
  }
  return "unknown";
}

int GpuDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return count;
}

GpuMultiplier::GpuMultiplier(Multiplier multiplier, int device, std::unique_ptr<DeviceData> data)
    : multiplier_(std::move(multiplier)), device_(device), data_(std::move(data)) {}

GpuMultiplier::~GpuMultiplier() {
  DeviceGuard guard(device_);
  data_.reset();
}

absl::StatusOr<std::unique_ptr<GpuMultiplier>> GpuMultiplier::Create(const Multiplier& multiplier,
                                                                     int device) {
  const int count = GpuDeviceCount();
  if (device < 0 || device >= count) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CUDA device ", device, ": this process sees ", count, " (a driver and GPU are needed)"));
  }
  absl::StatusOr<std::shared_ptr<const Structure>> structure = CachedStructure(multiplier);
  if (!structure.ok()) return structure.status();
  DeviceGuard guard(device);
  auto data = std::make_unique<DeviceData>();
  data->structure = (*structure)->Describe();
  if (absl::Status s = CudaStatus(cudaDeviceGetAttribute(&data->multiprocessors,
                                                         cudaDevAttrMultiProcessorCount, device),
                                  "cudaDeviceGetAttribute");
      !s.ok()) {
    return s;
  }
  const Table& table = multiplier.int8_table();
  if (absl::Status s = data->table32.Upload(table.data(), sizeof(Table)); !s.ok()) return s;
  if (auto t16 = Table16(table)) {
    data->form16 = t16->first;
    const size_t bytes = t16->second.size() * sizeof(int16_t);
    if (absl::Status s = data->table16.Upload(t16->second.data(), bytes); !s.ok()) return s;
  }
  if ((*structure)->path != KernelPath::kTable) {
    absl::StatusOr<std::vector<Int8Term>> terms = Int8Terms(**structure);
    if (!terms.ok()) return terms.status();
    // Groups in order of first appearance: weight 1 comes first (the
    // identity term, or the lowest digits of the first separable term),
    // which lets a lone group write C directly.
    std::vector<uint32_t> weights;
    for (const Int8Term& t : *terms) {
      if (std::find(weights.begin(), weights.end(), t.weight) == weights.end()) {
        weights.push_back(t.weight);
      }
    }
    std::vector<int8_t> maps;
    for (uint32_t weight : weights) {
      DeviceData::Group group{weight, 0, maps.size()};
      for (bool a_side : {true, false}) {
        for (const Int8Term& t : *terms) {
          if (t.weight != weight) continue;
          const auto& map = a_side ? t.a_map : t.b_map;
          maps.insert(maps.end(), map.begin(), map.end());
          group.count += a_side ? 1 : 0;
        }
      }
      data->groups.push_back(group);
    }
    data->terms = static_cast<int>(terms->size());
    if (absl::Status s = data->maps.Upload(maps.data(), maps.size()); !s.ok()) return s;
  }
  return std::unique_ptr<GpuMultiplier>(new GpuMultiplier(multiplier, device, std::move(data)));
}

bool GpuMultiplier::Supports(GpuKernel kernel) const {
  switch (kernel) {
    case GpuKernel::kInt8Terms:
      return !data_->groups.empty();
    case GpuKernel::kTableShared:
      return data_->form16.has_value();
    case GpuKernel::kTableGlobal:
      return true;
  }
  return false;
}

GpuKernel GpuMultiplier::best_kernel() const {
  for (GpuKernel k : {GpuKernel::kInt8Terms, GpuKernel::kTableShared}) {
    if (Supports(k)) return k;
  }
  return GpuKernel::kTableGlobal;
}

std::string GpuMultiplier::Describe() const {
  switch (best_kernel()) {
    case GpuKernel::kInt8Terms:
      return absl::StrCat("int8_terms: ", data_->terms, " int8 term", data_->terms == 1 ? "" : "s",
                          " in ", data_->groups.size(), " tensor-core GEMM",
                          data_->groups.size() == 1 ? "" : "s", " (", data_->structure, ")");
    case GpuKernel::kTableShared:
      return *data_->form16 == TableForm::kRaw16
                 ? "table_shared: 16-bit table in shared memory"
                 : "table_shared: 16-bit error table T(a,b) - a·b in shared memory";
    case GpuKernel::kTableGlobal:
      return "table_global: 32-bit table read through the caches";
  }
  return "";
}

// Whether the int8 GEMM can write C itself: one group (of weight 1), N a
// multiple of 16 and a depth that needs no chunks. Otherwise each GEMM
// writes scratch sums that are weighted into C.
bool GpuMultiplier::WritesDirectly(int64_t K, int64_t N) const {
  return data_->groups.size() == 1 && N % 16 == 0 &&
         data_->groups[0].count * Padded(K) <= kInt8Chunk;
}

size_t GpuMultiplier::WorkspaceBytes(GpuKernel kernel, int64_t M, int64_t K, int64_t N) const {
  if (kernel != GpuKernel::kInt8Terms || !Supports(kernel) || M <= 0 || K <= 0 || N <= 0) return 0;
  int widest = 0;
  for (const DeviceData::Group& g : data_->groups) widest = std::max(widest, g.count);
  const size_t m = static_cast<size_t>(M), n = static_cast<size_t>(Padded(N)),
               depth = static_cast<size_t>(widest * Padded(K));
  const size_t sums = WritesDirectly(K, N) ? 0 : m * n * sizeof(int32_t);
  return Aligned(m * depth) + Aligned(n * depth) + sums;
}

absl::Status GpuMultiplier::Gemm(GpuKernel kernel, const int8_t* A, const int8_t* W, int32_t* C,
                                 int64_t M, int64_t K, int64_t N, void* workspace,
                                 size_t workspace_bytes, cudaStream_t stream,
                                 cublasHandle_t blas) const {
  if (absl::Status s = CheckGemmArguments(multiplier_, A, W, C, M, K, N); !s.ok()) return s;
  if (!Supports(kernel)) {
    return absl::FailedPreconditionError(absl::StrCat(
        multiplier_.id(), " cannot use the GPU kernel ", GpuKernelName(kernel), "; its best is ",
        GpuKernelName(best_kernel())));
  }
  if (M > INT_MAX || Padded(N) > INT_MAX || Padded(K) > INT_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("GPU GEMM dimensions must be below 2^31, got ", M, "x", K, "x", N));
  }
  if (workspace_bytes < WorkspaceBytes(kernel, M, K, N)) {
    return absl::FailedPreconditionError(absl::StrCat("GPU GEMM workspace of ", workspace_bytes,
                                                      " bytes is below the ",
                                                      WorkspaceBytes(kernel, M, K, N), " needed"));
  }
  if (M == 0 || N == 0) return absl::OkStatus();
  DeviceGuard guard(device_);
  if (K == 0) {
    return CudaStatus(cudaMemsetAsync(C, 0, static_cast<size_t>(M * N) * sizeof(int32_t), stream),
                      "cudaMemsetAsync");
  }
  if (kernel != GpuKernel::kInt8Terms) {
    const bool shared = kernel == GpuKernel::kTableShared;
    return CudaStatus(
        gpu::LaunchTableGemm(shared ? *data_->form16 : TableForm::kGlobal32,
                             shared ? data_->table16.ptr : data_->table32.ptr, A, W, C, M, K, N,
                             data_->multiprocessors * (shared ? 1 : 4), stream),
        "table GEMM launch");
  }

  const int64_t kp = Padded(K), np = Padded(N);
  int widest = 0;
  for (const DeviceData::Group& g : data_->groups) widest = std::max(widest, g.count);
  auto* mapped_a = static_cast<int8_t*>(workspace);
  int8_t* mapped_w = mapped_a + Aligned(static_cast<size_t>(M * widest * kp));
  auto* sums = reinterpret_cast<int32_t*>(mapped_w + Aligned(static_cast<size_t>(np * widest * kp)));
  const bool direct = WritesDirectly(K, N);
  const auto* maps = static_cast<const int8_t*>(data_->maps.ptr);
  if (absl::Status s = BlasStatus(cublasSetStream(blas, stream), "cublasSetStream"); !s.ok()) {
    return s;
  }
  const int32_t one = 1, zero = 0;
  bool first = true;
  for (const DeviceData::Group& g : data_->groups) {
    const int8_t* a_maps = maps + g.offset;
    const int8_t* b_maps = a_maps + g.count * 256;
    if (absl::Status s = CudaStatus(
            gpu::LaunchMapRows(a_maps, g.count, A, mapped_a, M, K, kp, stream), "map launch");
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CudaStatus(gpu::LaunchMapColumnsTransposed(b_maps, g.count, W, mapped_w,
                                                                    K, N, np, kp, stream),
                                    "map launch");
        !s.ok()) {
      return s;
    }
    const int64_t depth = g.count * kp;
    for (int64_t k0 = 0; k0 < depth; k0 += kInt8Chunk) {
      const int chunk = static_cast<int>(std::min(kInt8Chunk, depth - k0));
      // Column-major view: out [np, M] = mapped_wᵀ [np, chunk] · mapped_a [chunk, M].
      if (absl::Status s = BlasStatus(
              cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(np),
                           static_cast<int>(M), chunk, &one, mapped_w + k0, CUDA_R_8I,
                           static_cast<int>(depth), mapped_a + k0, CUDA_R_8I,
                           static_cast<int>(depth), &zero, direct ? C : sums, CUDA_R_32I,
                           static_cast<int>(np), CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT),
              "cublasGemmEx int8");
          !s.ok()) {
        return s;
      }
      if (direct) continue;
      if (absl::Status s = CudaStatus(
              gpu::LaunchAccumulate(sums, np, C, M, N, g.weight, first, stream),
              "accumulate launch");
          !s.ok()) {
        return s;
      }
      first = false;
    }
  }
  return absl::OkStatus();
}

}  // namespace transaxx::approx
