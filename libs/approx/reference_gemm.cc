#include "libs/approx/reference_gemm.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace transaxx::approx {

int64_t MaxAccumulationDepth(const Multiplier& multiplier) {
  const int32_t lo = multiplier.int8_min(), hi = multiplier.int8_max();
  int64_t depth = std::numeric_limits<int64_t>::max();
  if (hi > 0) depth = std::min<int64_t>(depth, std::numeric_limits<int32_t>::max() / hi);
  if (lo < 0) {
    depth = std::min<int64_t>(depth, static_cast<int64_t>(std::numeric_limits<int32_t>::min()) / lo);
  }
  return depth;
}

absl::Status CheckGemmArguments(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                                const int32_t* C, int64_t M, int64_t K, int64_t N) {
  if (M < 0 || K < 0 || N < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("GEMM dimensions M=", M, " K=", K, " N=", N, " must not be negative"));
  }
  if ((A == nullptr && M * K > 0) || (W == nullptr && K * N > 0) || (C == nullptr && M * N > 0)) {
    return absl::InvalidArgumentError("GEMM operand pointer is null for a non-empty matrix");
  }
  if (const int64_t depth = MaxAccumulationDepth(multiplier); K > depth) {
    return absl::InvalidArgumentError(
        absl::StrCat("K=", K, " may overflow int32 accumulation with multiplier '", multiplier.id(),
                     "': its table admits K <= ", depth));
  }
  return absl::OkStatus();
}

absl::Status ApproxGemmReference(const Multiplier& multiplier, const int8_t* A, const int8_t* W,
                                 int32_t* C, int64_t M, int64_t K, int64_t N) {
  if (absl::Status s = CheckGemmArguments(multiplier, A, W, C, M, K, N); !s.ok()) return s;
  const int32_t* table = multiplier.int8_table().data();
  // Row m of C needs row m of A and all of W: rows are independent.
#pragma omp parallel for schedule(static)
  for (int64_t m = 0; m < M; ++m) {
    int32_t* c = C + m * N;
    std::fill(c, c + N, 0);
    for (int64_t k = 0; k < K; ++k) {
      // The table row of operand A[m][k]; W[k][n] picks the column.
      const int32_t* products = table + TableIndex(A[m * K + k], 0);
      const int8_t* w = W + k * N;
      for (int64_t n = 0; n < N; ++n) c[n] += products[static_cast<uint8_t>(w[n])];
    }
  }
  return absl::OkStatus();
}

}  // namespace transaxx::approx
