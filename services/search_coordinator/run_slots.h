// A first-come, first-served limit on how many jobs run at once: a job
// takes a ticket when it is queued and runs when its ticket is among the
// first `capacity` outstanding ones.
//
// Thread-safety: thread-safe.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_RUN_SLOTS_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_RUN_SLOTS_H_

#include <cstdint>
#include <functional>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace transaxx::coordinator {

class RunSlots {
 public:
  // REQUIRES: capacity >= 1.
  explicit RunSlots(int capacity) : capacity_(capacity) {}

  int64_t Ticket() {
    absl::MutexLock lock(&mu_);
    int64_t t = next_++;
    waiting_.insert(t);
    return t;
  }
  // Waits until the ticket may run; false (ticket dropped) when `give_up`
  // turns true first (polled every 100 ms).
  bool Acquire(int64_t ticket, const std::function<bool()>& give_up) {
    absl::MutexLock lock(&mu_);
    auto turn = [this, ticket]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return running_ < capacity_ && !waiting_.empty() && *waiting_.begin() == ticket;
    };
    for (;;) {
      if (turn()) {
        waiting_.erase(ticket);
        ++running_;
        return true;
      }
      if (give_up()) {
        waiting_.erase(ticket);
        return false;
      }
      // The timeout polls give_up, which mu_ does not guard.
      mu_.AwaitWithTimeout(absl::Condition(&turn), absl::Milliseconds(100));
    }
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    --running_;
  }

 private:
  const int capacity_;
  absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int64_t> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_RUN_SLOTS_H_
