// A PostgreSQL array parameter in its text form, for statements that take a whole batch at once
// (`unnest($1::bigint[], $2::text[]) WITH ORDINALITY`): one element per Add call, in order.
//
//   SqlArray ids, names;
//   for (const Row& row : rows) { ids.AddInt(row.id); names.AddText(row.name); }
//   Run(txn, kInsertMany, ids.Text(), names.Text());
//
// Text elements are always quoted and escaped, so any string (commas, quotes, braces, backslashes,
// the word NULL) arrives as itself.
#ifndef TURNOUT_SERVER_STORE_SQL_ARRAY_H_
#define TURNOUT_SERVER_STORE_SQL_ARRAY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace turnout::store {

class SqlArray {
 public:
  void AddInt(int64_t value);
  void AddBool(bool value);
  void AddText(absl::string_view text);
  void AddNull();

  // The literal, e.g. {1,2,NULL} or {"a","b \"quoted\""}.
  std::string Text() const { return "{" + elements_ + "}"; }
  bool empty() const { return size_ == 0; }
  int size() const { return size_; }

 private:
  void Separate();

  std::string elements_;
  int size_ = 0;
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_SQL_ARRAY_H_
