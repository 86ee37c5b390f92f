// The attendance report: one row per registration, with its first entry at each checkpoint and
// its conflicts (offline scans the server overruled), read a page at a time in id order.
#ifndef TURNOUT_SERVER_STORE_REPORT_STORE_H_
#define TURNOUT_SERVER_STORE_REPORT_STORE_H_

#include <cstdint>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace turnout::store {

struct ReportRow {
  int64_t registration_id = 0;
  std::string display_name;
  int status = 0;  // Registration.Status
  int source = 0;  // Registration.Source
  std::map<int64_t, absl::Time> first_entry;  // by checkpoint id; absent: never admitted there
  int64_t conflicts = 0;
};

class PgReportStore {
 public:
  // Registrations with id > after_id, at most `limit`, in id order.
  static std::vector<ReportRow> Page(pqxx::work& txn, int64_t event_id, int64_t after_id,
                                     int limit);
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_REPORT_STORE_H_
