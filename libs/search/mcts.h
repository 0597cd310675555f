// Monte Carlo tree search over the per-decision multiplier assignments
// (TransAxx, arXiv 2402.07545), with the hardware-driven policy as prior and
// WU-UCT for the many evaluations in flight at once (Liu et al., ICLR 2020).
//
// Tree. A node is a partial assignment: the candidates of the first k
// decisions in the tree's decision order, which is descending MAC share (ties
// in decision order, as the sensitivity analysis), so the decisions that
// weigh most on power are settled nearest the root. An action picks the next
// decision's candidate; a path of depth `decisions` is an Assignment. The
// tree holds exactly the prefixes of the assignments taken so far (proposed
// or observed): every proposal inserts its whole path, and nothing else is
// ever created, so memory grows with the evaluations (≈ decisions nodes
// each), never with the space. A node is fully explored when every complete
// assignment under it is taken (a taken leaf, or all its candidates present
// and fully explored); selection and rollouts skip such subtrees, so a
// proposal is never a taken assignment and needs no resampling, Propose(n)
// returns min(n, untaken assignments) and Finished() is "root fully
// explored".
//
// Statistics. Every node keeps N (completed evaluations under it), O (those
// in flight) and W (their reward sum). Propose adds 1 to O along the path;
// Observe moves it from O to N and adds the reward to W along the path
// (incremental update); Abandon takes it back from O. An observation that
// was never proposed (a resumed job's replay) inserts its path and counts in
// N and W the same way.
//
// Selection, from the root, at a node whose decision is d:
//   - a child never visited (N + O = 0, created or not) goes first; among
//     several, one is drawn with the prior π(d, ·) below; it is the expanded
//     node, and rollouts_per_expansion rollouts start from it;
//   - otherwise the child maximizing
//       Q + c · sqrt(ln(N_p + O_p) / (N + O)) + prior_weight · π(d, a) / (1 + N + O)
//     (UCT, WU-UCT's in-flight counts, progressive bias), ties to the lower
//     candidate. WU-UCT: Q = W / N (the parent's W / N while N = 0).
//     Virtual loss (use_virtual_loss): Q = (W − virtual_loss · O) / (N + O).
//
// Hardware-driven prior. For decision d and candidate c, with drop⁺ the
// sensitivity drop clamped at 0 and s_d = max_c saving[d][c]:
//   u_λ(d, c) = (saving[d][c] − λ · drop⁺[d][c]) / s_d,
//   π_λ(d, c) ∝ exp(4 · prior_weight · u_λ(d, c)),
// a candidate whose drop is unknown (NaN, or beyond the table) scoring 0
// like exact (neutral). λ* is the Lagrange multiplier of the separable
// relaxation: the smallest λ whose per-decision argmax of u_λ keeps the
// table's summed drop within max_accuracy_drop_pp. Selection uses π = π_λ*.
// Each rollout draws its own λ, so rollouts spread along the whole front
// instead of one point of it: half of them λ = λ* · exp(2z), z ~ N(0, 1)
// (around the threshold), the other half log-uniform between the lowest and
// the highest λ at which some decision's preferred candidate flips (from
// "every decision saves most" to "every decision drops least"). Rollouts
// pick the remaining decisions in tree order, each from π_λ restricted to
// candidates not fully explored. prior_weight = 0: uniform rollouts, no
// bias.
//
// Reward, in [0, 1]. With T = max_accuracy_drop_pp, S = Σ_d max_c
// saving[d][c] (the space's largest saving), the evaluated saving
// s = clamp((1 − relative_power) / S, 0, 1) (0 when S = 0 or an outcome is
// not finite) and excess = drop − T:
//   base   = s                                         when drop ≤ T,
//            0.5 · s · exp(−excess / max(T, 0.1 pp))   otherwise;
//   reward = 0.5 · base + 0.5 · [non-dominated]
// (kInfeasibleScale, kParetoBonus), [non-dominated] being 1 when the outcome
// joins the Pareto front of the observations so far (ParetoArchive, with
// −drop for accuracy: no earlier one at least as good on both, nor equal on
// both). The first term drives the tree to the largest feasible saving and
// still credits near-misses (the best points sit at the threshold); the
// second keeps it exploring the whole accuracy/power front, beyond the
// threshold too (the hypervolume counts all of it). The reward of an
// observation is fixed when it is observed.
//
// Anchor. The first Propose call starts with the cheapest assignment (every
// decision on its largest saving) unless it is taken: it is always on the
// front (nothing is cheaper) and fixes the front's low-power end, which
// the tree, drawn towards the threshold, would reach late.
//
// Determinism and resume. Each Propose call draws from a std::mt19937_64
// seeded with the seed and the count of assignments taken so far; the tree
// is a function of the taken assignments and of the observations in their
// order. So the same calls give the same proposals, and a fresh strategy
// that replays a run's observations in their order (nothing in flight, none
// abandoned) proposes what the run would have proposed next.
//
// Thread-safety: not thread-safe (see Strategy).
#ifndef TRANSAXX_LIBS_SEARCH_MCTS_H_
#define TRANSAXX_LIBS_SEARCH_MCTS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "libs/search/pareto_archive.h"
#include "libs/search/search_space.h"
#include "libs/search/strategies.h"
#include "libs/search/strategy.h"

namespace transaxx::search {

class Mcts : public Strategy {
 public:
  // Weight of the non-dominated bonus and scale of an infeasible point's
  // reward (see the reward above).
  static constexpr double kParetoBonus = 0.5;
  static constexpr double kInfeasibleScale = 0.5;

  // REQUIRES: ValidateSpace(space) is OK; options.mcts in range (see
  // MctsOptions). A sensitivity table of another shape counts as unknown
  // where it has no cell.
  Mcts(const SearchSpace& space, const StrategyOptions& options);

  std::vector<Assignment> Propose(int max_count) override;
  // Invalid assignments are ignored, and so is a second Observe of one.
  void Observe(const Assignment& assignment, const Outcome& outcome) override;
  // The assignment stays taken (never proposed again); an assignment not in
  // flight is ignored.
  void Abandon(const Assignment& assignment) override;
  bool Finished() const override;

  // The reward of an outcome (above), given whether it is non-dominated
  // among the earlier observations and the space's largest saving S.
  static double Reward(const Outcome& outcome, double max_accuracy_drop_pp, double max_saving,
                       bool non_dominated);

  // Introspection, for tests and logs.
  struct NodeStats {
    int64_t visits = 0;     // N
    int64_t in_flight = 0;  // O
    double value_sum = 0;   // W
    bool fully_explored = false;
  };
  // The decisions in tree order (depth k decides decision_order()[k]).
  const std::vector<int>& decision_order() const { return order_; }
  // The node reached by `prefix` (candidates of the first prefix.size()
  // decisions in tree order); nullopt when it is not in the tree.
  std::optional<NodeStats> Stats(const std::vector<int>& prefix) const;
  int64_t node_count() const { return static_cast<int64_t>(nodes_.size()); }
  // The selection prior π_λ*(d, ·) of a decision (sums to 1).
  std::vector<double> Prior(int decision) const;
  // λ*, the prior's central trade-off between saving and drop.
  double lambda() const { return lambda_; }

 private:
  struct Node {
    int32_t parent = -1;
    int32_t first_child = -1;  // children sorted by ascending action
    int32_t next_sibling = -1;
    int32_t action = -1;  // the parent decision's candidate
    int32_t exhausted_children = 0;
    bool exhausted = false;
    int64_t visits = 0;
    int64_t in_flight = 0;
    double value_sum = 0;
  };

  int32_t Child(int32_t node, int candidate) const;  // -1 if absent
  int32_t FindOrAddChild(int32_t node, int candidate);
  // The path root..leaf of `assignment`, creating missing nodes; *added is
  // true when the leaf was new (it is then marked taken).
  std::vector<int32_t> InsertPath(const Assignment& assignment, bool* added);
  // The path root..leaf of `assignment`; empty when the leaf is absent.
  std::vector<int32_t> FindPath(const Assignment& assignment) const;
  void MarkTaken(int32_t leaf);
  // Selection: the expanded node (created if needed) and its depth.
  std::pair<int32_t, int> Select(std::mt19937_64& rng);
  double Score(const Node& child, const Node& parent, double prior) const;
  // Completes an assignment from `node` at `depth` by the prior with a
  // random λ, avoiding fully explored subtrees.
  Assignment Rollout(int32_t node, int depth, std::mt19937_64& rng) const;
  // Unnormalized prior weights exp(β · u_λ(d, ·)) of decision d.
  void PriorWeights(int decision, double lambda, std::vector<double>* weights) const;
  double ComputeLambda() const;

  SearchSpace space_;
  StrategyOptions options_;
  std::vector<int> order_;
  int decisions_ = 0;
  int candidates_ = 0;
  double max_saving_ = 0;
  // s_d per decision, and drop⁺ per decision × candidate (NaN: unknown).
  std::vector<double> unit_;
  std::vector<std::vector<double>> drop_;
  double lambda_ = 0;
  // The lowest and highest flip points of the table (0: none).
  double lambda_low_ = 0;
  double lambda_high_ = 0;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  int64_t taken_ = 0;
  // Whether Propose has considered the cheapest assignment yet.
  bool cheapest_considered_ = false;
  // The front of the observations, accuracy standing for −drop.
  ParetoArchive archive_;
};

// The MCTS strategy; REQUIRES as Mcts.
std::unique_ptr<Strategy> MakeMcts(const SearchSpace& space, const StrategyOptions& options);

}  // namespace transaxx::search

#endif  // TRANSAXX_LIBS_SEARCH_MCTS_H_
