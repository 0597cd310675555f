#include "services/evaluator/calibration_store.h"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace transaxx::evaluator {

namespace fs = std::filesystem;

CalibrationStore::CalibrationStore(fs::path state_dir)
    : dir_(state_dir.empty() ? fs::path() : state_dir / "calibrations") {}

fs::path CalibrationStore::File(const std::string& id) const { return dir_ / (id + ".json"); }

std::optional<nn::ActivationRanges> CalibrationStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = memory_.find(id); it != memory_.end()) return it->second;
  if (dir_.empty()) return std::nullopt;
  std::ifstream in(File(id));
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  absl::StatusOr<nn::ActivationRanges> ranges = nn::ActivationRangesFromJson(json);
  if (!ranges.ok()) return std::nullopt;
  memory_[id] = *ranges;
  return *ranges;
}

absl::Status CalibrationStore::Put(const std::string& id, const nn::ActivationRanges& ranges) {
  std::lock_guard<std::mutex> lock(mu_);
  memory_[id] = ranges;
  if (dir_.empty()) return absl::OkStatus();
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot create ", dir_.string()));
  }
  const fs::path tmp = File(id).string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nn::ActivationRangesToJson(ranges).dump(1) << "\n";
    if (!out.flush()) return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", tmp.string()));
  }
  fs::rename(tmp, File(id), error);
  if (error) return absl::ErrnoToStatus(error.value(), absl::StrCat("cannot rename ", tmp.string()));
  return absl::OkStatus();
}

int64_t CalibrationStore::size() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t on_disk = 0;
  std::error_code error;
  if (!dir_.empty()) {
    for (const auto& e : fs::directory_iterator(dir_, error)) {
      if (e.path().extension() == ".json" && !memory_.count(e.path().stem().string())) ++on_disk;
    }
  }
  return static_cast<int64_t>(memory_.size()) + on_disk;
}

}  // namespace transaxx::evaluator
