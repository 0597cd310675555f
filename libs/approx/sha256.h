// SHA-256 as lowercase hex: the content hash of every identity in transaxx
// (multiplier tables, configurations, models, synthesis results).
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_APPROX_SHA256_H_
#define TRANSAXX_LIBS_APPROX_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace transaxx::approx {

std::string Sha256Hex(absl::string_view data);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_SHA256_H_
