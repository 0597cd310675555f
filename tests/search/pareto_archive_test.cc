// Tests of the Pareto archive and NonDominated: domination, ties, the
// removed lists and the order, and agreement with the definition on random
// points.
#include "libs/search/pareto_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"

namespace transaxx::search {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Ids(const std::vector<ParetoPoint>& points) {
  std::vector<std::string> ids;
  for (const ParetoPoint& p : points) ids.push_back(p.id);
  return ids;
}

TEST(ParetoArchiveTest, Dominates) {
  EXPECT_TRUE(Dominates({"a", 0.8, 0.5}, {"b", 0.7, 0.6}));
  EXPECT_TRUE(Dominates({"a", 0.8, 0.5}, {"b", 0.8, 0.6}));
  EXPECT_TRUE(Dominates({"a", 0.8, 0.5}, {"b", 0.7, 0.5}));
  EXPECT_FALSE(Dominates({"a", 0.8, 0.5}, {"b", 0.8, 0.5}));
  EXPECT_FALSE(Dominates({"a", 0.8, 0.5}, {"b", 0.9, 0.6}));
}

TEST(ParetoArchiveTest, KeepsTradeOffsSortedByPower) {
  ParetoArchive archive;
  EXPECT_TRUE(archive.Insert({"mid", 0.8, 0.6}).on_front);
  EXPECT_TRUE(archive.Insert({"cheap", 0.7, 0.4}).on_front);
  EXPECT_TRUE(archive.Insert({"exact", 0.9, 1.0}).on_front);
  EXPECT_THAT(Ids(archive.front()), ElementsAre("cheap", "mid", "exact"));
  EXPECT_TRUE(archive.Contains("mid"));
  EXPECT_FALSE(archive.Contains("other"));
}

TEST(ParetoArchiveTest, DominatedPointsDoNotJoin) {
  ParetoArchive archive;
  archive.Insert({"a", 0.8, 0.5});
  ParetoArchive::InsertResult r = archive.Insert({"worse", 0.7, 0.6});
  EXPECT_FALSE(r.on_front);
  EXPECT_THAT(r.removed, IsEmpty());
  EXPECT_FALSE(archive.Insert({"same_acc_more_power", 0.8, 0.51}).on_front);
  EXPECT_FALSE(archive.Insert({"same_power_less_acc", 0.79, 0.5}).on_front);
  EXPECT_FALSE(archive.Contains("worse"));
  EXPECT_THAT(Ids(archive.front()), ElementsAre("a"));
}

TEST(ParetoArchiveTest, EqualPointFirstOneWins) {
  ParetoArchive archive;
  archive.Insert({"first", 0.8, 0.5});
  const ParetoArchive::InsertResult r = archive.Insert({"second", 0.8, 0.5});
  EXPECT_FALSE(r.on_front);
  EXPECT_THAT(r.removed, IsEmpty());
  EXPECT_THAT(Ids(archive.front()), ElementsAre("first"));
}

TEST(ParetoArchiveTest, RemovesEveryDominatedMemberInFrontOrder) {
  ParetoArchive archive;
  archive.Insert({"p1", 0.60, 0.30});
  archive.Insert({"p2", 0.70, 0.50});
  archive.Insert({"p3", 0.75, 0.60});
  archive.Insert({"p4", 0.90, 0.90});
  // Beats p2 and p3 (more accurate, cheaper), not p1 (cheaper) nor p4.
  ParetoArchive::InsertResult r = archive.Insert({"new", 0.80, 0.50});
  EXPECT_TRUE(r.on_front);
  EXPECT_THAT(r.removed, ElementsAre("p2", "p3"));
  EXPECT_THAT(Ids(archive.front()), ElementsAre("p1", "new", "p4"));
  EXPECT_FALSE(archive.Contains("p2"));
  EXPECT_FALSE(archive.Contains("p3"));
  // Equal power, more accurate: replaces.
  r = archive.Insert({"newer", 0.85, 0.50});
  EXPECT_THAT(r.removed, ElementsAre("new"));
  // Equal accuracy, cheaper: replaces.
  r = archive.Insert({"cheaper", 0.60, 0.20});
  EXPECT_THAT(r.removed, ElementsAre("p1"));
  EXPECT_THAT(Ids(archive.front()), ElementsAre("cheaper", "newer", "p4"));
  // Beats everything.
  r = archive.Insert({"best", 0.95, 0.1});
  EXPECT_THAT(r.removed, ElementsAre("cheaper", "newer", "p4"));
  EXPECT_THAT(Ids(archive.front()), ElementsAre("best"));
}

TEST(ParetoArchiveTest, NaNNeverJoins) {
  ParetoArchive archive;
  EXPECT_FALSE(archive.Insert({"nan", NAN, 0.5}).on_front);
  EXPECT_FALSE(archive.Insert({"nan2", 0.5, NAN}).on_front);
  EXPECT_THAT(archive.front(), IsEmpty());
  EXPECT_THAT(Ids(NonDominated({{"nan", NAN, 0.5}, {"ok", 0.5, 0.5}})), ElementsAre("ok"));
}

// The definition, O(n²): a point stays unless some point dominates it or an
// equal one came first.
std::vector<std::string> BruteForceFront(const std::vector<ParetoPoint>& points) {
  std::vector<ParetoPoint> kept;
  for (size_t i = 0; i < points.size(); ++i) {
    bool out = false;
    for (size_t j = 0; j < points.size() && !out; ++j) {
      const bool equal = points[j].accuracy == points[i].accuracy &&
                         points[j].relative_power == points[i].relative_power;
      out = Dominates(points[j], points[i]) || (equal && j < i);
    }
    if (!out) kept.push_back(points[i]);
  }
  std::sort(kept.begin(), kept.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.relative_power < b.relative_power;
  });
  return Ids(kept);
}

TEST(ParetoArchiveTest, MatchesTheDefinitionOnRandomPoints) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    // A coarse grid so that ties in one or both coordinates are common.
    std::uniform_int_distribution<int> coordinate(0, 9);
    std::vector<ParetoPoint> points;
    for (int i = 0; i < 60; ++i) {
      points.push_back({absl::StrCat("p", i), coordinate(rng) / 10.0, coordinate(rng) / 10.0});
    }
    ParetoArchive archive;
    size_t removed = 0;
    size_t joined = 0;
    for (const ParetoPoint& p : points) {
      const ParetoArchive::InsertResult r = archive.Insert(p);
      joined += r.on_front ? 1 : 0;
      removed += r.removed.size();
      for (const std::string& id : r.removed) EXPECT_FALSE(archive.Contains(id));
    }
    const std::vector<std::string> expected = BruteForceFront(points);
    EXPECT_EQ(Ids(archive.front()), expected) << "seed " << seed;
    EXPECT_EQ(Ids(NonDominated(points)), expected) << "seed " << seed;
    EXPECT_EQ(joined - removed, expected.size());
    for (size_t i = 1; i < archive.front().size(); ++i) {
      EXPECT_LT(archive.front()[i - 1].relative_power, archive.front()[i].relative_power);
      EXPECT_LT(archive.front()[i - 1].accuracy, archive.front()[i].accuracy);
    }
  }
}

}  // namespace
}  // namespace transaxx::search
