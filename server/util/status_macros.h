// Small status helpers: abseil 20220623 has no status macros, so we keep the two we need here.
//
//   RETURN_IF_ERROR(DoThing());
//   ASSIGN_OR_RETURN(auto value, ComputeValue());
#ifndef TURNOUT_SERVER_UTIL_STATUS_MACROS_H_
#define TURNOUT_SERVER_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TURNOUT_CONCAT_INNER(a, b) a##b
#define TURNOUT_CONCAT(a, b) TURNOUT_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                             \
  do {                                                    \
    if (absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(TURNOUT_CONCAT(_statusor_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

#endif  // TURNOUT_SERVER_UTIL_STATUS_MACROS_H_
