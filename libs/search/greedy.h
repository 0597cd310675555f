// Greedy search, the paper's heuristic baseline: layer by layer in
// sensitivity order (least sensitive first), each layer takes the
// lowest-power candidate that keeps the drop within the threshold.
//
// The walk starts from all-exact and visits every decision once. For the
// current decision it proposes, all at once, every candidate c > 0 put on
// top of the assignment fixed so far; when each of them is observed or
// abandoned, the decision keeps the candidate with the largest saving whose
// observed drop is <= the threshold (exact when none is, or when none saves
// power), and the walk moves on. Assignments already observed (a resumed
// job) are not proposed again: their outcome is used as it is. Finished
// after the last decision.
//
// Decision order: with a sensitivity table, by the mean measured drop over
// candidates ascending (decisions without a measurement last), ties by the
// larger MAC share, then decision index; without one, by MAC share
// descending, then decision index.
//
// Thread-safety: not thread-safe (see Strategy).
#ifndef TRANSAXX_LIBS_SEARCH_GREEDY_H_
#define TRANSAXX_LIBS_SEARCH_GREEDY_H_

#include <map>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/sensitivity.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

class GreedySearch : public Strategy {
 public:
  // REQUIRES: ValidateSpace(space) is OK; `sensitivity` is empty or has one
  // row per decision, each with one entry per candidate.
  GreedySearch(const SearchSpace& space, const Sensitivity& sensitivity,
               double max_accuracy_drop_pp);

  std::vector<Assignment> Propose(int max_count) override;
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override { return step_ >= order_.size(); }

  // The decisions in the order the walk visits them.
  const std::vector<int>& order() const { return order_; }
  // The assignment fixed so far (the result once Finished).
  const Assignment& current() const { return current_; }

 private:
  enum class TrialState { kPending, kInFlight, kDone };

  // The current decision's trial of candidate c: current_ with it on c.
  Assignment Trial(int c) const;
  // The candidate c when `assignment` is Trial(c) of the current step, else -1.
  int TrialCandidate(const Assignment& assignment) const;
  // Starts the current step's trials, taking outcomes already observed.
  void StartStep();
  // Fixes every decision whose trials are all done and moves on.
  void Advance();

  SearchSpace space_;
  double max_drop_pp_;
  std::vector<int> order_;
  size_t step_ = 0;
  Assignment current_;
  // Per candidate of the current decision (index 0 unused).
  std::vector<TrialState> trial_state_;
  std::vector<double> trial_drop_;  // NaN: abandoned
  // Every outcome seen, for replay and to never propose a seen assignment.
  std::map<Assignment, Outcome> observed_;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_GREEDY_H_
