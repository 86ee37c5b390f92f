// The versioned schema. Migrations are applied in order at start-up; an applied one never changes.
#ifndef TURNOUT_SERVER_STORE_MIGRATIONS_H_
#define TURNOUT_SERVER_STORE_MIGRATIONS_H_

#include <vector>

namespace turnout::store {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

const std::vector<Migration>& Migrations();

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_MIGRATIONS_H_
