#include "libs/approx/hardware/synthesis.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "libs/approx/builtin.h"
#include "libs/approx/hardware/netlist.h"
#include "libs/approx/hardware/verilog.h"
#include "libs/approx/sha256.h"
#include "nlohmann/json.hpp"

extern char** environ;

namespace transaxx::approx::hardware {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Bump when the script or the way results are read changes, so that cached
// results of the old flow are not reused.
constexpr char kScriptVersion[] = "transaxx-yosys-synthesis-v2";
constexpr size_t kMaxUserVerilogBytes = 16 << 20;
constexpr size_t kMaxTopModuleBytes = 256;

// The Yosys script that synthesizes `top` ("" = Yosys picks the top of the
// hierarchy). The top is renamed `mult`, so the netlist reader and the cache
// entries need not know what the design called it.
std::string Script(absl::string_view top) {
  return absl::StrCat("read_verilog design.v\n",
                      top.empty() ? "synth -auto-top -flatten\n"
                                  : absl::StrCat("synth -top ", top, " -flatten\n"),
                      "abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX\n"
                      "opt_clean\n"
                      "rename -top mult\n"
                      "stat\n"
                      "stat -tech cmos\n"
                      "write_json netlist.json\n");
}

// A plain Verilog identifier, so that it cannot smuggle commands into the
// Yosys script.
bool IsVerilogIdentifier(absl::string_view name) {
  if (name.empty() || name.size() > kMaxTopModuleBytes) return false;
  if (!absl::ascii_isalpha(name[0]) && name[0] != '_') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '$') return false;
  }
  return true;
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status WriteFile(const fs::path& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

// A fresh private folder for one Yosys run, removed with everything in it.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create() {
    std::error_code error;
    fs::path base = fs::temp_directory_path(error);
    if (error) base = "/tmp";
    std::string pattern = (base / "transaxx-yosys-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(absl::StrCat("cannot create a temporary folder in ", base.string(),
                                              ": ", strerror(errno)));
    }
    return TempDir(pattern);
  }
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir() {
    std::error_code ignored;  // Nothing useful to do if cleanup fails.
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempDir(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

absl::Status CannotStart(const std::string& yosys, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot run Yosys ('", yosys, "'): ", why,
      ". Hardware estimates need Yosys: install the Debian package yosys (apt-get install yosys) "
      "or configure the path of the yosys executable"));
}

// Runs Yosys with `args` in `dir` with stdout and stderr in dir/yosys.log,
// in its own process group so that a timeout kills its ABC child too.
// Returns the log of a run that exited with status 0.
absl::StatusOr<std::string> RunYosys(const SynthesisOptions& options, const fs::path& dir,
                                     std::vector<std::string> args) {
  // The child changes into `dir` before exec, so a relative path would
  // be looked up from there.
  std::string program = options.yosys;
  if (absl::StrContains(program, '/')) program = fs::absolute(program).string();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "yosys.log",
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // A server may block or ignore signals; Yosys should start with defaults.
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = {program.data()};
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawn_error =
      posix_spawnp(&pid, program.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) return CannotStart(options.yosys, strerror(spawn_error));

  const absl::Time deadline = absl::Now() + options.timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("waiting for Yosys failed: ", strerror(errno)));
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      kill(-pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return absl::DeadlineExceededError(absl::StrCat("Yosys did not finish within ",
                                                      absl::FormatDuration(options.timeout),
                                                      " and was stopped"));
    }
    absl::SleepFor(std::min(left, absl::Milliseconds(10)));
  }
  absl::StatusOr<std::string> log = ReadFile(dir / "yosys.log");
  if (!log.ok()) return log.status();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return log;

  // Yosys reports a rejected design on a line with "ERROR:"; keep that line
  // and what follows it (some messages continue on the next lines).
  const size_t error_at = log->find("ERROR:");
  if (error_at == std::string::npos) {
    const std::string tail = log->size() > 2000 ? log->substr(log->size() - 2000) : *log;
    return absl::InternalError(absl::StrCat("Yosys failed (",
                                            WIFSIGNALED(status)
                                                ? absl::StrCat("signal ", WTERMSIG(status))
                                                : absl::StrCat("exit status ", WEXITSTATUS(status)),
                                            "); end of its log:\n", tail));
  }
  const size_t line_start = log->rfind('\n', error_at);
  std::string message(absl::StripAsciiWhitespace(
      absl::string_view(*log).substr(line_start == std::string::npos ? 0 : line_start + 1, 1000)));
  // ABC is a separate program of the yosys package; its absence is an
  // installation problem, not a problem of the design.
  if (absl::StrContains(message, "ABC: execution of command")) {
    return CannotStart(options.yosys, message);
  }
  return absl::InvalidArgumentError(absl::StrCat("Yosys rejected the design: ", message));
}

// The number after the last occurrence of `label` in `log`.
absl::StatusOr<int64_t> LastNumberAfter(absl::string_view log, absl::string_view label) {
  const size_t at = log.rfind(label);
  if (at == absl::string_view::npos) {
    return absl::InternalError(absl::StrCat("the Yosys log has no '", label, "'"));
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(log.substr(at + label.size()));
  size_t digits = 0;
  while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
  int64_t value = 0;
  if (!absl::SimpleAtoi(rest.substr(0, digits), &value)) {
    return absl::InternalError(absl::StrCat("the Yosys log has no number after '", label, "'"));
  }
  return value;
}

absl::StatusOr<SynthesisResult> RunSynthesis(absl::string_view verilog, absl::string_view script,
                                             const SynthesisOptions& options) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  if (absl::Status s = WriteFile(dir->path() / "design.v", verilog); !s.ok()) return s;
  if (absl::Status s = WriteFile(dir->path() / "synth.ys", script); !s.ok()) return s;
  absl::StatusOr<std::string> log = RunYosys(options, dir->path(), {"-s", "synth.ys"});
  if (!log.ok()) return log.status();
  SynthesisResult result;
  // `stat` runs twice; both report the final netlist's cells.
  absl::StatusOr<int64_t> cells = LastNumberAfter(*log, "Number of cells:");
  if (!cells.ok()) return cells.status();
  absl::StatusOr<int64_t> transistors = LastNumberAfter(*log, "Estimated number of transistors:");
  if (!transistors.ok()) return transistors.status();
  absl::StatusOr<std::string> netlist = ReadFile(dir->path() / "netlist.json");
  if (!netlist.ok()) return netlist.status();
  result.cells = *cells;
  result.transistors = *transistors;
  result.netlist_json = *std::move(netlist);
  return result;
}

std::optional<SynthesisResult> ReadCached(const fs::path& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  const Json cached = Json::parse(*text, nullptr, false);
  // A damaged entry (say, from a full disk) is recomputed, not trusted.
  if (cached.is_discarded() || !cached.is_object() ||
      cached.value("version", "") != kScriptVersion || !cached.contains("cells") ||
      !cached["cells"].is_number_integer() || !cached.contains("transistors") ||
      !cached["transistors"].is_number_integer() || !cached.contains("netlist") ||
      !cached["netlist"].is_string()) {
    return std::nullopt;
  }
  return SynthesisResult{cached["cells"].get<int64_t>(), cached["transistors"].get<int64_t>(),
                         cached["netlist"].get<std::string>()};
}

absl::Status WriteCached(const fs::path& path, const SynthesisResult& result) {
  const Json entry = {{"version", kScriptVersion},
                      {"cells", result.cells},
                      {"transistors", result.transistors},
                      {"netlist", result.netlist_json}};
  // Written beside and renamed over, so concurrent readers see all or nothing.
  static std::atomic<uint64_t> counter{0};
  const fs::path temp = path.string() + absl::StrCat(".tmp.", getpid(), ".", counter++);
  if (absl::Status s = WriteFile(temp, entry.dump()); !s.ok()) return s;
  std::error_code error;
  fs::rename(temp, path, error);
  if (error) {
    fs::remove(temp, error);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write the synthesis cache entry ", path.string()));
  }
  return absl::OkStatus();
}

// Synthesizes module `top` of `verilog` (or takes the cached result) and
// checks the netlist against `expected`.
absl::StatusOr<SynthesisResult> SynthesizeAndCheck(absl::string_view verilog,
                                                   absl::string_view top,
                                                   const Multiplier& expected,
                                                   const SynthesisOptions& options) {
  const std::string script = Script(top);
  fs::path cache_file;
  if (!options.cache_dir.empty()) {
    std::error_code error;
    fs::create_directories(options.cache_dir, error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat("cannot create the synthesis cache folder ",
                                                        options.cache_dir, ": ", error.message()));
    }
    const std::string key = Sha256Hex(
        absl::StrCat(kScriptVersion, "\n", script, "\n", expected.content_hash(), "\n", verilog));
    cache_file = fs::path(options.cache_dir) / absl::StrCat(key, ".json");
  }
  std::optional<SynthesisResult> result;
  if (!cache_file.empty()) result = ReadCached(cache_file);
  const bool cached = result.has_value();
  if (!cached) {
    absl::StatusOr<SynthesisResult> fresh = RunSynthesis(verilog, script, options);
    if (!fresh.ok()) return fresh.status();
    result = *std::move(fresh);
  }
  absl::StatusOr<GateNetlist> netlist = GateNetlist::FromYosysJson(result->netlist_json);
  if (!netlist.ok()) return netlist.status();
  if (absl::Status equal = netlist->CheckEquals(expected); !equal.ok()) {
    if (!top.empty()) return equal;
    // Yosys may have picked a helper module of the design as its top.
    return absl::Status(equal.code(),
                        absl::StrCat(equal.message(),
                                     " (the top module was chosen automatically; name the "
                                     "multiplier's module if it is another)"));
  }
  if (!cached && !cache_file.empty()) {
    if (absl::Status s = WriteCached(cache_file, *result); !s.ok()) return s;
  }
  return *std::move(result);
}

}  // namespace

absl::StatusOr<std::string> YosysVersion(const SynthesisOptions& options) {
  absl::StatusOr<TempDir> dir = TempDir::Create();
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::string> log = RunYosys(options, dir->path(), {"-V"});
  if (!log.ok()) return log.status();
  return std::string(absl::StripAsciiWhitespace(*log));
}

absl::StatusOr<SynthesisResult> SynthesizeBuiltin(absl::string_view id,
                                                  const SynthesisOptions& options) {
  absl::StatusOr<Multiplier> multiplier = MakeBuiltin(id);
  if (!multiplier.ok()) return multiplier.status();
  absl::StatusOr<std::string> verilog = BuiltinVerilog(multiplier->id());
  if (!verilog.ok()) return verilog.status();
  absl::StatusOr<SynthesisResult> result = SynthesizeAndCheck(*verilog, "mult", *multiplier, options);
  if (!result.ok() && result.status().code() == absl::StatusCode::kInvalidArgument) {
    // The RTL is ours: a rejection or a mismatch is our bug, not the caller's.
    return absl::InternalError(absl::StrCat("the generated RTL of '", multiplier->id(),
                                            "' is wrong: ", result.status().message()));
  }
  return result;
}

absl::StatusOr<SynthesisResult> SynthesizeExact(Signedness signedness,
                                                const SynthesisOptions& options) {
  if (signedness == Signedness::kSigned) return SynthesizeBuiltin("exact", options);
  absl::StatusOr<Multiplier> exact =
      Multiplier::Create("exact-unsigned", signedness, ExactTable(signedness));
  if (!exact.ok()) return exact.status();
  return SynthesizeAndCheck(ExactVerilog(signedness), "mult", *exact, options);
}

absl::StatusOr<SynthesisResult> SynthesizeUserVerilog(absl::string_view verilog,
                                                      absl::string_view top_module,
                                                      const Multiplier& expected,
                                                      const SynthesisOptions& options) {
  if (!top_module.empty() && !IsVerilogIdentifier(top_module)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the top module '", absl::CHexEscape(top_module.substr(0, kMaxTopModuleBytes)),
        "' is not a Verilog identifier (a letter or _, then letters, digits, _ or $; at most ",
        kMaxTopModuleBytes, " characters)"));
  }
  if (verilog.size() > kMaxUserVerilogBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the Verilog has ", verilog.size(),
                                                   " bytes; at most ", kMaxUserVerilogBytes,
                                                   " are accepted"));
  }
  // Yosys would read such files with this process's permissions.
  for (const char* reads_files : {"`include", "$readmemh", "$readmemb"}) {
    if (absl::StrContains(verilog, reads_files)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the Verilog uses ", reads_files, "; a multiplier must be self-contained"));
    }
  }
  return SynthesizeAndCheck(verilog, top_module, expected, options);
}

}  // namespace transaxx::approx::hardware
