// The multiplier catalog: the default built-in multipliers, tables imported
// from EvoApproxLib-style folders (with the figures the library publishes)
// and users' tables, looked up by ID or glob.
//
// Any valid built-in ID resolves, listed or not ("drum:k=7" is built on
// demand); imported tables resolve only once imported.
//
// Thread-safety: const methods may be called concurrently; Add and Import*
// need exclusive access.
#ifndef TRANSAXX_LIBS_APPROX_CATALOG_H_
#define TRANSAXX_LIBS_APPROX_CATALOG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/approx/multiplier.h"
#include "libs/approx/table_io.h"

namespace transaxx::approx {

struct CatalogEntry {
  Multiplier multiplier;
  // Where it came from: "built-in" or the file it was read from.
  std::string source;
  // The figures its publisher gives (EvoApproxLib), if any.
  std::optional<PublishedFigures> published;
};

// One line for people: "EvoApproxLib circuit NAME" for a published table,
// the family's summary for a built-in ("" for others).
std::string DescribeEntry(const CatalogEntry& entry);
// Where the entry comes from, for listings: the publisher's source for a
// published table ("EvoApproxLib" when it names none), else entry.source.
std::string EntrySourceName(const CatalogEntry& entry);

class Catalog {
 public:
  // The multipliers of DefaultBuiltinIds().
  static Catalog WithBuiltins();

  // Imports every record of DIR/multipliers.json with its table DIR/NAME.lut
  // as "evo:NAME". Errors name the file and the problem (see table_io.h);
  // on error nothing is added. ALREADY_EXISTS if a name is imported twice.
  absl::Status ImportEvoApprox(const std::string& dir);

  // Adds an entry. ALREADY_EXISTS when its ID is taken.
  absl::Status Add(CatalogEntry entry);

  // The entry with `id`, or a built-in ID made on demand. NOT_FOUND for
  // unknown imported IDs; INVALID_ARGUMENT for malformed built-in IDs.
  absl::StatusOr<CatalogEntry> Get(absl::string_view id) const;

  // Every listed entry, in the order added.
  const std::vector<CatalogEntry>& entries() const { return entries_; }

  // Listed entries whose ID matches the shell glob `pattern` ("evo:mul8s_*").
  std::vector<CatalogEntry> Match(absl::string_view pattern) const;

 private:
  std::vector<CatalogEntry> entries_;
  std::map<std::string, size_t, std::less<>> by_id_;
};

}  // namespace transaxx::approx

#endif  // TRANSAXX_LIBS_APPROX_CATALOG_H_
