#include "libs/search/sensitivity.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace transaxx::search {

SensitivityAnalysis::SensitivityAnalysis(const SearchSpace& space, std::vector<int> candidates,
                                         int64_t max_evaluations)
    : candidates_(space.candidates()) {
  const int decisions = space.decisions();
  table_.drop_pp.assign(decisions,
                        std::vector<double>(candidates_, std::numeric_limits<double>::quiet_NaN()));
  for (std::vector<double>& row : table_.drop_pp) row[0] = 0;
  plan_index_.assign(static_cast<size_t>(decisions) * candidates_, -1);

  // The decisions with the largest MAC share first: under a bound on
  // evaluations, those are where the savings (and the risk) are.
  std::vector<int> order(decisions);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return space.mac_fraction[a] > space.mac_fraction[b]; });
  for (int d : order) {
    for (int c : candidates) {
      if (max_evaluations > 0 && static_cast<int64_t>(plan_.size()) >= max_evaluations) break;
      int64_t& index = plan_index_[static_cast<size_t>(d) * candidates_ + c];
      if (index >= 0) continue;  // a candidate listed twice is measured once
      index = static_cast<int64_t>(plan_.size());
      Assignment a = space.Exact();
      a[d] = c;
      plan_.push_back(std::move(a));
    }
  }
  state_.assign(plan_.size(), CellState::kPlanned);
}

int64_t SensitivityAnalysis::PlanIndex(const Assignment& assignment) const {
  if (assignment.size() != table_.drop_pp.size()) return -1;
  int64_t found = -1;
  for (size_t d = 0; d < assignment.size(); ++d) {
    const int c = assignment[d];
    if (c == 0) continue;
    if (found >= 0 || c < 0 || c >= candidates_) return -1;  // two approximated, or invalid
    found = plan_index_[d * candidates_ + c];
    if (found < 0) return -1;
  }
  return found;  // -1 for all-exact too
}

void SensitivityAnalysis::SkipObserved() {
  while (next_ < plan_.size() && state_[next_] != CellState::kPlanned) ++next_;
}

std::vector<Assignment> SensitivityAnalysis::Propose(int max_count) {
  std::vector<Assignment> out;
  SkipObserved();
  while (static_cast<int>(out.size()) < max_count && next_ < plan_.size()) {
    state_[next_] = CellState::kInFlight;
    out.push_back(plan_[next_]);
    SkipObserved();
  }
  return out;
}

void SensitivityAnalysis::Observe(const Assignment& assignment, const Outcome& outcome) {
  const int64_t index = PlanIndex(assignment);
  if (index < 0) return;
  CellState& state = state_[index];
  if (state == CellState::kObserved) return;  // a repeated report counts once
  if (state == CellState::kAbandoned) --abandoned_;
  state = CellState::kObserved;
  ++observed_;
  for (size_t d = 0; d < assignment.size(); ++d) {
    if (assignment[d] != 0) table_.drop_pp[d][assignment[d]] = outcome.accuracy_drop_pp;
  }
  SkipObserved();
}

void SensitivityAnalysis::Abandon(const Assignment& assignment) {
  const int64_t index = PlanIndex(assignment);
  if (index < 0 || state_[index] != CellState::kInFlight) return;
  state_[index] = CellState::kAbandoned;
  ++abandoned_;
}

bool SensitivityAnalysis::Finished() const {
  return std::none_of(state_.begin() + static_cast<std::ptrdiff_t>(next_), state_.end(),
                      [](CellState s) { return s == CellState::kPlanned; });
}

bool SensitivityAnalysis::complete() const {
  return observed_ == static_cast<int64_t>(plan_.size());
}

}  // namespace transaxx::search
