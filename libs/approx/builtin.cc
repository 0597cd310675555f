#include "libs/approx/builtin.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/approx/families/families.h"
#include "libs/approx/multiplier_id.h"

namespace transaxx::approx {
namespace {

const Family* FindFamily(absl::string_view name) {
  for (const Family& f : BuiltinFamilies()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string FamilyNames() {
  std::vector<std::string> names;
  for (const Family& f : BuiltinFamilies()) names.push_back(f.name);
  return absl::StrJoin(names, ", ");
}

// Checks `given` against the family's specs and fills in defaults.
absl::StatusOr<Params> ResolveParams(const Family& family, const Params& given,
                                     absl::string_view id) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("bad multiplier id '", id, "': ", why));
  };
  for (const auto& [key, value] : given) {
    bool known = false;
    for (const ParamSpec& spec : family.params) known |= spec.key == key;
    if (!known) {
      std::vector<std::string> keys;
      for (const ParamSpec& spec : family.params) keys.push_back(spec.key);
      return bad(absl::StrCat("family '", family.name, "' has no parameter '", key, "'",
                              keys.empty() ? " (it takes none)"
                                           : absl::StrCat(" (it takes ", absl::StrJoin(keys, ", "), ")")));
    }
  }
  Params resolved;
  for (const ParamSpec& spec : family.params) {
    auto it = given.find(spec.key);
    if (it == given.end()) {
      if (!spec.default_value) {
        return bad(absl::StrCat("missing ", spec.key, " (", spec.meaning, ", ", spec.min, "..",
                                spec.max, ")"));
      }
      resolved[spec.key] = *spec.default_value;
      continue;
    }
    if (it->second < spec.min || it->second > spec.max) {
      return bad(absl::StrCat(spec.key, "=", it->second, " is out of range ", spec.min, "..",
                              spec.max, " (", spec.meaning, ")"));
    }
    resolved[spec.key] = it->second;
  }
  if (family.check) {
    if (std::string why = family.check(resolved); !why.empty()) return bad(why);
  }
  return resolved;
}

std::string CanonicalId(const Family& family, const Params& params) {
  std::vector<std::string> parts;
  for (const ParamSpec& spec : family.params) {
    const int value = params.at(spec.key);
    if (!spec.default_value || value != *spec.default_value) {
      parts.push_back(absl::StrCat(spec.key, "=", value));
    }
  }
  return parts.empty() ? family.name : absl::StrCat(family.name, ":", absl::StrJoin(parts, ","));
}

}  // namespace

const std::vector<Family>& BuiltinFamilies() {
  static const std::vector<Family>* families = new std::vector<Family>{
      families::Exact(),    families::Mask(), families::BrokenArray(), families::Perforation(),
      families::Drum(),     families::Mitchell(), families::Roba(),    families::Kulkarni()};
  return *families;
}

absl::StatusOr<Multiplier> MakeBuiltin(absl::string_view id) {
  absl::StatusOr<BuiltinId> parsed = ParseBuiltinId(id);
  if (!parsed.ok()) return parsed.status();
  const Family* family = FindFamily(parsed->family);
  if (family == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown multiplier family '", parsed->family,
                                                   "' in '", id, "'; built-in families: ",
                                                   FamilyNames()));
  }
  absl::StatusOr<Params> params = ResolveParams(*family, parsed->params, id);
  if (!params.ok()) return params.status();
  Table table;
  for (int a = -128; a < 128; ++a) {
    for (int b = -128; b < 128; ++b) table[TableIndex(a, b)] = family->product(a, b, *params);
  }
  return Multiplier::Create(CanonicalId(*family, *params), Signedness::kSigned, table);
}

std::vector<std::string> DefaultBuiltinIds() {
  return {"exact",
          "mask:a=1",       "mask:a=1,b=1",   "mask:a=3",      "mask:a=3,b=3",
          "mask:a=7",       "mask:a=7,b=7",
          "bam:h=0,v=4",    "bam:h=0,v=6",    "bam:h=0,v=8",   "bam:h=1,v=6",
          "bam:h=2,v=8",
          "perf:m=1",       "perf:m=2",       "perf:m=3",      "perf:m=1,j=1",
          "drum:k=3",       "drum:k=4",       "drum:k=5",      "drum:k=6",
          "mitchell",       "roba",           "kulkarni"};
}

}  // namespace transaxx::approx
