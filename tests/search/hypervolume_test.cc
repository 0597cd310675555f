// Tests of the hypervolume indicator: hand-computed cases and a brute-force
// grid count on random points.
#include "libs/search/hypervolume.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace transaxx::search {
namespace {

TEST(HypervolumeTest, HandComputed) {
  EXPECT_EQ(Hypervolume({}, 0.5, 1.0), 0);
  EXPECT_NEAR(Hypervolume({{"a", 0.8, 0.5}}, 0.5, 1.0), 0.3 * 0.5, 1e-12);
  // Two rectangles, 0.15 + 0.12 − their 0.09 overlap.
  EXPECT_NEAR(Hypervolume({{"a", 0.8, 0.5}, {"b", 0.9, 0.7}}, 0.5, 1.0), 0.18, 1e-12);
  // Order does not matter; a dominated point adds nothing.
  EXPECT_NEAR(Hypervolume({{"b", 0.9, 0.7}, {"c", 0.6, 0.9}, {"a", 0.8, 0.5}}, 0.5, 1.0), 0.18,
              1e-12);
  // Duplicates add nothing.
  EXPECT_NEAR(Hypervolume({{"a", 0.8, 0.5}, {"a2", 0.8, 0.5}}, 0.5, 1.0), 0.15, 1e-12);
}

TEST(HypervolumeTest, PointsOutsideTheBoxAddNothing) {
  const double base = Hypervolume({{"a", 0.8, 0.5}}, 0.5, 1.0);
  // Less accurate than the reference, or more power hungry, or on its edge.
  EXPECT_EQ(Hypervolume({{"a", 0.8, 0.5}, {"x", 0.4, 0.1}}, 0.5, 1.0), base);
  EXPECT_EQ(Hypervolume({{"a", 0.8, 0.5}, {"y", 0.99, 1.2}}, 0.5, 1.0), base);
  EXPECT_EQ(Hypervolume({{"a", 0.8, 0.5}, {"z", 0.99, 1.0}}, 0.5, 1.0), base);
  EXPECT_EQ(Hypervolume({{"a", 0.8, 0.5}, {"w", 0.5, 0.1}}, 0.5, 1.0), base);
  EXPECT_EQ(Hypervolume({{"a", 0.8, 0.5}, {"n", NAN, 0.1}, {"m", 0.9, NAN}}, 0.5, 1.0), base);
}

// Area by counting the cells of a grid whose centres some point dominates;
// exact when every coordinate lies on the grid.
double GridHypervolume(const std::vector<ParetoPoint>& points, double ref_acc, double ref_pow,
                       int cells) {
  int covered = 0;
  for (int i = 0; i < cells; ++i) {
    for (int j = 0; j < cells; ++j) {
      const double acc = (i + 0.5) / cells;
      const double pow = (j + 0.5) / cells;
      if (acc < ref_acc || pow > ref_pow) continue;
      for (const ParetoPoint& p : points) {
        if (acc <= p.accuracy && pow >= p.relative_power) {
          ++covered;
          break;
        }
      }
    }
  }
  return static_cast<double>(covered) / (cells * cells);
}

TEST(HypervolumeTest, MatchesGridCountOnRandomPoints) {
  constexpr int kCells = 40;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> coordinate(0, kCells);
    std::uniform_int_distribution<int> count(1, 25);
    std::vector<ParetoPoint> points(count(rng));
    for (ParetoPoint& p : points) {
      p.accuracy = static_cast<double>(coordinate(rng)) / kCells;
      p.relative_power = static_cast<double>(coordinate(rng)) / kCells;
    }
    const double ref_acc = static_cast<double>(coordinate(rng) / 2) / kCells;
    const double ref_pow = static_cast<double>(kCells - coordinate(rng) / 4) / kCells;
    EXPECT_NEAR(Hypervolume(points, ref_acc, ref_pow),
                GridHypervolume(points, ref_acc, ref_pow, kCells), 1e-9)
        << "seed " << seed;
  }
}

TEST(HypervolumeTest, GrowsWhenTheFrontImproves) {
  const std::vector<ParetoPoint> front = {{"a", 0.7, 0.4}, {"b", 0.8, 0.6}};
  std::vector<ParetoPoint> better = front;
  better.push_back({"c", 0.78, 0.45});
  EXPECT_GT(Hypervolume(better, 0.5, 1.0), Hypervolume(front, 0.5, 1.0));
  better.push_back({"d", 0.6, 0.7});  // dominated
  EXPECT_DOUBLE_EQ(Hypervolume(better, 0.5, 1.0), Hypervolume(NonDominated(better), 0.5, 1.0));
}

}  // namespace
}  // namespace transaxx::search
