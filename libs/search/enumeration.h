// Walking a search space: the lexicographic successor of an assignment (a
// mixed-radix counter, last decision fastest), uniform random assignments,
// and the set of assignments a strategy has already seen. Shared by the
// strategies so that they agree on order and on what "seen" means.
//
// Thread-safety: free functions are pure (the generator is the caller's);
// AssignmentSet is a plain value, not thread-safe.
#ifndef TRANSAXX_LIBS_SEARCH_ENUMERATION_H_
#define TRANSAXX_LIBS_SEARCH_ENUMERATION_H_

#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "libs/search/search_space.h"

namespace transaxx::search {

// Spaces up to this size may be enumerated in full (to find the last unseen
// assignments); beyond it, strategies only sample.
inline constexpr double kEnumerableSpaceSize = 1 << 20;

// Advances `a` to its lexicographic successor; false (and `a` back at
// all-exact) after the last assignment.
// REQUIRES: ValidateAssignment(space, *a) is OK.
bool NextAssignment(const SearchSpace& space, Assignment* a);

// A uniformly random assignment of the space.
Assignment RandomAssignment(const SearchSpace& space, std::mt19937_64& rng);

// A uniform index in [0, n). REQUIRES: n > 0. std::uniform_int_distribution
// is implementation-defined; this keeps proposals identical across standard
// libraries for a seed.
int64_t UniformIndex(std::mt19937_64& rng, int64_t n);

// A uniform draw in [0, 1), portable for the same reason.
double UniformUnit(std::mt19937_64& rng);

// Every assignment of an enumerable space (size <= kEnumerableSpaceSize)
// that `seen` does not hold, in lexicographic order.
std::vector<Assignment> Unseen(const SearchSpace& space, const std::set<Assignment>& seen);

// True when `seen` holds every assignment of the space (never for spaces
// too large to count exactly). REQUIRES: `seen` holds only valid ones.
bool Exhausted(const SearchSpace& space, const std::set<Assignment>& seen);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_ENUMERATION_H_
