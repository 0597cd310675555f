// Error figures of an approximate multiplier: how far its table is from the
// exact product, over the full operand range and over the narrow range that
// symmetric int8 quantization produces, plus the rank of its error matrix.
//
// For an operand pair (a, b) the error is e = T(a, b) - a·b, where T is the
// multiplier's own table (table(), not int8_table()): signed tables are taken
// over a, b in -128..127, unsigned ones over 0..255.
//
// The conventions are EvoApproxLib's, determined by reproducing the figures
// it publishes for its circuits (../shared/data/evoapprox) from their tables:
// - relative errors |e| / |a·b| are taken over the pairs with a·b != 0 only
//   (mul8u_2V0 errs by 2 at a·b = 0, yet its published WCRE is 100 %, and
//   mul8s_1L12's MRE of 135.77 % is the mean over the nonzero products);
// - percentages of absolute errors (MAE%, WCE%) are relative to 2^16;
// - EP counts the pairs with e != 0.
//
// Thread-safety: pure functions of their arguments.
#ifndef TRANSAXX_LIBS_APPROX_ERROR_METRICS_H_
#define TRANSAXX_LIBS_APPROX_ERROR_METRICS_H_

#include <cstdint>

#include "libs/approx/multiplier.h"

namespace transaxx::approx {

// Figures over one set of operand pairs (a "range").
struct ErrorFigures {
  double mae;       // mean |e|
  double wce;       // max |e|
  double wcre_pct;  // max |e| / |a·b| over pairs with a·b != 0, in percent
  double ep_pct;    // share of pairs with e != 0, in percent
  double mre_pct;   // mean |e| / |a·b| over pairs with a·b != 0, in percent
  double mse;       // mean e²
  // Mean relative error distance: mean |e| / max(1, |a·b|) over all pairs,
  // as a fraction. Unlike mre_pct it also charges errors at a·b = 0 (where a
  // product of 0 matters as much as any other in a dot product), against a
  // denominator of 1.
  double mred;
  double nmed;        // mae / max |a·b| over the range (normalized mean error distance)
  double mean_error;  // mean e (signed): the bias an accumulation of products sees
  int64_t pairs;      // number of operand pairs in the range
};

struct ErrorReport {
  // All 65,536 pairs: -128..127 (signed) or 0..255 (unsigned).
  ErrorFigures full;
  // The pairs quantized int8 operands can reach: -127..127 for signed tables
  // (symmetric narrow-range quantization never yields -128), 0..127 for
  // unsigned ones (the magnitudes |q| <= 127 an unsigned circuit sees through
  // sign-magnitude, see Multiplier::int8_table).
  ErrorFigures narrow;
  // Rank over the rationals of the 256x256 matrix E(a, b) = T(a, b) - a·b
  // over the full range. 0 for an exact multiplier; a low rank means the
  // error is a sum of few separable terms f(a)·g(b).
  int error_rank;
};

ErrorReport ComputeErrorFigures(const Multiplier& multiplier);

// The rank of E described above, on its own (ComputeErrorFigures includes
// it). Computed modulo several primes above 2^60 and maximized: see
// error_metrics.cc for why that is the rational rank.
int ErrorRank(const Multiplier& multiplier);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_ERROR_METRICS_H_
