// The shared connection flags of the tools; see connection.h.
#include "tools/common/connection.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, server, "localhost:7443", "Turnout server address");
ABSL_FLAG(std::string, token, "",
          "bearer token; default: $TURNOUT_TOKEN, else the contents of --token_file");
ABSL_FLAG(std::string, token_file, turnout::tools::kDefaultTokenFile,
          "file holding the bearer token");
ABSL_FLAG(bool, tls, false, "connect with TLS");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM roots to verify the server with (implies --tls)");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "deadline of each call");

namespace turnout::tools {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

absl::StatusOr<std::string> ResolveToken() {
  if (std::string token = absl::GetFlag(FLAGS_token); !token.empty()) return token;
  if (const char* env = std::getenv("TURNOUT_TOKEN"); env != nullptr && *env != '\0') return env;
  const std::string path = absl::GetFlag(FLAGS_token_file);
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (absl::IsNotFound(contents.status()) && path == kDefaultTokenFile) return std::string();
  if (!contents.ok()) return contents.status();
  return std::string(absl::StripAsciiWhitespace(*contents));
}

absl::StatusOr<client::ClientOptions> ClientOptionsFromFlags() {
  absl::StatusOr<std::string> token = ResolveToken();
  if (!token.ok()) return token.status();
  client::ClientOptions options;
  options.target = absl::GetFlag(FLAGS_server);
  options.token = *token;
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.use_tls = absl::GetFlag(FLAGS_tls);
  if (const std::string ca_file = absl::GetFlag(FLAGS_tls_ca_file); !ca_file.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(ca_file);
    if (!pem.ok()) return pem.status();
    options.use_tls = true;
    options.tls_root_certs_pem = *pem;
  }
  return options;
}

}  // namespace turnout::tools
