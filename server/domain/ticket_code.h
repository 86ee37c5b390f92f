// Signed ticket codes: the text inside a ticket's QR code.
//
// A code carries only a random ticket id, the event id, the signing key id and an expiry, signed
// with Ed25519, so anyone holding the event's public keys (the server, or a door device offline)
// can tell a genuine ticket from a forged or mistyped one without a database. It holds no personal
// data.
//
//   SigningKey key = GenerateSigningKey(/*key_id=*/1);
//   TicketClaims claims;
//   claims.event_id = 7;
//   claims.ticket_id = RandomTicketId();
//   claims.not_after = event_end;
//   std::string code = EncodeTicketCode(claims, key);
//   KeyRing ring;
//   ring.Add(VerifyingKeyFor(key));
//   VerifiedCode v = VerifyTicketCode(code, ring);  // v.check == CodeCheck::kValid
#ifndef TURNOUT_SERVER_DOMAIN_TICKET_CODE_H_
#define TURNOUT_SERVER_DOMAIN_TICKET_CODE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace turnout::domain {

inline constexpr int kTicketIdBytes = 12;  // 96 random bits: unguessable and collision-free
using TicketId = std::array<uint8_t, kTicketIdBytes>;

// The first byte of every code; a reader rejects versions it does not know as malformed.
inline constexpr uint8_t kTicketCodeVersion = 1;

// What a code asserts.
struct TicketClaims {
  uint16_t key_id = 0;
  uint32_t event_id = 0;
  TicketId ticket_id{};
  // Stored as uint32 unix seconds: sub-second parts are dropped (floor) and times outside
  // [1970, 2106] are clamped when encoding.
  absl::Time not_after;
};

// An Ed25519 key pair with its key id. The secret key never leaves the server.
struct SigningKey {
  uint16_t key_id = 0;
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 64> secret_key{};
};

// A fresh random key pair (crypto_sign_keypair).
SigningKey GenerateSigningKey(uint16_t key_id);

// A fresh ticket id from the system CSPRNG (randombytes_buf).
TicketId RandomTicketId();

// 24 lower-case hex characters. TicketIdFromHex accepts either case and returns InvalidArgument for
// anything that is not exactly 24 hex characters.
std::string TicketIdToHex(const TicketId& id);
absl::StatusOr<TicketId> TicketIdFromHex(absl::string_view hex);

// Sizes of a code: signed bytes, all bytes, Base32 characters (see EncodeTicketCode).
inline constexpr int kTicketPayloadBytes = 23;
inline constexpr int kTicketCodeBytes = kTicketPayloadBytes + 64;
inline constexpr int kTicketCodeLength = 140;

// Signs `claims` with `key`. Layout, big-endian integers:
//   version(1) | key_id(2) | event_id(4) | ticket_id(12) | not_after(4, unix s)   = 23 bytes
//   Ed25519 detached signature over those 23 bytes                              = 64 bytes
// The 87 bytes are Base32-encoded into 140 upper-case characters of the QR alphanumeric set.
// Uses `key.key_id`, not `claims.key_id`, so a code always names the key that signed it.
std::string EncodeTicketCode(const TicketClaims& claims, const SigningKey& key);

enum class CodeCheck {
  kValid,         // genuine, signed by a known key that is not revoked
  kMalformed,     // not a ticket code at all (bad characters, length, version)
  kUnknownKey,    // well-formed, but no key with this id is in the ring
  kBadSignature,  // forged, altered, or signed by a different key with the same id
  kKeyRevoked,    // genuine signature, but the key has been revoked
};

// The public half of a signing key, as distributed to verifiers.
struct VerifyingKey {
  uint16_t key_id = 0;
  std::array<uint8_t, 32> public_key{};
  bool revoked = false;
};

// The verifying key for `key`, not revoked.
VerifyingKey VerifyingKeyFor(const SigningKey& key);

// A set of public keys by key id. A deployment holds a handful of keys, so this is a small vector:
// cheap to copy into an offline device's snapshot and fast to search.
class KeyRing {
 public:
  // Adds `key`, replacing any key with the same id (e.g. to mark it revoked).
  void Add(const VerifyingKey& key);

  // The key with `key_id`, or nullptr. The pointer is valid until the next Add.
  const VerifyingKey* Find(uint16_t key_id) const;

  // All keys, in the order they were first added.
  const std::vector<VerifyingKey>& keys() const { return keys_; }

 private:
  std::vector<VerifyingKey> keys_;
};

struct VerifiedCode {
  CodeCheck check = CodeCheck::kMalformed;
  TicketClaims claims;  // filled whenever check != kMalformed
};

// The characters at the start of a code that carry its version, key id and event id: 56 bits in
// 12 characters, the last of which also carries 4 of the ticket id's 96 random bits (too few to
// tell one ticket from another).
inline constexpr int kTicketHeaderLength = 12;

// What a refused scan may keep of the text it read: the header, upper-cased, when the text
// (trimmed) could be a damaged Turnout code: at most kTicketCodeLength characters, starting with
// kTicketHeaderLength Base32 characters that decode to this version. Empty for anything else (a
// driver's licence, a URL, a name typed into the scanner's field), which keeps no text at all.
std::string TicketCodeHeader(absl::string_view text);

// Trims surrounding ASCII whitespace (keyboard-wedge scanners add a newline), accepts either case,
// then decodes and verifies `code`. The signature is checked before revocation, so kKeyRevoked
// means the code is genuine. Does NOT check claims.not_after: that is for the scan rules. Cost: one
// Ed25519 verification and the Base32 decode.
VerifiedCode VerifyTicketCode(absl::string_view code, const KeyRing& keys);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_TICKET_CODE_H_
