// Keeps registrations.search_name in step with domain::NormalizeForSearch.
//
// The search form is computed in C++ when a registration is stored, and each row records the
// version of the rules that computed it (registrations.search_version). When the rules change
// (domain::kSearchNormalizationVersion is raised), the rows stored before must be recomputed, and
// a SQL migration cannot run C++: the server calls RenormalizeAll at start-up, after the
// migrations and before it serves.
#ifndef TURNOUT_SERVER_STORE_SEARCH_NAMES_H_
#define TURNOUT_SERVER_STORE_SEARCH_NAMES_H_

#include <cstdint>
#include <pqxx/pqxx>

#include "absl/status/statusor.h"

namespace turnout::store {

class PgSearchNames {
 public:
  // Recomputes the search form of every registration whose search_version is older than
  // domain::kSearchNormalizationVersion, in transactions of at most `batch` rows so that no lock is
  // held long. Returns the number of rows updated (0 once every row is current). Safe when
  // replicas start together: a row is updated only while its version is older, and every replica
  // computes the same form.
  static absl::StatusOr<int64_t> RenormalizeAll(pqxx::connection& conn, int batch = 500);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_SEARCH_NAMES_H_
