#include "libs/search/hypervolume.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace transaxx::search {

double Hypervolume(const std::vector<ParetoPoint>& points, double reference_accuracy,
                   double reference_power) {
  // (power, accuracy) of the points that reach into the box.
  std::vector<std::pair<double, double>> inside;
  inside.reserve(points.size());
  for (const ParetoPoint& p : points) {
    // Written so that NaN coordinates fail the test.
    if (p.accuracy > reference_accuracy && p.relative_power < reference_power) {
      inside.emplace_back(p.relative_power, p.accuracy);
    }
  }
  std::sort(inside.begin(), inside.end());
  // Sweep power upwards: over [power_i, power_i+1) the covered accuracies
  // reach the best accuracy of every point at power <= power_i.
  double area = 0;
  double best_accuracy = reference_accuracy;
  for (size_t i = 0; i < inside.size(); ++i) {
    best_accuracy = std::max(best_accuracy, inside[i].second);
    const double next_power = i + 1 < inside.size() ? inside[i + 1].first : reference_power;
    area += (next_power - inside[i].first) * (best_accuracy - reference_accuracy);
  }
  return area;
}

}  // namespace transaxx::search
