// What a bearer token may do. The numbers are turnout.v1.Role's and the ones stored in tokens.role
// (domain/stored.h).
#ifndef TURNOUT_SERVER_DOMAIN_ROLE_H_
#define TURNOUT_SERVER_DOMAIN_ROLE_H_

#include "server/domain/stored.h"

namespace turnout::domain {

// kNone is the anonymous caller's role; it is never stored.
enum class Role { kNone = 0, kAdmin = 1, kOrganizer = 2, kDoor = 3, kDashboard = 4 };
template <>
struct StoredRange<Role> {
  static constexpr int kFirst = 1, kLast = 4;
};

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_ROLE_H_
