#include "libs/search/pareto_archive.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace transaxx::search {
namespace {

bool HasNaN(const ParetoPoint& p) { return std::isnan(p.accuracy) || std::isnan(p.relative_power); }

}  // namespace

bool Dominates(const ParetoPoint& p, const ParetoPoint& q) {
  return p.accuracy >= q.accuracy && p.relative_power <= q.relative_power &&
         (p.accuracy > q.accuracy || p.relative_power < q.relative_power);
}

ParetoArchive::InsertResult ParetoArchive::Insert(const ParetoPoint& point) {
  InsertResult result;
  if (HasNaN(point)) return result;
  // The front is sorted by power with accuracy strictly rising, so the best
  // accuracy at power <= point's is the last such member: if it is at least
  // as accurate, it dominates or equals the point.
  auto after =
      std::upper_bound(front_.begin(), front_.end(), point.relative_power,
                       [](double power, const ParetoPoint& q) { return power < q.relative_power; });
  if (after != front_.begin() && std::prev(after)->accuracy >= point.accuracy) return result;

  // What the point dominates: members at power >= point's and accuracy <=
  // point's, a contiguous run from the first member at power >= point's.
  auto first =
      std::lower_bound(front_.begin(), front_.end(), point.relative_power,
                       [](const ParetoPoint& q, double power) { return q.relative_power < power; });
  auto last = first;
  while (last != front_.end() && last->accuracy <= point.accuracy) {
    result.removed.push_back(last->id);
    ids_.erase(ids_.find(last->id));
    ++last;
  }
  front_.insert(front_.erase(first, last), point);
  ids_.insert(point.id);
  result.on_front = true;
  return result;
}

std::vector<ParetoPoint> NonDominated(std::vector<ParetoPoint> points) {
  std::erase_if(points, HasNaN);
  // Power ascending, the most accurate first at equal power; stable, so of
  // equal points the first one given leads and is the one kept.
  std::stable_sort(points.begin(), points.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    if (a.relative_power != b.relative_power) return a.relative_power < b.relative_power;
    return a.accuracy > b.accuracy;
  });
  std::vector<ParetoPoint> front;
  for (ParetoPoint& p : points) {
    // Every earlier point has power <= p's: p survives only by being more
    // accurate than all of them.
    if (front.empty() || p.accuracy > front.back().accuracy) front.push_back(std::move(p));
  }
  return front;
}

}  // namespace transaxx::search
