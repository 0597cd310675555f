// The v1 contract's description of a multiplier (MultiplierInfo without
// hardware figures) and its MultiplierFilter, shared by the PowerModel and
// the Evaluator so that both describe and filter multipliers alike.
//
// Thread-safety: pure functions.
#ifndef TRANSAXX_LIBS_RPC_V1_MULTIPLIERS_H_
#define TRANSAXX_LIBS_RPC_V1_MULTIPLIERS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/approx/error_metrics.h"
#include "libs/approx/multiplier.h"
#include "libs/approx/structure.h"
#include "transaxx/v1/common.pb.h"

namespace transaxx::rpc {

v1::Signedness SignednessToProto(approx::Signedness s);

// Everything of MultiplierInfo but `hardware`: reference, family,
// parameters parsed from the id, signedness, description, source, error
// figures and structure. A failed structure analysis is listed as
// KERNEL_PATH_UNSPECIFIED with the reason as description: listing a
// multiplier must not fail because its kernel path is unknown.
void FillMultiplierInfo(const approx::Multiplier& m, const std::string& description,
                        const std::string& source, const approx::ErrorReport& errors,
                        const absl::StatusOr<approx::Structure>& structure,
                        v1::MultiplierInfo* out);

// OK for a usable id glob; INVALID_ARGUMENT naming filter.id_globs[index]
// for an empty one or one with an unclosed '[' (which fnmatch would read
// literally, silently matching nothing).
absl::Status CheckIdGlob(const std::string& glob, int index);

// Whether `m` passes the filter (an unset field passes everything).
bool MatchesFilter(const v1::MultiplierFilter& filter, const approx::Multiplier& m);

}  // namespace transaxx::rpc

#endif  // TRANSAXX_LIBS_RPC_V1_MULTIPLIERS_H_
