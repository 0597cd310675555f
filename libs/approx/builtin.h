// Built-in multiplier families, implemented by this project from their
// published definitions (see families/*.cc for each citation), and the
// factory that turns a built-in ID into a Multiplier.
//
// Every built-in multiplier is signed: it multiplies int8 operands
// (-128..127). Families defined on unsigned operands run on the operands'
// magnitudes (0..128) and take the sign of the exact product
// (sign-magnitude), as an unsigned circuit behind a sign unit would.
//
// Thread-safety: the registry is immutable; every function may be called
// from any thread.
#ifndef TRANSAXX_LIBS_APPROX_BUILTIN_H_
#define TRANSAXX_LIBS_APPROX_BUILTIN_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/multiplier.h"

namespace transaxx::approx {

struct ParamSpec {
  std::string key;
  int min = 0;
  int max = 0;
  // Parameters without a default are required and always part of the ID;
  // ones with a default appear in the canonical ID only when they differ.
  std::optional<int> default_value;
  std::string meaning;
};

using Params = std::map<std::string, int>;

struct Family {
  std::string name;
  // One line: what it is and where it was published.
  std::string summary;
  std::vector<ParamSpec> params;
  // The product of int8 values a and b, both in -128..127.
  // REQUIRES: `params` holds every key of `params` specs, within range.
  std::function<int32_t(int a, int b, const Params& params)> product;
  // Checks beyond the ranges; returns "" or what is wrong. Optional.
  std::function<std::string(const Params& params)> check;
};

// Every built-in family, in a fixed order.
const std::vector<Family>& BuiltinFamilies();

// The multiplier of a built-in ID, with its canonical ID (parameters in spec
// order, defaults left out), e.g. "mask:b=1,a=1" -> "mask:a=1,b=1".
// INVALID_ARGUMENT for an unknown family or key, a missing required or an
// out-of-range parameter, each named with the accepted values.
absl::StatusOr<Multiplier> MakeBuiltin(absl::string_view id);

// The IDs of the built-in multipliers listed by default: a spread of
// parameters per family from nearly exact to coarse.
std::vector<std::string> DefaultBuiltinIds();

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_BUILTIN_H_
