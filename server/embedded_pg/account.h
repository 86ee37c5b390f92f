// The operating-system account that runs initdb and postgres. PostgreSQL refuses to run as
// root: started by root, the supervisor runs it as an unprivileged system user (created with
// useradd --system if missing) that owns the cluster's directories; otherwise it runs as the
// current user. Either way the account's name is the database role.
//
//   absl::StatusOr<AccountChoice> choice = ChooseAccount(geteuid(), options.system_user);
//   absl::StatusOr<Account> account = choice->run_as_system_user
//       ? EnsureSystemUser(choice->system_user) : CurrentAccount();
#ifndef TURNOUT_SERVER_EMBEDDED_PG_ACCOUNT_H_
#define TURNOUT_SERVER_EMBEDDED_PG_ACCOUNT_H_

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::embedded_pg {

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Who runs postgres, decided from the effective uid alone.
struct AccountChoice {
  bool run_as_system_user = false;  // we are root: switch to `system_user` for initdb and postgres
  std::string system_user;          // set when run_as_system_user
};

// Root runs postgres as `system_user` (InvalidArgument if that is not a valid user name); anyone
// else runs it as themselves and `system_user` is not used.
absl::StatusOr<AccountChoice> ChooseAccount(uid_t euid, absl::string_view system_user);

// A name useradd accepts everywhere: [a-z_][a-z0-9_-]*, at most 32 bytes.
bool IsValidUserName(absl::string_view name);

// The account we run as (FailedPrecondition if the uid has no passwd entry).
absl::StatusOr<Account> CurrentAccount();

// Returns the system account `name`, creating it (useradd --system) if missing.
// FailedPrecondition, saying how to create it by hand, if that fails.
absl::StatusOr<Account> EnsureSystemUser(const std::string& name);

// Every directory from / down to `dir`: "/a/b" gives {"/", "/a", "/a/b"}.
std::vector<std::string> PathChain(const std::filesystem::path& dir);

// Checks, as `account`, that every directory from / down to `dir` can be entered.
// FailedPrecondition naming the first one that cannot, and how to fix it.
absl::Status CheckReachable(const std::filesystem::path& dir, const Account& account);

// Creates `path` (mode 0700) if missing; when `run_as` is set (we are root), gives it and
// everything below it to that account.
absl::Status MakePrivateDir(const std::filesystem::path& path, const Account* run_as);

}  // namespace turnout::embedded_pg

#endif  // TURNOUT_SERVER_EMBEDDED_PG_ACCOUNT_H_
