#include "cli/sigint_cancel.h"

#include <chrono>

namespace transaxx::cli {
namespace {

// Set by the handler; a lock-free atomic is safe to store from a signal.
std::atomic<bool> g_sigint{false};

void OnSigint(int) { g_sigint.store(true); }

}  // namespace

SigintCancel::SigintCancel(grpc::ClientContext* context) {
  g_sigint.store(false);
  struct sigaction action {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills as usual
  sigaction(SIGINT, &action, &previous_);
  thread_ = std::thread([this, context] { Run(context); });
}

SigintCancel::~SigintCancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  sigaction(SIGINT, &previous_, nullptr);
}

void SigintCancel::Run(grpc::ClientContext* context) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (g_sigint.load()) {
      interrupted_.store(true);
      context->TryCancel();
      return;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

}  // namespace transaxx::cli
