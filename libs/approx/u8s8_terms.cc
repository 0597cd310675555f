#include "libs/approx/u8s8_terms.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

namespace transaxx::approx {
namespace {

constexpr int64_t kPairMin = INT16_MIN, kPairMax = INT16_MAX;

// A term in u8·s8 form with its weight and the range of its products.
struct Shaped {
  U8S8Term term;
  uint32_t weight;
  int64_t low, high;  // every u·s lies in [low, high]
};

// The largest p <= 7 such that 2^p divides every value of `map`.
int CommonShift(const std::array<int8_t, 256>& map) {
  int shift = 0;
  while (shift < 7 &&
         std::all_of(map.begin(), map.end(), [&](int8_t v) { return v % (2 << shift) == 0; })) {
    ++shift;
  }
  return shift;
}

Shaped Shape(const Int8Term& t, bool take_out_powers_of_two) {
  const int p = take_out_powers_of_two ? CommonShift(t.a_map) : 0;
  const int q = take_out_powers_of_two ? CommonShift(t.b_map) : 0;
  Shaped out;
  // Exact divisions: 2^p divides every value (>> rounds toward -infinity).
  const auto [a_low, a_high] = std::minmax_element(t.a_map.begin(), t.a_map.end());
  const int a_min = *a_low >> p, a_max = *a_high >> p;
  out.term.offset = -a_min;
  int s_min = 0, s_max = 0;
  for (int byte = 0; byte < 256; ++byte) {
    out.term.u_map[byte] = static_cast<uint8_t>((t.a_map[byte] >> p) + out.term.offset);
    out.term.s_map[byte] = static_cast<int8_t>(t.b_map[byte] >> q);
    s_min = std::min<int>(s_min, out.term.s_map[byte]);
    s_max = std::max<int>(s_max, out.term.s_map[byte]);
  }
  const int64_t u_max = a_max - a_min;
  out.low = u_max * s_min;
  out.high = u_max * s_max;
  out.weight = t.weight << (p + q);
  return out;
}

bool PairFits(const Shaped& x, const Shaped& y) {
  return x.low + y.low >= kPairMin && x.high + y.high <= kPairMax;
}

bool AllZero(const std::array<int8_t, 256>& map) {
  return std::all_of(map.begin(), map.end(), [](int8_t v) { return v == 0; });
}

}  // namespace

std::vector<U8S8Group> U8S8Groups(const std::vector<Int8Term>& terms, bool saturating_pairs) {
  // Without saturation every term runs alone, whatever its products.
  const auto alone = [&](const Shaped& s) { return !saturating_pairs || PairFits(s, s); };
  std::map<uint32_t, std::vector<Shaped>> by_weight;
  for (const Int8Term& t : terms) {
    if (t.weight == 0 || AllZero(t.a_map) || AllZero(t.b_map)) continue;
    Shaped shaped = Shape(t, false);
    if (!alone(shaped)) {
      const Shaped divided = Shape(t, true);
      if (PairFits(divided, divided)) shaped = divided;
    }
    by_weight[shaped.weight].push_back(shaped);
  }
  std::vector<U8S8Group> groups;
  for (const auto& [weight, shaped] : by_weight) {
    U8S8Group group;
    group.weight = weight;
    group.saturating_pairs = saturating_pairs;
    for (const Shaped& s : shaped) group.terms.push_back(s.term);
    std::vector<bool> placed(shaped.size(), false);
    for (size_t big = 0; big < shaped.size(); ++big) {
      if (alone(shaped[big])) continue;
      placed[big] = true;
      int partner = -1;
      for (size_t small = 0; small < shaped.size() && partner < 0; ++small) {
        if (!placed[small] && PairFits(shaped[small], shaped[small]) &&
            PairFits(shaped[big], shaped[small])) {
          partner = static_cast<int>(small);
          placed[small] = true;
        }
      }
      if (partner < 0) {
        // Zeros: u = 0 with offset 0 and s = 0 add nothing.
        partner = static_cast<int>(group.terms.size());
        group.terms.push_back(U8S8Term{});
      }
      group.runs.push_back({static_cast<int>(big), partner});
    }
    for (size_t t = 0; t < shaped.size(); ++t) {
      if (!placed[t]) group.runs.push_back({static_cast<int>(t), -1});
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

int64_t U8S8RunDepth(const U8S8Run& run, int64_t K) {
  return run.second < 0 ? K + K % 2 : 2 * K;
}

int64_t U8S8Slots(const std::vector<U8S8Group>& groups) {
  int64_t slots = 0;
  for (const U8S8Group& g : groups) {
    for (const U8S8Run& run : g.runs) slots += run.second < 0 ? 1 : 2;
  }
  return slots;
}

}  // namespace transaxx::approx
