#include "server/store/query.h"

#include <string>

namespace turnout::store {

void Declare(pqxx::connection_base& conn, const Query& query) {
  conn.prepare(query.name, query.sql);
}

}  // namespace turnout::store
