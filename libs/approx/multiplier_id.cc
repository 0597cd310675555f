#include "libs/approx/multiplier_id.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace transaxx::approx {

bool IsImportedFamily(absl::string_view family) { return family == "evo" || family == "user"; }

absl::StatusOr<BuiltinId> ParseBuiltinId(absl::string_view id) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad multiplier id '", id, "': ", why, " (expected FAMILY or FAMILY:KEY=VALUE,...)"));
  };
  BuiltinId out;
  const size_t colon = id.find(':');
  out.family = std::string(id.substr(0, colon));
  if (out.family.empty()) return bad("empty family");
  if (colon == absl::string_view::npos) return out;
  const absl::string_view rest = id.substr(colon + 1);
  if (rest.empty()) return bad("nothing after ':'");
  for (absl::string_view part : absl::StrSplit(rest, ',')) {
    std::vector<absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty()) return bad(absl::StrCat("'", part, "' is not KEY=VALUE"));
    int value = 0;
    if (!absl::SimpleAtoi(kv[1], &value)) {
      return bad(absl::StrCat("value of '", kv[0], "' is not an integer"));
    }
    if (!out.params.emplace(std::string(kv[0]), value).second) {
      return bad(absl::StrCat("'", kv[0], "' given twice"));
    }
  }
  return out;
}

}  // namespace transaxx::approx
