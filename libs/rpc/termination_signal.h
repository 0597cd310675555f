// SIGTERM / SIGINT handling for services: the signals are blocked in every
// thread and collected synchronously with sigwait, so no code runs in a
// signal handler and gRPC's threads never see them.
//
// Thread-safety: call BlockTerminationSignals first thing in main, before
// any thread starts (threads inherit the mask); then any one thread may wait.
#ifndef TRANSAXX_LIBS_RPC_TERMINATION_SIGNAL_H_
#define TRANSAXX_LIBS_RPC_TERMINATION_SIGNAL_H_

namespace transaxx::rpc {

void BlockTerminationSignals();

// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
// REQUIRES: BlockTerminationSignals() ran before any thread was started.
int WaitForTerminationSignal();

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_TERMINATION_SIGNAL_H_
