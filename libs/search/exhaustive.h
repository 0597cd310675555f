// Exhaustive search: every assignment of the space once, in lexicographic
// order (a mixed-radix counter, the last decision fastest), skipping the
// ones already observed. Only sensible for small spaces or as a reference
// to measure the other strategies against.
//
// Thread-safety: not thread-safe (see Strategy).
#ifndef TRANSAXX_LIBS_SEARCH_EXHAUSTIVE_H_
#define TRANSAXX_LIBS_SEARCH_EXHAUSTIVE_H_

#include <set>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

class ExhaustiveSearch : public Strategy {
 public:
  // REQUIRES: ValidateSpace(space) is OK.
  explicit ExhaustiveSearch(const SearchSpace& space);

  std::vector<Assignment> Propose(int max_count) override;
  // Invalid assignments are ignored.
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  // Nothing to undo: the counter never goes back.
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override { return done_; }

 private:
  // Moves the counter past observed assignments; sets done_ at the end.
  void SkipObserved();

  SearchSpace space_;
  Assignment next_;  // the next to propose, unless done_
  bool done_ = false;
  // Observed assignments at or after next_ (earlier ones no longer matter).
  std::set<Assignment> observed_ahead_;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_EXHAUSTIVE_H_
