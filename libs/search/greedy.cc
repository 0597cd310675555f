#include "libs/search/greedy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace transaxx::search {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Mean measured drop of a decision over its candidates c > 0; NaN when none
// was measured.
double MeanDrop(const std::vector<double>& row) {
  double sum = 0;
  int measured = 0;
  for (size_t c = 1; c < row.size(); ++c) {
    if (std::isnan(row[c])) continue;
    sum += row[c];
    ++measured;
  }
  return measured == 0 ? kNaN : sum / measured;
}

}  // namespace

GreedySearch::GreedySearch(const SearchSpace& space, const Sensitivity& sensitivity,
                           double max_accuracy_drop_pp)
    : space_(space), max_drop_pp_(max_accuracy_drop_pp), current_(space.Exact()) {
  order_.resize(space.decisions());
  std::iota(order_.begin(), order_.end(), 0);
  std::vector<double> mean(space.decisions(), 0);
  if (!sensitivity.empty()) {
    for (int d = 0; d < space.decisions(); ++d) mean[d] = MeanDrop(sensitivity.drop_pp[d]);
  }
  // Without a table every mean is 0 and the MAC share decides alone.
  std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) {
    const bool a_unmeasured = std::isnan(mean[a]);
    const bool b_unmeasured = std::isnan(mean[b]);
    if (a_unmeasured != b_unmeasured) return b_unmeasured;
    if (!a_unmeasured && mean[a] != mean[b]) return mean[a] < mean[b];
    return space.mac_fraction[a] > space.mac_fraction[b];
  });
  StartStep();
  Advance();
}

Assignment GreedySearch::Trial(int c) const {
  Assignment a = current_;
  a[order_[step_]] = c;
  return a;
}

int GreedySearch::TrialCandidate(const Assignment& assignment) const {
  if (Finished() || assignment.size() != current_.size()) return -1;
  const int c = assignment[order_[step_]];
  if (c <= 0 || c >= space_.candidates() || assignment != Trial(c)) return -1;
  return c;
}

void GreedySearch::StartStep() {
  if (Finished()) return;
  trial_state_.assign(space_.candidates(), TrialState::kPending);
  trial_drop_.assign(space_.candidates(), kNaN);
  trial_state_[0] = TrialState::kDone;  // exact: current_ itself, never a trial
  for (int c = 1; c < space_.candidates(); ++c) {
    auto it = observed_.find(Trial(c));
    if (it == observed_.end()) continue;
    trial_state_[c] = TrialState::kDone;
    trial_drop_[c] = it->second.accuracy_drop_pp;
  }
}

void GreedySearch::Advance() {
  while (!Finished() && std::all_of(trial_state_.begin(), trial_state_.end(),
                                    [](TrialState s) { return s == TrialState::kDone; })) {
    const int d = order_[step_];
    int best = 0;  // exact saves nothing
    for (int c = 1; c < space_.candidates(); ++c) {
      // NaN (abandoned) fails the comparison.
      if (!(trial_drop_[c] <= max_drop_pp_)) continue;
      if (space_.saving[d][c] > space_.saving[d][best]) best = c;
    }
    current_[d] = best;
    ++step_;
    StartStep();
  }
}

std::vector<Assignment> GreedySearch::Propose(int max_count) {
  std::vector<Assignment> out;
  if (Finished()) return out;
  for (int c = 1; c < space_.candidates() && static_cast<int>(out.size()) < max_count; ++c) {
    if (trial_state_[c] != TrialState::kPending) continue;
    trial_state_[c] = TrialState::kInFlight;
    out.push_back(Trial(c));
  }
  return out;
}

void GreedySearch::Observe(const Assignment& assignment, const Outcome& outcome) {
  observed_.emplace(assignment, outcome);
  const int c = TrialCandidate(assignment);
  if (c < 0 || trial_state_[c] == TrialState::kDone) return;
  trial_state_[c] = TrialState::kDone;
  trial_drop_[c] = outcome.accuracy_drop_pp;
  Advance();
}

void GreedySearch::Abandon(const Assignment& assignment) {
  const int c = TrialCandidate(assignment);
  if (c < 0 || trial_state_[c] != TrialState::kInFlight) return;
  trial_state_[c] = TrialState::kDone;  // trial_drop_ stays NaN: not eligible
  Advance();
}

}  // namespace transaxx::search
