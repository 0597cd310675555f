// The memory budget the evaluator's caches share (--cache_budget_bytes):
// loaded models (ModelStore) and dataset splits (DatasetStore) each report
// what they hold here, and each drops its least recently used idle entries
// while the total is over the limit. Entries in use are never dropped, so
// the total may exceed the limit while they are needed.
//
// Thread-safety: every method may be called concurrently (atomics only, so
// the stores can consult it while holding their own locks).
#ifndef TRANSAXX_SERVICES_EVALUATOR_CACHE_BUDGET_H_
#define TRANSAXX_SERVICES_EVALUATOR_CACHE_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace transaxx::evaluator {

class CacheBudget {
 public:
  // `limit_bytes` 0: no limit.
  explicit CacheBudget(int64_t limit_bytes) : limit_(limit_bytes) {}

  void Add(int64_t bytes) { used_.fetch_add(bytes); }
  int64_t used() const { return used_.load(); }
  int64_t limit() const { return limit_; }
  bool over() const { return limit_ > 0 && used_.load() > limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_CACHE_BUDGET_H_
