#include "libs/search/exhaustive.h"

#include "libs/search/enumeration.h"

namespace transaxx::search {

ExhaustiveSearch::ExhaustiveSearch(const SearchSpace& space)
    : space_(space), next_(space.Exact()) {}

void ExhaustiveSearch::SkipObserved() {
  while (!done_ && !observed_ahead_.empty() && *observed_ahead_.begin() == next_) {
    observed_ahead_.erase(observed_ahead_.begin());
    done_ = !NextAssignment(space_, &next_);
  }
}

std::vector<Assignment> ExhaustiveSearch::Propose(int max_count) {
  std::vector<Assignment> out;
  while (static_cast<int>(out.size()) < max_count && !done_) {
    out.push_back(next_);
    done_ = !NextAssignment(space_, &next_);
    SkipObserved();
  }
  return out;
}

void ExhaustiveSearch::Observe(const Assignment& assignment, const Outcome& /*outcome*/) {
  // Lexicographic order of std::vector is the counter's order, so anything
  // before next_ was already proposed or skipped.
  if (done_ || !ValidateAssignment(space_, assignment).ok() || assignment < next_) return;
  observed_ahead_.insert(assignment);
  SkipObserved();
}

void ExhaustiveSearch::Abandon(const Assignment& /*assignment*/) {}

}  // namespace transaxx::search
