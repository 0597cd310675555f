#include "libs/search/search_space.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace transaxx::search {

double SearchSpace::size() const {
  return std::pow(static_cast<double>(candidates()), static_cast<double>(decisions()));
}

double SearchSpace::RelativePower(const Assignment& a) const {
  double saved = 0;
  for (size_t d = 0; d < saving.size(); ++d) saved += saving[d][a[d]];
  return 1.0 - saved;
}

absl::Status ValidateSpace(const SearchSpace& space) {
  if (space.saving.empty()) {
    return absl::InvalidArgumentError("search space: no decision to search");
  }
  const size_t candidates = space.saving[0].size();
  if (candidates == 0) {
    return absl::InvalidArgumentError("search space: no candidate multiplier");
  }
  if (space.mac_fraction.size() != space.saving.size()) {
    return absl::InvalidArgumentError(absl::StrCat("search space: ", space.mac_fraction.size(),
                                                   " MAC fractions for ", space.saving.size(),
                                                   " decisions"));
  }
  for (size_t d = 0; d < space.saving.size(); ++d) {
    const std::vector<double>& row = space.saving[d];
    if (row.size() != candidates) {
      return absl::InvalidArgumentError(absl::StrCat("search space: decision ", d, " has ",
                                                     row.size(), " candidates, decision 0 has ",
                                                     candidates));
    }
    // Choice 0 is exact by definition; a non-zero saving there would make
    // the all-exact assignment's power differ from 1.
    if (row[0] != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("search space: decision ", d, " saves ", row[0], " on exact (must be 0)"));
    }
    for (size_t c = 0; c < row.size(); ++c) {
      if (!std::isfinite(row[c])) {
        return absl::InvalidArgumentError(absl::StrCat("search space: saving of decision ", d,
                                                       " candidate ", c, " is not finite"));
      }
    }
    // A small tolerance: callers compute shares as MAC_d / MAC_total.
    const double w = space.mac_fraction[d];
    if (!std::isfinite(w) || w < 0 || w > 1 + 1e-9) {
      return absl::InvalidArgumentError(
          absl::StrCat("search space: MAC fraction of decision ", d, " is ", w, ", not in [0, 1]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateAssignment(const SearchSpace& space, const Assignment& a) {
  if (static_cast<int>(a.size()) != space.decisions()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "assignment has ", a.size(), " choices, the space has ", space.decisions(), " decisions"));
  }
  for (size_t d = 0; d < a.size(); ++d) {
    if (a[d] < 0 || a[d] >= space.candidates()) {
      return absl::InvalidArgumentError(absl::StrCat("assignment choice ", a[d], " of decision ", d,
                                                     " is not in [0, ", space.candidates(), ")"));
    }
  }
  return absl::OkStatus();
}

std::string AssignmentKey(const Assignment& a) { return absl::StrJoin(a, "."); }

}  // namespace transaxx::search
