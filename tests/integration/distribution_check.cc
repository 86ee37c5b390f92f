#include "tests/integration/distribution_check.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace turnout::testing {
namespace {

struct UniqueIndex {
  std::string name;
  bool primary = false;
  std::vector<std::string> columns;  // key columns in order; "(expression)" for an expression
};

struct ForeignKey {
  std::string name;
  std::string referenced_table;
  std::vector<std::string> columns;             // in the referencing table
  std::vector<std::string> referenced_columns;  // paired with `columns`
};

struct Table {
  std::vector<UniqueIndex> unique_indexes;
  std::vector<ForeignKey> foreign_keys;
};

std::vector<std::string> Columns(const pqxx::field& f) {
  return absl::StrSplit(f.as<std::string>(), ',', absl::SkipEmpty());
}

// The schema's tables, by name, with their unique indexes (primary keys and unique constraints
// have one each) and foreign keys.
std::map<std::string, Table> ReadCatalog(pqxx::transaction_base& txn, const std::string& schema) {
  std::map<std::string, Table> tables;
  for (const pqxx::row& r : txn.exec_params(R"(
           SELECT relname FROM pg_class
           WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p'))",
                                            schema)) {
    tables[r[0].as<std::string>()];
  }
  for (const pqxx::row& r : txn.exec_params(R"(
           SELECT t.relname, i.relname, x.indisprimary,
                  string_agg(coalesce(a.attname, '(expression)'), ',' ORDER BY k.ord)
           FROM pg_index x
           JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           CROSS JOIN unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
           WHERE t.relnamespace = $1::regnamespace AND t.relkind IN ('r', 'p') AND x.indisunique
             AND k.ord <= x.indnkeyatts
           GROUP BY t.relname, i.relname, x.indisprimary
           ORDER BY t.relname, i.relname)",
                                            schema)) {
    tables[r[0].as<std::string>()].unique_indexes.push_back(
        {r[1].as<std::string>(), r[2].as<bool>(), Columns(r[3])});
  }
  for (const pqxx::row& r : txn.exec_params(R"(
           SELECT t.relname, con.conname, rt.relname,
                  string_agg(a.attname, ',' ORDER BY k.ord),
                  string_agg(ra.attname, ',' ORDER BY k.ord)
           FROM pg_constraint con
           JOIN pg_class t ON t.oid = con.conrelid
           JOIN pg_class rt ON rt.oid = con.confrelid
           CROSS JOIN unnest(con.conkey, con.confkey) WITH ORDINALITY k(attnum, ref_attnum, ord)
           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
           JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_attnum
           WHERE con.contype = 'f' AND t.relnamespace = $1::regnamespace
           GROUP BY t.relname, con.conname, rt.relname
           ORDER BY t.relname, con.conname)",
                                            schema)) {
    tables[r[0].as<std::string>()].foreign_keys.push_back(
        {r[1].as<std::string>(), r[2].as<std::string>(), Columns(r[3]), Columns(r[4])});
  }
  return tables;
}

bool IsGlobal(const std::string& table) {
  const std::vector<std::string>& global = GlobalTables();
  return std::find(global.begin(), global.end(), table) != global.end();
}

std::string DistributionColumn(const std::string& table) {
  return table == "events" ? "id" : "event_id";
}

bool Contains(const std::vector<std::string>& columns, const std::string& column) {
  return std::find(columns.begin(), columns.end(), column) != columns.end();
}

std::string List(const std::vector<std::string>& columns) {
  return absl::StrCat("(", absl::StrJoin(columns, ", "), ")");
}

// Whether `fk` pairs the distribution column of its table with that of the table it references.
bool PairsDistributionColumns(const std::string& table, const ForeignKey& fk) {
  for (size_t i = 0; i < fk.columns.size(); ++i) {
    if (fk.columns[i] == DistributionColumn(table) &&
        fk.referenced_columns[i] == DistributionColumn(fk.referenced_table)) {
      return true;
    }
  }
  return false;
}

void CheckDistributed(const std::string& name, const Table& table,
                      std::vector<std::string>& breaches) {
  const std::string column = DistributionColumn(name);
  const bool has_primary_key = std::any_of(table.unique_indexes.begin(), table.unique_indexes.end(),
                                           [](const UniqueIndex& i) { return i.primary; });
  if (!has_primary_key) {
    breaches.push_back(
        absl::StrCat("table ", name, ": has no primary key; it must start with ", column));
  }
  for (const UniqueIndex& index : table.unique_indexes) {
    if (index.primary && index.columns.front() != column) {
      breaches.push_back(absl::StrCat("table ", name, ": primary key ", index.name, " ",
                                      List(index.columns), " does not start with ", column));
    } else if (!index.primary && !Contains(index.columns, column)) {
      breaches.push_back(absl::StrCat("table ", name, ": unique constraint or index ", index.name,
                                      " ", List(index.columns), " does not include ", column));
    }
  }
  for (const ForeignKey& fk : table.foreign_keys) {
    if (IsGlobal(fk.referenced_table) || PairsDistributionColumns(name, fk)) continue;
    breaches.push_back(absl::StrCat(
        "table ", name, ": foreign key ", fk.name, " ", List(fk.columns), " -> ",
        fk.referenced_table, " ", List(fk.referenced_columns), " does not pair ", column, " with ",
        fk.referenced_table, ".", DistributionColumn(fk.referenced_table)));
  }
}

void CheckGlobal(const std::string& name, const Table& table, std::vector<std::string>& breaches) {
  for (const ForeignKey& fk : table.foreign_keys) {
    if (IsGlobal(fk.referenced_table)) continue;
    breaches.push_back(absl::StrCat("global table ", name, ": foreign key ", fk.name,
                                    " references the distributed table ", fk.referenced_table));
  }
}

}  // namespace

const std::vector<std::string>& GlobalTables() {
  static const auto* tables =
      new std::vector<std::string>{"schema_migrations", "signing_keys", "tokens"};
  return *tables;
}

std::vector<std::string> DistributionBreaches(pqxx::transaction_base& txn,
                                              const std::string& schema) {
  std::vector<std::string> breaches;
  for (const auto& [name, table] : ReadCatalog(txn, schema)) {
    if (IsGlobal(name)) {
      CheckGlobal(name, table, breaches);
    } else {
      CheckDistributed(name, table, breaches);
    }
  }
  return breaches;
}

}  // namespace turnout::testing
