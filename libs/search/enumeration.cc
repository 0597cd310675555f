#include "libs/search/enumeration.h"

namespace transaxx::search {

bool NextAssignment(const SearchSpace& space, Assignment* a) {
  for (int d = space.decisions() - 1; d >= 0; --d) {
    if (++(*a)[d] < space.candidates()) return true;
    (*a)[d] = 0;
  }
  return false;
}

int64_t UniformIndex(std::mt19937_64& rng, int64_t n) {
  // Rejection keeps it exactly uniform; the bound is the largest multiple of
  // n that fits in the generator's range.
  const uint64_t range = static_cast<uint64_t>(n);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return static_cast<int64_t>(x % range);
}

double UniformUnit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Assignment RandomAssignment(const SearchSpace& space, std::mt19937_64& rng) {
  Assignment a(space.decisions());
  for (int& choice : a) choice = static_cast<int>(UniformIndex(rng, space.candidates()));
  return a;
}

std::vector<Assignment> Unseen(const SearchSpace& space, const std::set<Assignment>& seen) {
  std::vector<Assignment> unseen;
  Assignment a = space.Exact();
  do {
    if (!seen.contains(a)) unseen.push_back(a);
  } while (NextAssignment(space, &a));
  return unseen;
}

bool Exhausted(const SearchSpace& space, const std::set<Assignment>& seen) {
  // Sizes past 2^53 are not exact doubles, and no set gets that large.
  return space.size() <= 0x1.0p53 && static_cast<double>(seen.size()) >= space.size();
}

}  // namespace transaxx::search
