#include "tests/support/cli_run.h"

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"

namespace transaxx::testing {

CliRun RunCli(const std::vector<std::string>& argv, absl::Duration timeout) {
  auto process = Subprocess::Start(argv);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return {};
  auto code = (*process)->Wait(timeout);
  EXPECT_TRUE(code.ok()) << code.status() << "\n" << (*process)->output();
  return {code.ok() ? *code : -1, (*process)->output()};
}

}  // namespace transaxx::testing
