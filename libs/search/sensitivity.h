// The sensitivity analysis (the paper's first step): the accuracy drop of
// every decision × candidate with only that decision approximated. It is a
// strategy of its own (a job kind, and the first phase of MCTS with a prior
// and of greedy), and its table feeds the hardware-driven prior.
//
// Thread-safety: Sensitivity is a plain value; SensitivityAnalysis as
// Strategy (not thread-safe).
#ifndef TRANSAXX_LIBS_SEARCH_SENSITIVITY_H_
#define TRANSAXX_LIBS_SEARCH_SENSITIVITY_H_

#include <cstdint>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

// drop_pp[d][c]: accuracy drop (percentage points, against the all-exact
// configuration on the analysis' images) with only decision d on candidate
// c; NaN where not measured. drop_pp[d][0] == 0. Empty: no analysis ran.
struct Sensitivity {
  std::vector<std::vector<double>> drop_pp;

  bool empty() const { return drop_pp.empty(); }
};

// Proposes the single-decision assignments (decision d on candidate c, every
// other decision exact) for c in `candidates` (indices into the space's
// candidates, 0 excluded), decisions by descending MAC share (ties in
// decision order), at most `max_evaluations` of them (0: no bound). Finished
// once all are proposed; the table is complete when all were observed.
class SensitivityAnalysis : public Strategy {
 public:
  // REQUIRES: ValidateSpace(space) is OK; candidates in [1, candidates).
  SensitivityAnalysis(const SearchSpace& space, std::vector<int> candidates,
                      int64_t max_evaluations);

  std::vector<Assignment> Propose(int max_count) override;
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override;

  // The table so far (NaN where not observed).
  const Sensitivity& table() const { return table_; }
  // Every planned cell observed.
  bool complete() const;

 private:
  enum class CellState : char { kPlanned, kInFlight, kObserved, kAbandoned };

  // The plan index of a single-decision assignment of the plan; -1 for any
  // other assignment.
  int64_t PlanIndex(const Assignment& assignment) const;
  // Moves next_ past cells that replayed observations already filled.
  void SkipObserved();

  int candidates_ = 0;
  std::vector<Assignment> plan_;  // in proposal order
  std::vector<CellState> state_;  // per plan entry
  // plan_index_[d * candidates_ + c]: the plan entry of that cell, or -1.
  std::vector<int64_t> plan_index_;
  size_t next_ = 0;
  int64_t observed_ = 0;
  int64_t abandoned_ = 0;
  Sensitivity table_;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_SENSITIVITY_H_
