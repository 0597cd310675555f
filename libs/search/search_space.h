// The space a search explores: a fixed number of decisions (a searched layer,
// or a group of layers sharing one multiplier), each taking one of a list of
// candidate multipliers. Choice 0 of every decision is `exact`.
//
// Power is linear in the decisions (the paper's metric):
//   relative_power(a) = 1 − Σ_d saving[d][a[d]],
// with saving[d][c] = w_d · (1 − P(c)/P(exact)), w_d the decision's share of
// the model's MACs. Strategies use it to prefer cheap configurations without
// asking anyone; the coordinator still takes the reported power of every
// evaluated configuration from the power model.
//
// Thread-safety: plain values and pure functions.
#ifndef TRANSAXX_LIBS_SEARCH_SEARCH_SPACE_H_
#define TRANSAXX_LIBS_SEARCH_SEARCH_SPACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace transaxx::search {

// A complete configuration: the chosen candidate index of every decision.
using Assignment = std::vector<int>;

struct SearchSpace {
  // saving[d][c]: relative power saved when decision d takes candidate c
  // instead of exact. saving[d][0] == 0. Every row has the same length (the
  // candidate count).
  std::vector<std::vector<double>> saving;
  // mac_fraction[d]: the decision's share w_d of the model's MACs, in [0, 1].
  std::vector<double> mac_fraction;

  int decisions() const { return static_cast<int>(saving.size()); }
  int candidates() const { return saving.empty() ? 0 : static_cast<int>(saving[0].size()); }
  // candidates ^ decisions, as a double (it can exceed 2^63).
  double size() const;
  // 1 − Σ_d saving[d][a[d]]. REQUIRES: a is valid for this space.
  double RelativePower(const Assignment& a) const;
  // The all-exact assignment.
  Assignment Exact() const { return Assignment(saving.size(), 0); }
};

// OK when the space has ≥ 1 decision, ≥ 1 candidate, equal row lengths,
// saving[d][0] == 0, one mac_fraction per decision, each in [0, 1], and
// finite values; INVALID_ARGUMENT otherwise.
absl::Status ValidateSpace(const SearchSpace& space);

// OK when `a` has one in-range choice per decision.
absl::Status ValidateAssignment(const SearchSpace& space, const Assignment& a);

// A compact, stable text key of an assignment ("0.3.1.0"), for sets and logs.
std::string AssignmentKey(const Assignment& a);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_SEARCH_SPACE_H_
