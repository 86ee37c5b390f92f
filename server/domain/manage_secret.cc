#include "server/domain/manage_secret.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/domain/base32.h"

namespace turnout::domain {

std::string NewManageSecret() {
  static const bool initialised = [] {
    if (sodium_init() < 0) std::abort();  // no randomness: no secret could be issued safely
    return true;
  }();
  (void)initialised;
  std::array<uint8_t, kManageSecretRandomBytes> random;
  randombytes_buf(random.data(), random.size());
  return absl::StrCat(kManageSecretPrefix, Base32Encode(random));
}

absl::StatusOr<std::string> ParseManageSecret(absl::string_view field, absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const std::string upper = absl::AsciiStrToUpper(text);
  absl::string_view body = upper;
  if (text.size() != kManageSecretLength || !absl::ConsumePrefix(&body, "TNM_") ||
      !Base32Decode(body).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field,
        ": is not a manage secret (\"tnm_\" and 32 letters and digits, as printed on the "
        "registration's confirmation); a ticket code goes in ticket_code"));
  }
  return absl::StrCat(kManageSecretPrefix, body);
}

}  // namespace turnout::domain
