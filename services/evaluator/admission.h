// Admission control of the evaluator's heavy calls (Evaluate, Calibrate):
// at most `max_running` run at once, at most `max_queued` wait for a slot,
// and a call beyond that is refused at once with RESOURCE_EXHAUSTED, so an
// overloaded evaluator answers quickly and the coordinator can go elsewhere.
//
// Thread-safety: every method may be called concurrently.
#ifndef TRANSAXX_SERVICES_EVALUATOR_ADMISSION_H_
#define TRANSAXX_SERVICES_EVALUATOR_ADMISSION_H_

#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace transaxx::evaluator {

class Admission {
 public:
  // REQUIRES: max_running >= 1, max_queued >= 0.
  Admission(int max_running, int max_queued);

  // A running slot, released when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class Admission;
    explicit Slot(Admission* owner) : owner_(owner) {}
    Admission* owner_;
  };

  // A slot, waiting in the queue if all are taken and polling `interrupted`
  // while waiting (a non-OK status leaves the queue with that status).
  // RESOURCE_EXHAUSTED when the queue is full.
  absl::StatusOr<Slot> Enter(const std::function<absl::Status()>& interrupted);

  int max_running() const { return max_running_; }
  int max_queued() const { return max_queued_; }
  int running();
  int queued();

 private:
  void Release();

  const int max_running_, max_queued_;
  std::mutex mu_;
  std::condition_variable freed_;
  int running_ = 0;
  int queued_ = 0;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_ADMISSION_H_
