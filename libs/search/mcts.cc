#include "libs/search/mcts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>

#include "libs/search/enumeration.h"

namespace transaxx::search {
namespace {

// Inverse temperature of the prior at prior_weight 1: the decision's largest
// saving is worth e^4 ≈ 55 times the weight of exact when it costs nothing.
constexpr double kPriorSharpness = 4.0;
// Spread of the rollouts' trade-off: λ = λ* · exp(kLambdaSpread · z).
constexpr double kLambdaSpread = 2.0;
// Share of rollouts whose λ is log-uniform over the whole front instead.
constexpr double kGlobalShare = 0.5;
// Penalty scale floor (pp), so a threshold of 0 still grades the excess.
constexpr double kMinDropScale = 0.1;
// A decision whose candidates save (almost) nothing still has a unit.
constexpr double kMinSavingUnit = 1e-12;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A standard normal draw (Box-Muller), portable across standard libraries.
double StandardNormal(std::mt19937_64& rng) {
  const double u1 = 1.0 - UniformUnit(rng);  // (0, 1]
  const double u2 = UniformUnit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// An index drawn with probability ∝ exp(log_weights[i]) among those with
// allowed[i]. REQUIRES: some allowed.
int DrawAllowed(const std::vector<double>& log_weights, const std::vector<char>& allowed,
                std::mt19937_64& rng) {
  double top = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < log_weights.size(); ++i) {
    if (allowed[i]) top = std::max(top, log_weights[i]);
  }
  double total = 0;
  std::vector<double> weights(log_weights.size(), 0.0);
  for (size_t i = 0; i < log_weights.size(); ++i) {
    if (allowed[i]) total += weights[i] = std::exp(log_weights[i] - top);
  }
  double x = UniformUnit(rng) * total;
  int last = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!allowed[i]) continue;
    last = static_cast<int>(i);
    if (x < weights[i]) return last;
    x -= weights[i];
  }
  return last;  // rounding left x at the end
}

}  // namespace

Mcts::Mcts(const SearchSpace& space, const StrategyOptions& options)
    : space_(space),
      options_(options),
      decisions_(space.decisions()),
      candidates_(space.candidates()) {
  order_.resize(decisions_);
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(),
                   [&](int a, int b) { return space_.mac_fraction[a] > space_.mac_fraction[b]; });

  const std::vector<std::vector<double>>& drops = options_.sensitivity.drop_pp;
  unit_.assign(decisions_, 0.0);
  drop_.assign(decisions_, std::vector<double>(candidates_, 0.0));
  for (int d = 0; d < decisions_; ++d) {
    const std::vector<double>& row = space_.saving[d];
    const double best = *std::max_element(row.begin(), row.end());
    max_saving_ += std::max(best, 0.0);
    unit_[d] = std::max(best, kMinSavingUnit);
    for (int c = 1; c < candidates_; ++c) {  // exact has no drop by definition
      const bool known = d < static_cast<int>(drops.size()) &&
                         c < static_cast<int>(drops[d].size()) && std::isfinite(drops[d][c]);
      drop_[d][c] = known ? std::max(drops[d][c], 0.0) : NAN;
    }
  }
  lambda_ = ComputeLambda();
  // The trade-offs at which some decision's choice flips: every λ that
  // makes two known candidates equal. Below the lowest, every decision
  // takes its largest saving; above the highest, the least drop.
  for (int d = 0; d < decisions_; ++d) {
    for (int c = 0; c < candidates_; ++c) {
      for (int k = 0; k < candidates_; ++k) {
        const double ds = space_.saving[d][c] - space_.saving[d][k];
        const double dd = drop_[d][c] - drop_[d][k];
        if (!(ds > 0 && dd > 0)) continue;  // NaN fails too
        const double flip = ds / dd;
        if (lambda_low_ == 0 || flip < lambda_low_) lambda_low_ = flip;
        lambda_high_ = std::max(lambda_high_, flip);
      }
    }
  }
  nodes_.emplace_back();  // the root
}

double Mcts::ComputeLambda() const {
  // Summed table drop of the per-decision argmax of u_λ; non-increasing in λ.
  auto drop_at = [&](double lambda) {
    double total = 0;
    for (int d = 0; d < decisions_; ++d) {
      int best = 0;
      double best_u = 0;
      for (int c = 1; c < candidates_; ++c) {
        if (std::isnan(drop_[d][c])) continue;  // neutral: never beats exact
        const double u = space_.saving[d][c] - lambda * drop_[d][c];
        if (u > best_u) best = c, best_u = u;
      }
      total += drop_[d][best];
    }
    return total;
  };
  const double limit = options_.max_accuracy_drop_pp;
  if (drop_at(0) <= limit) return 0;
  // Bracket λ over a wide log range around the exchange rate "the whole
  // saving for the whole budget".
  const double rate = std::max(max_saving_, kMinSavingUnit) / std::max(limit, kMinDropScale);
  double lo = std::log(rate * 1e-6), hi = std::log(rate * 1e6);
  if (drop_at(std::exp(hi)) > limit) return std::exp(hi);
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (drop_at(std::exp(mid)) <= limit ? hi : lo) = mid;
  }
  return std::exp(hi);
}

void Mcts::PriorWeights(int decision, double lambda, std::vector<double>* weights) const {
  weights->assign(candidates_, 0.0);
  const double beta = kPriorSharpness * options_.mcts.prior_weight;
  if (beta == 0) return;
  for (int c = 1; c < candidates_; ++c) {
    const double drop = drop_[decision][c];
    if (std::isnan(drop)) continue;  // unknown: neutral, as exact
    (*weights)[c] = beta * (space_.saving[decision][c] - lambda * drop) / unit_[decision];
  }
}

std::vector<double> Mcts::Prior(int decision) const {
  std::vector<double> p;
  PriorWeights(decision, lambda_, &p);
  const double top = *std::max_element(p.begin(), p.end());
  double total = 0;
  for (double& x : p) total += x = std::exp(x - top);
  for (double& x : p) x /= total;
  return p;
}

double Mcts::Reward(const Outcome& outcome, double max_accuracy_drop_pp, double max_saving,
                    bool non_dominated) {
  double base = 0;
  const double drop = outcome.accuracy_drop_pp;
  const double power = outcome.relative_power;
  if (std::isfinite(drop) && std::isfinite(power) && max_saving > 0) {
    const double s = std::clamp((1.0 - power) / max_saving, 0.0, 1.0);
    if (drop <= max_accuracy_drop_pp) {
      base = s;
    } else {
      const double scale = std::max(max_accuracy_drop_pp, kMinDropScale);
      base = kInfeasibleScale * s * std::exp(-(drop - max_accuracy_drop_pp) / scale);
    }
  }
  return (1.0 - kParetoBonus) * base + (non_dominated ? kParetoBonus : 0.0);
}

int32_t Mcts::Child(int32_t node, int candidate) const {
  for (int32_t c = nodes_[node].first_child; c >= 0; c = nodes_[c].next_sibling) {
    if (nodes_[c].action == candidate) return c;
    if (nodes_[c].action > candidate) break;
  }
  return -1;
}

int32_t Mcts::FindOrAddChild(int32_t node, int candidate) {
  int32_t prev = -1;
  int32_t next = nodes_[node].first_child;
  for (; next >= 0 && nodes_[next].action <= candidate; next = nodes_[next].next_sibling) {
    if (nodes_[next].action == candidate) return next;
    prev = next;
  }
  const auto added = static_cast<int32_t>(nodes_.size());
  Node child;
  child.parent = node;
  child.action = candidate;
  child.next_sibling = next;
  nodes_.push_back(child);
  (prev < 0 ? nodes_[node].first_child : nodes_[prev].next_sibling) = added;
  return added;
}

void Mcts::MarkTaken(int32_t leaf) {
  nodes_[leaf].exhausted = true;
  ++taken_;
  for (int32_t n = leaf; nodes_[n].parent >= 0;) {
    Node& parent = nodes_[nodes_[n].parent];
    if (++parent.exhausted_children < candidates_) break;
    parent.exhausted = true;
    n = nodes_[n].parent;
  }
}

std::vector<int32_t> Mcts::InsertPath(const Assignment& assignment, bool* added) {
  std::vector<int32_t> path{0};
  for (int depth = 0; depth < decisions_; ++depth) {
    path.push_back(FindOrAddChild(path.back(), assignment[order_[depth]]));
  }
  *added = !nodes_[path.back()].exhausted;
  if (*added) MarkTaken(path.back());
  return path;
}

std::vector<int32_t> Mcts::FindPath(const Assignment& assignment) const {
  std::vector<int32_t> path{0};
  for (int depth = 0; depth < decisions_; ++depth) {
    const int32_t child = Child(path.back(), assignment[order_[depth]]);
    if (child < 0) return {};
    path.push_back(child);
  }
  return path;
}

double Mcts::Score(const Node& child, const Node& parent, double prior) const {
  const MctsOptions& o = options_.mcts;
  const double visits = static_cast<double>(child.visits + child.in_flight);
  double q;
  if (o.use_virtual_loss) {
    q = (child.value_sum - o.virtual_loss * static_cast<double>(child.in_flight)) / visits;
  } else if (child.visits > 0) {
    q = child.value_sum / static_cast<double>(child.visits);
  } else {
    q = parent.visits > 0 ? parent.value_sum / static_cast<double>(parent.visits) : 0.0;
  }
  const double parent_visits = static_cast<double>(parent.visits + parent.in_flight);
  return q + o.exploration_constant * std::sqrt(std::log(parent_visits) / visits) +
         o.prior_weight * prior / (1.0 + visits);
}

std::pair<int32_t, int> Mcts::Select(std::mt19937_64& rng) {
  std::vector<int32_t> by_candidate(candidates_);
  std::vector<double> log_prior;
  std::vector<char> unvisited(candidates_);
  int32_t node = 0;
  for (int depth = 0;; ++depth) {
    std::fill(by_candidate.begin(), by_candidate.end(), -1);
    for (int32_t c = nodes_[node].first_child; c >= 0; c = nodes_[c].next_sibling) {
      by_candidate[nodes_[c].action] = c;
    }
    const int decision = order_[depth];
    PriorWeights(decision, lambda_, &log_prior);
    bool any_unvisited = false;
    for (int c = 0; c < candidates_; ++c) {
      const int32_t child = by_candidate[c];
      unvisited[c] = child < 0 || (!nodes_[child].exhausted &&
                                   nodes_[child].visits + nodes_[child].in_flight == 0);
      any_unvisited |= unvisited[c] != 0;
    }
    if (any_unvisited) {
      const int c = DrawAllowed(log_prior, unvisited, rng);
      return {FindOrAddChild(node, c), depth + 1};
    }
    // Every candidate has a visited child; some is not fully explored since
    // this node is not.
    const std::vector<double> prior = Prior(decision);
    int32_t best = -1;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int c = 0; c < candidates_; ++c) {
      const Node& child = nodes_[by_candidate[c]];
      if (child.exhausted) continue;
      const double score = Score(child, nodes_[node], prior[c]);
      if (best < 0 || score > best_score) best = by_candidate[c], best_score = score;
    }
    node = best;
  }
}

Assignment Mcts::Rollout(int32_t node, int depth, std::mt19937_64& rng) const {
  Assignment a(decisions_, 0);
  for (int32_t n = node, k = depth; n > 0; n = nodes_[n].parent, --k) {
    a[order_[k - 1]] = nodes_[n].action;
  }
  double lambda = 0;
  if (options_.mcts.prior_weight > 0) {
    if (lambda_low_ > 0 && UniformUnit(rng) < kGlobalShare) {
      lambda = lambda_low_ * std::pow(lambda_high_ / lambda_low_, UniformUnit(rng));
    } else {
      lambda = lambda_ * std::exp(kLambdaSpread * StandardNormal(rng));
    }
  }
  std::vector<double> log_prior;
  std::vector<char> allowed(candidates_);
  std::vector<int32_t> by_candidate(candidates_);
  for (int32_t cur = node; depth < decisions_; ++depth) {
    std::fill(by_candidate.begin(), by_candidate.end(), -1);
    std::fill(allowed.begin(), allowed.end(), 1);
    if (cur >= 0) {
      for (int32_t c = nodes_[cur].first_child; c >= 0; c = nodes_[c].next_sibling) {
        by_candidate[nodes_[c].action] = c;
        allowed[nodes_[c].action] = !nodes_[c].exhausted;
      }
    }
    const int decision = order_[depth];
    PriorWeights(decision, lambda, &log_prior);
    const int c = DrawAllowed(log_prior, allowed, rng);
    a[decision] = c;
    cur = by_candidate[c];  // -1 once off the tree: everything below is new
  }
  return a;
}

std::vector<Assignment> Mcts::Propose(int max_count) {
  std::vector<Assignment> out;
  std::mt19937_64 rng(SplitMix64(options_.seed ^ SplitMix64(static_cast<uint64_t>(taken_))));
  if (!cheapest_considered_ && max_count > 0) {
    cheapest_considered_ = true;
    Assignment cheapest(space_.decisions(), 0);
    for (int d = 0; d < space_.decisions(); ++d) {
      for (int c = 1; c < space_.candidates(); ++c) {
        if (space_.saving[d][c] > space_.saving[d][cheapest[d]]) cheapest[d] = c;
      }
    }
    bool added = false;
    const std::vector<int32_t> path = InsertPath(cheapest, &added);
    if (added) {
      for (int32_t n : path) ++nodes_[n].in_flight;
      out.push_back(std::move(cheapest));
    }
  }
  while (static_cast<int>(out.size()) < max_count && !nodes_[0].exhausted) {
    const auto [expanded, depth] = Select(rng);
    for (int r = 0; r < std::max(1, options_.mcts.rollouts_per_expansion) &&
                    static_cast<int>(out.size()) < max_count && !nodes_[expanded].exhausted;
         ++r) {
      Assignment a = Rollout(expanded, depth, rng);
      bool added = false;
      for (int32_t n : InsertPath(a, &added)) ++nodes_[n].in_flight;
      out.push_back(std::move(a));
    }
  }
  return out;
}

void Mcts::Observe(const Assignment& assignment, const Outcome& outcome) {
  if (!ValidateAssignment(space_, assignment).ok()) return;
  bool added = false;
  const std::vector<int32_t> path = InsertPath(assignment, &added);
  const Node& leaf = nodes_[path.back()];
  if (leaf.visits > 0) return;  // observed before
  const bool in_flight = leaf.in_flight > 0;
  const bool on_front =
      archive_
          .Insert({AssignmentKey(assignment), -outcome.accuracy_drop_pp, outcome.relative_power})
          .on_front;
  const double reward = Reward(outcome, options_.max_accuracy_drop_pp, max_saving_, on_front);
  for (int32_t n : path) {
    if (in_flight) --nodes_[n].in_flight;
    ++nodes_[n].visits;
    nodes_[n].value_sum += reward;
  }
}

void Mcts::Abandon(const Assignment& assignment) {
  if (!ValidateAssignment(space_, assignment).ok()) return;
  const std::vector<int32_t> path = FindPath(assignment);
  if (path.empty() || nodes_[path.back()].in_flight == 0) return;
  for (int32_t n : path) --nodes_[n].in_flight;
}

bool Mcts::Finished() const { return nodes_[0].exhausted; }

std::optional<Mcts::NodeStats> Mcts::Stats(const std::vector<int>& prefix) const {
  if (prefix.size() > static_cast<size_t>(decisions_)) return std::nullopt;
  int32_t node = 0;
  for (int c : prefix) {
    node = Child(node, c);
    if (node < 0) return std::nullopt;
  }
  const Node& n = nodes_[node];
  return NodeStats{n.visits, n.in_flight, n.value_sum, n.exhausted};
}

std::unique_ptr<Strategy> MakeMcts(const SearchSpace& space, const StrategyOptions& options) {
  return std::make_unique<Mcts>(space, options);
}

}  // namespace transaxx::search
