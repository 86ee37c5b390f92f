// The connection flags every Turnout tool shares (--server, --token, --token_file, --tls,
// --tls_ca_file, --deadline) and how they become ClientOptions, so turnoutctl and turnout-scan
// find the server and the token the same way.
//
//   absl::StatusOr<client::ClientOptions> options = ClientOptionsFromFlags();
//   if (options.ok()) client = client::Client::Connect(*options);
//
// The token is --token, else $TURNOUT_TOKEN, else the contents of --token_file (surrounding
// whitespace trimmed).
#ifndef TURNOUT_TOOLS_COMMON_CONNECTION_H_
#define TURNOUT_TOOLS_COMMON_CONNECTION_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client-lib/client.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, token_file);
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(std::string, tls_ca_file);
ABSL_DECLARE_FLAG(absl::Duration, deadline);

namespace turnout::tools {

// Where --token_file points unless it is set: the first ADMIN token deploy/run.sh writes.
inline constexpr char kDefaultTokenFile[] = "./data/admin.token";

// The whole file, or "-" for stdin. NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// --token, else $TURNOUT_TOKEN, else the token file. Empty when none is set and the default token
// file is missing (registering needs no token); an error when a file that was asked for is
// unreadable.
absl::StatusOr<std::string> ResolveToken();

// Server, token, deadline and TLS from the flags above.
absl::StatusOr<client::ClientOptions> ClientOptionsFromFlags();

}  // namespace turnout::tools

#endif  // TURNOUT_TOOLS_COMMON_CONNECTION_H_
