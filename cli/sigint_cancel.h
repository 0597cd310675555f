// Ctrl-C for a long gRPC call of the CLI (watching a job): while a
// SigintCancel lives, the first SIGINT cancels the call instead of killing
// the process, so the command can end cleanly (and the job keeps running on
// the server); a second SIGINT kills the process as usual.
//
// Thread-safety: one per call, created and destroyed on the calling thread;
// at most one alive at a time. It runs a helper thread that cancels the call.
#ifndef TRANSAXX_CLI_SIGINT_CANCEL_H_
#define TRANSAXX_CLI_SIGINT_CANCEL_H_

#include <grpcpp/client_context.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace transaxx::cli {

class SigintCancel {
 public:
  // REQUIRES: `context` outlives this object.
  explicit SigintCancel(grpc::ClientContext* context);
  ~SigintCancel();
  SigintCancel(const SigintCancel&) = delete;
  SigintCancel& operator=(const SigintCancel&) = delete;

  // Whether a SIGINT cancelled the call.
  bool interrupted() const { return interrupted_.load(); }

 private:
  void Run(grpc::ClientContext* context);

  struct sigaction previous_ {};
  std::atomic<bool> interrupted_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace transaxx::cli

#endif  // TRANSAXX_CLI_SIGINT_CANCEL_H_
