// server/store/query.h against a real PostgreSQL: a Query is prepared on a connection the first
// time it runs there and reused after (also in a later transaction, and after a failed one),
// columns are read by name, and a stored enum round-trips through domain::Stored/FromStored.
#include "server/store/query.h"

#include <pqxx/pqxx>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"
#include "server/domain/stored.h"
#include "tests/support/test_postgres.h"

namespace turnout::store {
namespace {

enum class Colour { kRed = 1, kGreen = 2, kBlue = 3 };

constexpr Query kEcho{"query_test_echo", "SELECT $1::int AS n, $2::text AS word"};
constexpr Query kNull{"query_test_null", "SELECT NULL::bigint AS missing"};
constexpr Query kBroken{"query_test_broken", "SELECT 1 / $1::int AS quotient"};
constexpr Query kPrepared{"query_test_prepared",
                          "SELECT count(*) AS n FROM pg_prepared_statements WHERE name = $1"};

}  // namespace
}  // namespace turnout::store

namespace turnout::domain {
template <>
struct StoredRange<store::Colour> {
  static constexpr int kFirst = 1, kLast = 3;
};
}  // namespace turnout::domain

namespace turnout::store {
namespace {

class QueryTest : public ::testing::Test {
 protected:
  pqxx::connection conn_{testing::TestPostgres::Get().NewDatabase()};
};

TEST_F(QueryTest, RunsAndReadsColumnsByName) {
  pqxx::work txn(conn_);
  pqxx::result r = store::Run(txn, kEcho, 7, std::string("seven"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Column<int>(r[0], "n"), 7);
  EXPECT_EQ(Column<std::string>(r[0], "word"), "seven");
  EXPECT_THROW(Column<int>(r[0], "no_such_column"), std::exception);
}

TEST_F(QueryTest, PreparesOnceAndReusesAcrossTransactions) {
  for (int i = 0; i < 3; ++i) {
    pqxx::work txn(conn_);
    EXPECT_EQ(Column<int>(store::Run(txn, kEcho, i, std::string("x"))[0], "n"), i);
    EXPECT_EQ(Column<int64_t>(store::Run(txn, kPrepared, std::string(kEcho.name))[0], "n"), 1);
    txn.commit();
  }
}

TEST_F(QueryTest, StillRunsAfterAFailedTransaction) {
  {
    pqxx::work txn(conn_);
    EXPECT_THROW(store::Run(txn, kBroken, 0), pqxx::sql_error);  // division by zero
  }
  pqxx::work txn(conn_);
  EXPECT_EQ(Column<int>(store::Run(txn, kBroken, 2)[0], "quotient"), 0);
}

TEST_F(QueryTest, ColumnOrGivesTheFallbackForNull) {
  pqxx::work txn(conn_);
  EXPECT_EQ(ColumnOr<int64_t>(store::Run(txn, kNull)[0], "missing", -1), -1);
}

TEST_F(QueryTest, StoredEnumsRoundTripAndRefuseUnknownNumbers) {
  pqxx::work txn(conn_);
  const int stored = Column<int>(store::Run(txn, kEcho, domain::Stored(Colour::kGreen), std::string())[0], "n");
  EXPECT_EQ(domain::FromStored<Colour>(stored), Colour::kGreen);
  EXPECT_THROW(domain::FromStored<Colour>(0), std::out_of_range);
  EXPECT_THROW(domain::FromStored<Colour>(4), std::out_of_range);
}

}  // namespace
}  // namespace turnout::store
