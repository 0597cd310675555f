// Calibrated activation ranges by calibration id (the SHA-256 of the model's
// content hash and the canonical calibration recipe, see
// calibration_recipe.h), in memory and, with a state directory, as files
// STATE_DIR/calibrations/<id>.json, so that a restarted evaluator does not
// calibrate again. Files are written under a temporary name and renamed: a
// crash never leaves a half-written calibration; an unreadable file is
// treated as missing (and replaced by the next Put).
//
// Thread-safety: every method may be called concurrently.
#ifndef TRANSAXX_SERVICES_EVALUATOR_CALIBRATION_STORE_H_
#define TRANSAXX_SERVICES_EVALUATOR_CALIBRATION_STORE_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "libs/nn/quantized_model.h"

namespace transaxx::evaluator {

class CalibrationStore {
 public:
  // `state_dir` empty: memory only.
  explicit CalibrationStore(std::filesystem::path state_dir);

  std::optional<nn::ActivationRanges> Get(const std::string& id);
  // Keeps `ranges` under `id`; the errno status when the file cannot be
  // written (the ranges are kept in memory all the same).
  absl::Status Put(const std::string& id, const nn::ActivationRanges& ranges);
  // Calibrations held: in memory or on disk.
  int64_t size();

 private:
  std::filesystem::path File(const std::string& id) const;

  const std::filesystem::path dir_;
  std::mutex mu_;
  std::map<std::string, nn::ActivationRanges> memory_;
};

}  // namespace transaxx::evaluator

#endif  // TRANSAXX_SERVICES_EVALUATOR_CALIBRATION_STORE_H_
