// Cancels a set of outgoing gRPC calls at once: a job's in-flight
// evaluations when the job is cancelled or the coordinator shuts down.
// A call registers its ClientContext before starting and unregisters when it
// ends; Cancel() marks the canceller and cancels every registered call, and a
// call registering afterwards is refused, so none slips through.
//
// Thread-safety: thread-safe.
#ifndef TRANSAXX_SERVICES_SEARCH_COORDINATOR_CALL_CANCELLER_H_
#define TRANSAXX_SERVICES_SEARCH_COORDINATOR_CALL_CANCELLER_H_

#include <set>

#include <grpcpp/client_context.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace transaxx::coordinator {

class CallCanceller {
 public:
  // False (and nothing registered) when already cancelled.
  bool Register(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return false;
    contexts_.insert(context);
    return true;
  }
  void Unregister(grpc::ClientContext* context) {
    absl::MutexLock lock(&mu_);
    contexts_.erase(context);
  }
  void Cancel() {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    for (grpc::ClientContext* c : contexts_) c->TryCancel();
  }
  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace transaxx::coordinator

#endif  // TRANSAXX_SERVICES_SEARCH_COORDINATOR_CALL_CANCELLER_H_
