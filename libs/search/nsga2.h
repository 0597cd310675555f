// NSGA-II (Deb et al. 2002) over two objectives, both minimized: the
// accuracy drop (percentage points) and the relative power. Fast
// non-dominated sorting and crowding distance pick each parent population
// from parents ∪ offspring; binary tournaments on (rank, crowding) pick
// mates; uniform crossover and per-decision mutation make the offspring.
//
// Asynchronous: a generation is a list of assignments made up front, all
// unseen and distinct. Propose hands them out in order; the next generation
// is bred once every member of the current one was observed or abandoned
// (abandoned members just do not compete). The first generation is
// all-exact plus random assignments. An offspring that repeats a seen
// assignment is mutated again (a bounded number of times), then replaced by
// a random unseen assignment; when an enumerable space has none left, the
// strategy is Finished. Observed assignments it never proposed (a resumed
// job's replay) join the pool of the next selection, and the first
// generation shrinks by as many.
//
// Thread-safety: not thread-safe (see Strategy).
#ifndef TRANSAXX_LIBS_SEARCH_NSGA2_H_
#define TRANSAXX_LIBS_SEARCH_NSGA2_H_

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "libs/search/search_space.h"
#include "libs/search/strategies.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

class Nsga2 : public Strategy {
 public:
  // REQUIRES: ValidateSpace(space) is OK; options within the ranges
  // strategies.h documents.
  Nsga2(const SearchSpace& space, const Nsga2Options& options, uint64_t seed);

  std::vector<Assignment> Propose(int max_count) override;
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override;

  // Generations bred so far (0 while the first one is out).
  int generation() const { return generation_; }

 private:
  struct Individual {
    Assignment assignment;
    double drop = 0;  // objectives, NaN mapped to +inf
    double power = 0;
    int rank = 0;  // 0: the first non-dominated front
    double crowding = 0;
  };
  enum class MemberState { kPending, kInFlight, kDone };
  struct Member {
    Assignment assignment;
    MemberState state = MemberState::kPending;
    std::optional<Outcome> outcome;  // none when abandoned
  };

  static Individual ToIndividual(const Assignment& a, const Outcome& outcome);

  // Makes the first generation.
  void Start();
  // Breeds generations while the current one is complete.
  void MaybeAdvance();
  // Environmental selection: the best population_size of `pool`, ranked and
  // crowded, into parents_.
  void Select(std::vector<Individual> pool);
  // Replaces members_ with `assignments` (marked seen).
  void SetGeneration(std::vector<Assignment> assignments);
  std::vector<Assignment> Breed();
  // Index into parents_ of a binary tournament's winner.
  size_t Tournament();
  // Changes each decision with the mutation probability; with `force`, at
  // least one decision.
  void Mutate(Assignment* a, bool force);
  // A random unseen assignment into *out; false when none could be found.
  // `unseen` caches the enumeration of the unseen ones across calls.
  bool DrawUnseen(std::optional<std::vector<Assignment>>* unseen, Assignment* out);

  SearchSpace space_;
  int population_size_;
  double crossover_probability_;
  double mutation_probability_;
  std::mt19937_64 rng_;

  bool started_ = false;
  bool finished_ = false;
  int generation_ = 0;
  std::vector<Individual> parents_;
  std::vector<Member> members_;
  std::map<Assignment, size_t> member_index_;
  size_t pending_ = 0;  // members not yet proposed nor observed
  size_t done_ = 0;     // members observed or abandoned
  // Observed without being proposed: they join the next selection.
  std::vector<Individual> replayed_;
  std::set<Assignment> seen_;
};

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_NSGA2_H_
