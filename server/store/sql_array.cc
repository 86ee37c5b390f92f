#include "server/store/sql_array.h"

#include "absl/strings/str_cat.h"

namespace turnout::store {

void SqlArray::Separate() {
  if (size_++ > 0) elements_.push_back(',');
}

void SqlArray::AddInt(int64_t value) {
  Separate();
  absl::StrAppend(&elements_, value);
}

void SqlArray::AddBool(bool value) {
  Separate();
  elements_.push_back(value ? 't' : 'f');
}

void SqlArray::AddText(absl::string_view text) {
  Separate();
  elements_.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') elements_.push_back('\\');
    elements_.push_back(c);
  }
  elements_.push_back('"');
}

void SqlArray::AddNull() {
  Separate();
  absl::StrAppend(&elements_, "NULL");
}

}  // namespace turnout::store
