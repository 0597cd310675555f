#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace transaxx::cli {

Progress::Progress(std::string label)
    : label_(std::move(label)),
      terminal_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void Progress::Update(int64_t done, int64_t total, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  const int64_t tenth = total > 0 ? done * 10 / total : 10;
  if (terminal_) {
    if (drawn_ && done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
  } else if (tenth == last_tenth_) {
    return;
  }
  last_draw_ = now;
  last_tenth_ = tenth;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(total - done) : 0;
  const std::string line = absl::StrFormat(
      "%s %d/%d (%3.0f%%) %s elapsed %s ETA %s", label_, done, total,
      total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0, detail,
      FormatDuration(elapsed), FormatDuration(eta));
  std::fprintf(stderr, terminal_ ? "\r\033[K%s" : "%s\n", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (terminal_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

std::string FormatDuration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
}

}  // namespace transaxx::cli
