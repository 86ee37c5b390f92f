// How a store names and runs its SQL: one `Query` constant per statement, defined next to the
// store that runs it, with the struct of the row it returns and one reader for that row.
//
//   constexpr Query kStaleNames{"search_names_stale", R"(
//       SELECT event_id, id, display_name FROM registrations WHERE ...)"};
//   struct StaleNameRow { int64_t event_id; int64_t id; std::string display_name; };
//   StaleNameRow ReadStaleName(const pqxx::row& r) {
//     return {Column<int64_t>(r, "event_id"), Column<int64_t>(r, "id"),
//             Column<std::string>(r, "display_name")};
//   }
//   for (const pqxx::row& r : Run(txn, kStaleNames, after_event, after_id)) ...
//
// The statement is prepared on a connection the first time it runs there (libpqxx defers the
// PREPARE to the first execution, and declaring an identical definition again is a no-op), so
// there is no list of statements to fill before the pool starts, and a misspelt query is a compile
// error. Columns are read by the name the SELECT gives them, never by position. Stored enums are
// bound as parameters with Stored() (server/domain/stored.h): SQL never writes a status literal.
#ifndef TURNOUT_SERVER_STORE_QUERY_H_
#define TURNOUT_SERVER_STORE_QUERY_H_

#include <array>
#include <cstddef>
#include <pqxx/pqxx>
#include <utility>

namespace turnout::store {

struct Query {
  const char* name;  // unique among the queries; the prepared statement's name
  const char* sql;
};

// The string literals (or other SqlText) joined at compile time, for statements that share a
// column list:
//   constexpr char kEventColumns[] = "e.id, e.title";
//   constexpr auto kGetEventSql = SqlText("SELECT ", kEventColumns, " FROM events e WHERE ...");
//   constexpr Query kGetEvent{"event_get", kGetEventSql.data()};
template <std::size_t... N>
constexpr std::array<char, (N + ...) - sizeof...(N) + 1> SqlText(const char (&... parts)[N]) {
  std::array<char, (N + ...) - sizeof...(N) + 1> text{};
  std::size_t at = 0;
  for (const char* part : {static_cast<const char*>(parts)...}) {
    while (*part != '\0') text[at++] = *part++;
  }
  return text;
}

// Declares `query` on `conn` (a no-op once declared with the same text).
void Declare(pqxx::connection_base& conn, const Query& query);

// Runs `query` with `args` bound to $1..$n.
template <typename... Args>
pqxx::result Run(pqxx::transaction_base& txn, const Query& query, Args&&... args) {
  Declare(txn.conn(), query);
  return txn.exec_prepared(query.name, std::forward<Args>(args)...);
}

// The value of the column the query's SELECT names `name`.
template <typename T>
T Column(const pqxx::row& row, const char* name) {
  return row[name].template as<T>();
}

// The same, or `if_null` when the column is NULL.
template <typename T>
T ColumnOr(const pqxx::row& row, const char* name, const T& if_null) {
  return row[name].template as<T>(if_null);
}

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_QUERY_H_
