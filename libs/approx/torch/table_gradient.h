// Table-aware gradients of an approximate multiplier: the partial
// derivatives of its int8 product T(a, b) (Multiplier::int8_table) estimated
// by finite differences along each operand, for fine-tuning that follows the
// approximate arithmetic instead of the exact one (approx_ops.h,
// GRADIENT_MODE_TABLE_AWARE in evaluator.proto).
//
//   DA(a, b) = (T(a+1, b) - T(a-1, b)) / 2   (one-sided at a = -128 and 127)
//   DB(a, b) = (T(a, b+1) - T(a, b-1)) / 2   (alike along b)
//
// An exact multiplier has DA = b and DB = a, which is what straight-through
// gradients use. What a table adds is kept as a low-rank residual,
//   DA(a, b) = b + Σ_r da_u[r][a+128] · da_v[r][b+128]
//   DB(a, b) = a + Σ_r db_p[r][a+128] · db_q[r][b+128],
// so that the backward pass is a few float GEMMs rather than a table lookup
// per product: the terms of a rank-R residual cost R extra GEMMs. The
// factors come from a truncated SVD of each 256 x 256 residual. The signed
// EvoApprox tables have error rank <= 4 (structure.h), and a difference of a
// rank-4 matrix along one axis has rank <= 4, so for them nothing is dropped;
// other tables keep at most kMaxRank terms and report what they drop.
//
// Thread-safety: TableGradient is immutable; CachedTableGradient may be
// called from any thread.
#ifndef TRANSAXX_LIBS_APPROX_TORCH_TABLE_GRADIENT_H_
#define TRANSAXX_LIBS_APPROX_TORCH_TABLE_GRADIENT_H_

#include <ATen/core/Tensor.h>

#include <memory>

#include "libs/approx/multiplier.h"

namespace transaxx::approx {

// Gradient through the approximate operations.
enum class GradientMode {
  kStraightThrough,  // the exact float operation's gradient (as in the paper)
  kTableAware,       // finite differences of the multiplier's table
};

struct TableGradient {
  static constexpr int kMaxRank = 16;
  // float32 [R, 256] on the CPU, R <= kMaxRank (R = 0 for exact tables).
  at::Tensor da_u, da_v, db_p, db_q;
  // Frobenius norm of the residual dropped by the truncation relative to
  // that of the residual (0 when nothing is dropped).
  double da_dropped = 0, db_dropped = 0;
};

// The finite differences of `multiplier` as defined above, factored.
TableGradient ComputeTableGradient(const Multiplier& multiplier);

// ComputeTableGradient memoized per cache_key() for the process' lifetime
// (a few KB per multiplier).
std::shared_ptr<const TableGradient> CachedTableGradient(const Multiplier& multiplier);

// DA(a, b) and DB(a, b) of the definition above, straight from the table:
// the plain reference the factored form is tested against.
// REQUIRES: a, b in -128..127.
double TableDerivativeA(const Multiplier& multiplier, int a, int b);
double TableDerivativeB(const Multiplier& multiplier, int a, int b);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_TORCH_TABLE_GRADIENT_H_
