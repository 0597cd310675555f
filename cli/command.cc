#include "cli/command.h"

#include <cstdio>

namespace transaxx::cli {

int ReportError(const absl::Status& status, bool usage) {
  std::fprintf(stderr, "transaxx: error: %s\n", std::string(status.message()).c_str());
  return usage ? kExitUsage : kExitFailure;
}

}  // namespace transaxx::cli
