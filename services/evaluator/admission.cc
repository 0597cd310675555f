#include "services/evaluator/admission.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace transaxx::evaluator {

Admission::Admission(int max_running, int max_queued)
    : max_running_(max_running), max_queued_(max_queued) {}

Admission::Slot::~Slot() {
  if (owner_ != nullptr) owner_->Release();
}

absl::StatusOr<Admission::Slot> Admission::Enter(const std::function<absl::Status()>& interrupted) {
  std::unique_lock<std::mutex> lock(mu_);
  if (running_ < max_running_) {
    ++running_;
    return Slot(this);
  }
  if (queued_ >= max_queued_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the evaluator is busy: ", running_, " calls running and ", queued_,
                     " queued (limits ", max_running_, " and ", max_queued_, "); retry later"));
  }
  ++queued_;
  while (running_ >= max_running_) {
    freed_.wait_for(lock, std::chrono::milliseconds(50));
    if (running_ < max_running_) break;
    lock.unlock();
    const absl::Status s = interrupted();
    lock.lock();
    if (!s.ok()) {
      --queued_;
      return s;
    }
  }
  --queued_;
  ++running_;
  return Slot(this);
}

void Admission::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  freed_.notify_one();
}

int Admission::running() {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

int Admission::queued() {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

}  // namespace transaxx::evaluator
