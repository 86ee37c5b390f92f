// Whether a schema can be distributed by event (deploy/SCALING.md, "Distribution by event"), read
// from PostgreSQL's catalog. Every table but the global ones is distributed by event: `events` by
// `id`, every other table by `event_id`, co-located. So:
//   - its primary key starts with its distribution column;
//   - each of its unique constraints and unique indexes includes that column;
//   - each of its foreign keys to another distributed table pairs that column with the other's
//     (a foreign key to a global table, which is a reference table, is allowed);
// and a global table has no foreign key to a distributed table (a reference table cannot have one).
#ifndef TURNOUT_TESTS_INTEGRATION_DISTRIBUTION_CHECK_H_
#define TURNOUT_TESTS_INTEGRATION_DISTRIBUTION_CHECK_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace turnout::testing {

// The tables that are not distributed: Citus reference tables, and the migrations' bookkeeping.
const std::vector<std::string>& GlobalTables();

// One sentence per breach of the rules above in `schema`, naming the table and the constraint or
// index, in table order; empty when the schema can be distributed.
std::vector<std::string> DistributionBreaches(pqxx::transaction_base& txn,
                                              const std::string& schema);

}  // namespace turnout::testing

#endif  // TURNOUT_TESTS_INTEGRATION_DISTRIBUTION_CHECK_H_
