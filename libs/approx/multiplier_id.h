// Multiplier IDs: `FAMILY` or `FAMILY:KEY=VALUE[,KEY=VALUE...]` for built-in
// families (`exact`, `mask:a=1,b=1`, `bam:h=0,v=6`, `drum:k=6`), and
// `SOURCE:NAME` for imported tables (`evo:mul8s_1L2J`, `user:my_mult`).
//
// Thread-safety: plain values and pure functions.
#ifndef TRANSAXX_LIBS_APPROX_MULTIPLIER_ID_H_
#define TRANSAXX_LIBS_APPROX_MULTIPLIER_ID_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace transaxx::approx {

// A parsed built-in ID: the family and its integer parameters.
struct BuiltinId {
  std::string family;
  std::map<std::string, int> params;
};

// Splits "family:k=v,k=v" into its parts. INVALID_ARGUMENT naming the ID for
// an empty family, a parameter without '=', a non-integer value, an empty or
// repeated key. Whether the family and keys exist is the families' business.
absl::StatusOr<BuiltinId> ParseBuiltinId(absl::string_view id);

// Families whose IDs name an imported table rather than parameters.
bool IsImportedFamily(absl::string_view family);

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_MULTIPLIER_ID_H_
