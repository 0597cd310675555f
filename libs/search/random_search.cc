#include "libs/search/random_search.h"

#include <algorithm>
#include <utility>

#include "libs/search/enumeration.h"

namespace transaxx::search {

RandomSearch::RandomSearch(const SearchSpace& space, uint64_t seed) : space_(space), rng_(seed) {}

Assignment RandomSearch::Draw() {
  // Rejection sampling costs size / unseen draws on average: cheap while at
  // least half is unseen, unbounded near the end, hence the switch.
  if (!enumerated_ && space_.size() <= kEnumerableSpaceSize &&
      2.0 * static_cast<double>(seen_.size()) >= space_.size()) {
    unseen_ = Unseen(space_, seen_);
    enumerated_ = true;
  }
  Assignment a;
  if (enumerated_) {
    const int64_t i = UniformIndex(rng_, static_cast<int64_t>(unseen_.size()));
    std::swap(unseen_[i], unseen_.back());
    a = std::move(unseen_.back());
    unseen_.pop_back();
  } else {
    do {
      a = RandomAssignment(space_, rng_);
    } while (seen_.contains(a));
  }
  seen_.insert(a);
  return a;
}

std::vector<Assignment> RandomSearch::Propose(int max_count) {
  std::vector<Assignment> out;
  while (static_cast<int>(out.size()) < max_count && !Finished()) out.push_back(Draw());
  return out;
}

void RandomSearch::Observe(const Assignment& assignment, const Outcome& /*outcome*/) {
  if (!ValidateAssignment(space_, assignment).ok()) return;
  if (!seen_.insert(assignment).second) return;
  if (enumerated_) {
    auto it = std::find(unseen_.begin(), unseen_.end(), assignment);
    if (it != unseen_.end()) {
      std::swap(*it, unseen_.back());
      unseen_.pop_back();
    }
  }
}

void RandomSearch::Abandon(const Assignment& /*assignment*/) {}

bool RandomSearch::Finished() const { return Exhausted(space_, seen_); }

}  // namespace transaxx::search
