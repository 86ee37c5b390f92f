// Manage secrets: the attendee's proof for their own registration (read the contact fields, change
// breakouts, cancel). The ticket code is shown openly at the door, so it cannot be that proof; a
// manage secret is given to the attendee once, at registration, and the server keeps only a keyed
// hash of it (store::DataKey::Digest).
//
//   std::string secret = NewManageSecret();           // "tnm_" + 32 Base32 characters
//   absl::StatusOr<std::string> given = ParseManageSecret(" tnm_abc...\n");  // canonical form
#ifndef TURNOUT_SERVER_DOMAIN_MANAGE_SECRET_H_
#define TURNOUT_SERVER_DOMAIN_MANAGE_SECRET_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::domain {

inline constexpr absl::string_view kManageSecretPrefix = "tnm_";
inline constexpr int kManageSecretRandomBytes = 20;  // 160 bits: never guessed
// "tnm_" and the Base32 of the random bytes.
inline constexpr size_t kManageSecretLength = 4 + (kManageSecretRandomBytes * 8 + 4) / 5;

// A fresh secret from the system CSPRNG: "tnm_" and 32 upper-case Base32 characters, which a
// person can copy by hand and a QR code holds in its alphanumeric mode (after the prefix).
std::string NewManageSecret();

// The canonical form of a secret as a person may type it: surrounding whitespace trimmed, the
// Base32 part upper-cased. InvalidArgument, naming `field`, for anything not shaped like a
// secret, so that a ticket code or a token sent by mistake gets a message saying so.
absl::StatusOr<std::string> ParseManageSecret(absl::string_view field, absl::string_view text);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_MANAGE_SECRET_H_
