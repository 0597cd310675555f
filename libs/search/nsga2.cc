#include "libs/search/nsga2.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "libs/search/enumeration.h"

namespace transaxx::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Re-mutations of a duplicate offspring before it is replaced by a random
// unseen assignment, and random draws before an enumerable space is listed.
constexpr int kMaxAttempts = 32;

double Objective(double value) { return std::isnan(value) ? kInf : value; }

}  // namespace

Nsga2::Nsga2(const SearchSpace& space, const Nsga2Options& options, uint64_t seed)
    : space_(space),
      population_size_(options.population_size),
      crossover_probability_(options.crossover_probability),
      mutation_probability_(options.mutation_probability < 0 ? 1.0 / space.decisions()
                                                             : options.mutation_probability),
      rng_(seed) {}

Nsga2::Individual Nsga2::ToIndividual(const Assignment& a, const Outcome& outcome) {
  return {a, Objective(outcome.accuracy_drop_pp), Objective(outcome.relative_power), 0, 0};
}

bool Nsga2::DrawUnseen(std::optional<std::vector<Assignment>>* unseen, Assignment* out) {
  if (!unseen->has_value()) {
    for (int i = 0; i < kMaxAttempts; ++i) {
      *out = RandomAssignment(space_, rng_);
      if (!seen_.contains(*out)) return true;
    }
    if (space_.size() > kEnumerableSpaceSize) return false;
    *unseen = Unseen(space_, seen_);
  }
  std::vector<Assignment>& list = **unseen;
  // The list goes stale as the caller marks draws seen; skip those.
  while (!list.empty()) {
    const int64_t i = UniformIndex(rng_, static_cast<int64_t>(list.size()));
    std::swap(list[i], list.back());
    *out = std::move(list.back());
    list.pop_back();
    if (!seen_.contains(*out)) return true;
  }
  return false;
}

void Nsga2::SetGeneration(std::vector<Assignment> assignments) {
  members_.clear();
  member_index_.clear();
  for (Assignment& a : assignments) {
    seen_.insert(a);
    member_index_.emplace(a, members_.size());
    members_.push_back({std::move(a), MemberState::kPending, std::nullopt});
  }
  pending_ = members_.size();
  done_ = 0;
}

void Nsga2::Start() {
  started_ = true;
  // Replayed evaluations already fill part of the population.
  const int64_t wanted =
      std::max<int64_t>(0, population_size_ - static_cast<int64_t>(replayed_.size()));
  std::vector<Assignment> first;
  if (wanted > 0 && seen_.insert(space_.Exact()).second) first.push_back(space_.Exact());
  std::optional<std::vector<Assignment>> unseen;
  Assignment a;
  while (static_cast<int64_t>(first.size()) < wanted && DrawUnseen(&unseen, &a)) {
    seen_.insert(a);
    first.push_back(std::move(a));
  }
  SetGeneration(std::move(first));
  MaybeAdvance();
}

void Nsga2::Select(std::vector<Individual> pool) {
  const size_t n = pool.size();
  // Fast non-dominated sort: dominated_by[i] lists who i dominates,
  // count[i] how many dominate i.
  auto dominates = [&](const Individual& p, const Individual& q) {
    return p.drop <= q.drop && p.power <= q.power && (p.drop < q.drop || p.power < q.power);
  };
  std::vector<std::vector<size_t>> dominated_by(n);
  std::vector<int> count(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      if (dominates(pool[i], pool[j])) {
        dominated_by[i].push_back(j);
        ++count[j];
      } else if (dominates(pool[j], pool[i])) {
        dominated_by[j].push_back(i);
        ++count[i];
      }
    }
  }
  std::vector<std::vector<size_t>> fronts;
  std::vector<size_t> front;
  for (size_t i = 0; i < n; ++i) {
    if (count[i] == 0) front.push_back(i);
  }
  while (!front.empty()) {
    std::vector<size_t> next;
    for (size_t i : front) {
      pool[i].rank = static_cast<int>(fronts.size());
      for (size_t j : dominated_by[i]) {
        if (--count[j] == 0) next.push_back(j);
      }
    }
    std::sort(next.begin(), next.end());  // pool order, for determinism
    fronts.push_back(std::move(front));
    front = std::move(next);
  }

  // Crowding distance within each front: boundary points are kept at any
  // price, interior ones by the normalized gap between their neighbours.
  for (const std::vector<size_t>& f : fronts) {
    for (size_t i : f) pool[i].crowding = 0;
    for (double Individual::*objective : {&Individual::drop, &Individual::power}) {
      std::vector<size_t> sorted = f;
      std::stable_sort(sorted.begin(), sorted.end(),
                       [&](size_t a, size_t b) { return pool[a].*objective < pool[b].*objective; });
      pool[sorted.front()].crowding = kInf;
      pool[sorted.back()].crowding = kInf;
      const double range = pool[sorted.back()].*objective - pool[sorted.front()].*objective;
      if (!(range > 0) || !std::isfinite(range)) continue;
      for (size_t k = 1; k + 1 < sorted.size(); ++k) {
        pool[sorted[k]].crowding +=
            (pool[sorted[k + 1]].*objective - pool[sorted[k - 1]].*objective) / range;
      }
    }
  }

  parents_.clear();
  for (std::vector<size_t>& f : fronts) {
    const size_t room = static_cast<size_t>(population_size_) - parents_.size();
    if (room == 0) break;
    if (f.size() > room) {
      std::stable_sort(f.begin(), f.end(),
                       [&](size_t a, size_t b) { return pool[a].crowding > pool[b].crowding; });
      f.resize(room);
    }
    for (size_t i : f) parents_.push_back(std::move(pool[i]));
  }
}

size_t Nsga2::Tournament() {
  const size_t a = UniformIndex(rng_, static_cast<int64_t>(parents_.size()));
  const size_t b = UniformIndex(rng_, static_cast<int64_t>(parents_.size()));
  const Individual& x = parents_[a];
  const Individual& y = parents_[b];
  if (x.rank != y.rank) return x.rank < y.rank ? a : b;
  return y.crowding > x.crowding ? b : a;
}

void Nsga2::Mutate(Assignment* a, bool force) {
  const int candidates = space_.candidates();
  if (candidates < 2) return;
  // A different candidate, uniformly among the others.
  auto change = [&](int& choice) {
    const int other = static_cast<int>(UniformIndex(rng_, candidates - 1));
    choice = other >= choice ? other + 1 : other;
  };
  bool changed = false;
  for (int& choice : *a) {
    if (UniformUnit(rng_) < mutation_probability_) {
      change(choice);
      changed = true;
    }
  }
  if (force && !changed) change((*a)[UniformIndex(rng_, space_.decisions())]);
}

std::vector<Assignment> Nsga2::Breed() {
  std::vector<Assignment> children;
  std::optional<std::vector<Assignment>> unseen;
  for (int i = 0; i < population_size_; ++i) {
    Assignment child;
    bool found = false;
    if (!parents_.empty()) {
      child = parents_[Tournament()].assignment;
      const Assignment& mate = parents_[Tournament()].assignment;
      if (UniformUnit(rng_) < crossover_probability_) {
        for (int d = 0; d < space_.decisions(); ++d) {
          if (UniformUnit(rng_) < 0.5) child[d] = mate[d];
        }
      }
      Mutate(&child, /*force=*/false);
      for (int attempt = 0; attempt < kMaxAttempts && seen_.contains(child); ++attempt) {
        Mutate(&child, /*force=*/true);
      }
      found = !seen_.contains(child);
    }
    if (!found && !DrawUnseen(&unseen, &child)) break;
    seen_.insert(child);
    children.push_back(std::move(child));
  }
  return children;
}

void Nsga2::MaybeAdvance() {
  while (started_ && !finished_ && done_ == members_.size()) {
    std::vector<Individual> pool = std::move(parents_);
    for (const Member& m : members_) {
      if (m.outcome.has_value()) pool.push_back(ToIndividual(m.assignment, *m.outcome));
    }
    for (Individual& r : replayed_) pool.push_back(std::move(r));
    replayed_.clear();
    Select(std::move(pool));
    ++generation_;
    SetGeneration(Breed());
    // Breed comes back empty only when no unseen assignment could be found.
    finished_ = members_.empty();
  }
}

std::vector<Assignment> Nsga2::Propose(int max_count) {
  if (!started_) Start();
  std::vector<Assignment> out;
  for (Member& m : members_) {
    if (static_cast<int>(out.size()) >= max_count) break;
    if (m.state != MemberState::kPending) continue;
    m.state = MemberState::kInFlight;
    --pending_;
    out.push_back(m.assignment);
  }
  return out;
}

void Nsga2::Observe(const Assignment& assignment, const Outcome& outcome) {
  if (!ValidateAssignment(space_, assignment).ok()) return;
  auto it = member_index_.find(assignment);
  if (it != member_index_.end()) {
    Member& m = members_[it->second];
    if (m.state == MemberState::kDone) return;
    if (m.state == MemberState::kPending) --pending_;
    m.state = MemberState::kDone;
    m.outcome = outcome;
    ++done_;
    MaybeAdvance();
    return;
  }
  if (seen_.insert(assignment).second) replayed_.push_back(ToIndividual(assignment, outcome));
}

void Nsga2::Abandon(const Assignment& assignment) {
  auto it = member_index_.find(assignment);
  if (it == member_index_.end()) return;
  Member& m = members_[it->second];
  if (m.state != MemberState::kInFlight) return;
  m.state = MemberState::kDone;
  ++done_;
  MaybeAdvance();
}

bool Nsga2::Finished() const {
  // Members in flight cannot make room: seen stays seen.
  return finished_ || (pending_ == 0 && Exhausted(space_, seen_));
}

}  // namespace transaxx::search
