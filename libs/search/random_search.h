// Random search: uniformly random assignments, each at most once. The
// baseline every other strategy has to beat.
//
// Sampling rejects assignments already seen (proposed or observed); once
// half of an enumerable space is seen, it draws from the list of the unseen
// ones instead, so it exhausts a small space in bounded time and is then
// Finished. A space too large to enumerate is never Finished.
//
// Thread-safety: not thread-safe (see Strategy).
#ifndef TRANSAXX_LIBS_SEARCH_RANDOM_SEARCH_H_
#define TRANSAXX_LIBS_SEARCH_RANDOM_SEARCH_H_

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

class RandomSearch : public Strategy {
 public:
  // REQUIRES: ValidateSpace(space) is OK.
  RandomSearch(const SearchSpace& space, uint64_t seed);

  std::vector<Assignment> Propose(int max_count) override;
  // Any valid assignment joins the seen set; invalid ones are ignored.
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  // Nothing to undo: the assignment stays seen.
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override;

 private:
  // One unseen assignment, marked seen. REQUIRES: !Finished().
  Assignment Draw();

  SearchSpace space_;
  std::mt19937_64 rng_;
  std::set<Assignment> seen_;
  // The unseen assignments once enumerated (unordered: drawn by index and
  // removed by swapping with the last).
  bool enumerated_ = false;
  std::vector<Assignment> unseen_;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_RANDOM_SEARCH_H_
