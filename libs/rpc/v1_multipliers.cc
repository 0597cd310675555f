#include "libs/rpc/v1_multipliers.h"

#include <fnmatch.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/rpc/v1_enums.h"

namespace transaxx::rpc {
namespace {

void FillErrors(const approx::ErrorFigures& f, v1::ErrorFigures* out) {
  out->set_mae(f.mae);
  out->set_wce(f.wce);
  out->set_wcre(f.wcre_pct / 100);
  out->set_ep(f.ep_pct / 100);
  out->set_mre(f.mre_pct / 100);
  out->set_mse(f.mse);
  out->set_mred(f.mred);
  out->set_nmed(f.nmed);
  out->set_mean_error(f.mean_error);
  out->set_pair_count(f.pairs);
}

void FillStructure(const absl::StatusOr<approx::Structure>& s, v1::MultiplierStructure* out) {
  if (!s.ok()) {
    out->set_description(absl::StrCat("structure analysis failed: ", s.status().message()));
    return;
  }
  out->set_kernel_path(KernelPathToProto(s->path));
  if (s->path == approx::KernelPath::kLowRank) out->set_decomposition_rank(s->decomposition->rank);
  out->set_description(s->Describe());
}

}  // namespace

v1::Signedness SignednessToProto(approx::Signedness s) {
  return s == approx::Signedness::kSigned ? v1::SIGNEDNESS_SIGNED : v1::SIGNEDNESS_UNSIGNED;
}

void FillMultiplierInfo(const approx::Multiplier& m, const std::string& description,
                        const std::string& source, const approx::ErrorReport& errors,
                        const absl::StatusOr<approx::Structure>& structure,
                        v1::MultiplierInfo* out) {
  out->mutable_ref()->set_id(m.id());
  out->mutable_ref()->set_content_hash(m.content_hash());
  out->set_family(m.family());
  const auto colon = m.id().find(':');
  if (colon != std::string::npos) {
    const std::string rest = m.id().substr(colon + 1);
    if (m.family() == "evo" || m.family() == "user") {
      (*out->mutable_parameters())["name"] = rest;
    } else {
      for (absl::string_view kv : absl::StrSplit(rest, ',')) {
        std::pair<std::string, std::string> p = absl::StrSplit(kv, absl::MaxSplits('=', 1));
        (*out->mutable_parameters())[p.first] = p.second;
      }
    }
  }
  out->set_signedness(SignednessToProto(m.signedness()));
  out->set_description(description);
  out->set_source(source);
  FillErrors(errors.full, out->mutable_full_range());
  out->mutable_full_range()->set_error_rank(errors.error_rank);
  FillErrors(errors.narrow, out->mutable_narrow_range());
  FillStructure(structure, out->mutable_structure());
}

absl::Status CheckIdGlob(const std::string& glob, int index) {
  const std::string field = absl::StrCat("filter.id_globs[", index, "]");
  if (glob.empty()) return absl::InvalidArgumentError(field + ": empty glob");
  for (size_t k = 0; k < glob.size(); ++k) {
    if (glob[k] == '\\') {
      ++k;
    } else if (glob[k] == '[') {
      size_t close = glob.find(']', k + 2);
      if (close == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": '", glob, "' has a '[' without its ']'"));
      }
      k = close;
    }
  }
  return absl::OkStatus();
}

bool MatchesFilter(const v1::MultiplierFilter& f, const approx::Multiplier& m) {
  if (f.signedness() != v1::SIGNEDNESS_UNSPECIFIED &&
      f.signedness() != SignednessToProto(m.signedness())) {
    return false;
  }
  if (!f.families().empty() &&
      std::find(f.families().begin(), f.families().end(), m.family()) == f.families().end()) {
    return false;
  }
  if (f.id_globs().empty()) return true;
  return std::any_of(f.id_globs().begin(), f.id_globs().end(), [&](const std::string& g) {
    return fnmatch(g.c_str(), m.id().c_str(), 0) == 0;
  });
}

}  // namespace transaxx::rpc
