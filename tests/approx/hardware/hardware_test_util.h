// Shared by the hardware tests: whether Yosys is installed, and fresh
// folders for caches and scripts.
//
// Thread-safety: functions without shared state.
#ifndef TRANSAXX_TESTS_APPROX_HARDWARE_HARDWARE_TEST_UTIL_H_
#define TRANSAXX_TESTS_APPROX_HARDWARE_HARDWARE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx::hardware {

// Whether an executable `yosys` is on PATH, where the synthesis runner
// looks by default.
inline bool YosysInstalled() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    const std::string candidate = absl::StrCat(dir, "/yosys");
    if (access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Skips the current test, saying why, when Yosys is absent.
#define TRANSAXX_REQUIRE_YOSYS()                                                         \
  do {                                                                                   \
    if (!::transaxx::approx::hardware::YosysInstalled()) {                               \
      GTEST_SKIP() << "Yosys is not installed (no 'yosys' on PATH); install the Debian " \
                      "package yosys to run the synthesis tests";                        \
    }                                                                                    \
  } while (false)

// Folders made by FreshDir, removed when the test process exits.
struct FreshDirs {
  std::vector<std::filesystem::path> paths;
  ~FreshDirs() {
    std::error_code ec;
    for (const auto& path : paths) std::filesystem::remove_all(path, ec);
  }
};

// A new, empty folder under the test's temporary folder, removed at exit.
inline std::filesystem::path FreshDir(const std::string& name) {
  static std::atomic<int> counter{0};
  static FreshDirs made;
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      absl::StrCat("transaxx_hw_", getpid(), "_", counter++, "_", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made.paths.push_back(dir);
  return dir;
}

// The exact unsigned 8x8 multiplier as a user table.
inline Multiplier UnsignedExactMultiplier() {
  return *Multiplier::Create("user:u8", Signedness::kUnsigned, ExactTable(Signedness::kUnsigned));
}

}  // namespace transaxx::approx::hardware

#endif  // TRANSAXX_TESTS_APPROX_HARDWARE_HARDWARE_TEST_UTIL_H_
