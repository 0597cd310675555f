// The process-wide memo of structure analyses (structure.h), keyed by a
// multiplier's cache_key() (content hash and signedness): the analysis takes a fraction of a second, and
// every GEMM needs the structure of its multiplier.
//
// Thread-safety: safe to call from any thread. Concurrent first calls for
// one multiplier may both analyze it; one result is kept. Results live until
// the process ends (a catalog holds tens of multipliers, a few KB each).
#ifndef TRANSAXX_LIBS_APPROX_STRUCTURE_CACHE_H_
#define TRANSAXX_LIBS_APPROX_STRUCTURE_CACHE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "libs/approx/multiplier.h"
#include "libs/approx/structure.h"

namespace transaxx::approx {

// AnalyzeStructure(multiplier) with default options, computed once per
// cache_key(). Errors are those of AnalyzeStructure and are not memoized.
absl::StatusOr<std::shared_ptr<const Structure>> CachedStructure(const Multiplier& multiplier);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_STRUCTURE_CACHE_H_
