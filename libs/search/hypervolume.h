// The hypervolume indicator of an accuracy/power front: the area of the
// accuracy × power region that its points dominate, bounded by a reference
// point (the worst accuracy and power that count). One number that grows
// whenever a front improves, to compare strategies and seeds.
//
// Thread-safety: a pure function.
#ifndef TRANSAXX_LIBS_SEARCH_HYPERVOLUME_H_
#define TRANSAXX_LIBS_SEARCH_HYPERVOLUME_H_

#include <vector>

#include "libs/search/pareto_archive.h"

namespace transaxx::search {

// The area of { (acc, pow) : reference_accuracy <= acc <= p.accuracy and
// p.relative_power <= pow <= reference_power for some p in points }.
// Points need not be non-dominated; a point outside the reference box adds
// only its part inside (nothing when it is not better than the reference on
// both); points with a NaN coordinate add nothing. O(n log n).
double Hypervolume(const std::vector<ParetoPoint>& points, double reference_accuracy,
                   double reference_power);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_HYPERVOLUME_H_
