// The accuracy/power Pareto front of a search: the evaluated configurations
// that no other one beats on both accuracy (top-1 fraction, higher is
// better) and relative power (lower is better).
//
// p dominates q iff p.accuracy >= q.accuracy and p.relative_power <=
// q.relative_power, one of them strictly. A point equal on both to a front
// point does not join (the first one wins), so every front member has its
// own accuracy and power; a point with a NaN coordinate never joins.
//
// Thread-safety: ParetoArchive is a plain value, not thread-safe;
// NonDominated is a pure function.
#ifndef TRANSAXX_LIBS_SEARCH_PARETO_ARCHIVE_H_
#define TRANSAXX_LIBS_SEARCH_PARETO_ARCHIVE_H_

#include <set>
#include <string>
#include <vector>

namespace transaxx::search {

struct ParetoPoint {
  std::string id;  // the caller's name for it (a configuration hash)
  double accuracy = 0;
  double relative_power = 1;
};

// True when p dominates q (see above).
bool Dominates(const ParetoPoint& p, const ParetoPoint& q);

class ParetoArchive {
 public:
  struct InsertResult {
    bool on_front = false;
    // Ids of the front points the new one dominates, in front order; they
    // left the front.
    std::vector<std::string> removed;
  };

  // Inserting is O(n) in the front size at worst (the removals), O(log n)
  // otherwise. Ids are not checked for uniqueness; Contains answers for any
  // member with the id.
  InsertResult Insert(const ParetoPoint& point);

  // By relative_power ascending, hence accuracy ascending too.
  const std::vector<ParetoPoint>& front() const { return front_; }
  bool Contains(const std::string& id) const { return ids_.contains(id); }

 private:
  std::vector<ParetoPoint> front_;
  std::multiset<std::string> ids_;
};

// The non-dominated subset of `points`, as ParetoArchive would keep it
// after inserting them in order (of equal points the first one stays),
// sorted by relative_power ascending. O(n log n).
std::vector<ParetoPoint> NonDominated(std::vector<ParetoPoint> points);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_PARETO_ARCHIVE_H_
