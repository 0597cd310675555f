// Structured logging: one JSON object per line on stderr, so that logs from
// every service can be read by people and parsed by log collectors alike.
//
//   LogInfo("serving", {{"grpc_port", "50051"}});
//   -> {"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"serving","grpc_port":"50051"}
//
// Thread-safety: every function here may be called from any thread; lines
// from concurrent callers never interleave.
#ifndef TRANSAXX_LIBS_RPC_LOG_H_
#define TRANSAXX_LIBS_RPC_LOG_H_

#include <initializer_list>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"

namespace transaxx::rpc {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using LogField = std::pair<absl::string_view, std::string>;

// Lines below `level` are dropped. The default is kInfo.
void SetLogLevel(LogLevel level);

// Parses "debug", "info", "warning" or "error".
absl::Status ParseLogLevel(absl::string_view text, LogLevel* level);

void Log(LogLevel level, absl::string_view msg,
         std::initializer_list<LogField> fields = {});

inline void LogDebug(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kDebug, msg, f);
}
inline void LogInfo(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kInfo, msg, f);
}
inline void LogWarning(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kWarning, msg, f);
}
inline void LogError(absl::string_view msg, std::initializer_list<LogField> f = {}) {
  Log(LogLevel::kError, msg, f);
}

// Escapes `text` as the body of a JSON string (without the quotes).
std::string JsonEscape(absl::string_view text);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_LOG_H_
