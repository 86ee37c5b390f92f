// Ticket codes (server/domain/ticket_code.h), as a door reads them: any scanned text is verified
// without crashing, and only the code the server itself wrote for some claims is kValid. Fixed
// keys (from fixed seeds) keep every run reproducible; the seed corpus holds codes they signed,
// which the fuzzer then mistypes.
//
// Each input is used three ways: as scanned text; its first 20 bytes as claims to sign, verify and
// then alter one character of; and as a ticket id in hex.
#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "server/domain/ticket_code.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using turnout::domain::CodeCheck;
using turnout::domain::KeyRing;
using turnout::domain::SigningKey;
using turnout::domain::TicketClaims;
using turnout::domain::VerifiedCode;

constexpr absl::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

SigningKey KeyFromSeed(uint16_t key_id, uint8_t fill) {
  std::array<uint8_t, crypto_sign_SEEDBYTES> seed;
  seed.fill(fill);
  SigningKey key;
  key.key_id = key_id;
  crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed.data());
  return key;
}

// Key 1 is active, key 2 revoked; no other key id is known.
struct Keys {
  SigningKey active = KeyFromSeed(1, 0x11);
  SigningKey revoked = KeyFromSeed(2, 0x22);
  KeyRing ring;
};

const Keys& TheKeys() {
  static const Keys* keys = [] {
    auto* k = new Keys;
    k->ring.Add(turnout::domain::VerifyingKeyFor(k->active));
    turnout::domain::VerifyingKey revoked = turnout::domain::VerifyingKeyFor(k->revoked);
    revoked.revoked = true;
    k->ring.Add(revoked);
    return k;
  }();
  return *keys;
}

uint32_t BigEndian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void CheckScannedText(absl::string_view text) {
  const Keys& keys = TheKeys();
  const VerifiedCode v = turnout::domain::VerifyTicketCode(text, keys.ring);
  const std::string canonical = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (canonical.size() != turnout::domain::kTicketCodeLength) {
    FUZZ_CHECK(v.check == CodeCheck::kMalformed, "a code of the wrong length is not malformed");
  }
  switch (v.check) {
    case CodeCheck::kValid:
      FUZZ_CHECK(v.claims.key_id == keys.active.key_id, "kValid under a key that is not active");
      FUZZ_CHECK(turnout::domain::EncodeTicketCode(v.claims, keys.active) == canonical,
                 "a valid code is not the one the server writes for its claims");
      break;
    case CodeCheck::kKeyRevoked:
      FUZZ_CHECK(v.claims.key_id == keys.revoked.key_id, "kKeyRevoked for a key not revoked");
      FUZZ_CHECK(turnout::domain::EncodeTicketCode(v.claims, keys.revoked) == canonical,
                 "a code reported genuine (revoked key) is not the one its key signs");
      break;
    case CodeCheck::kUnknownKey:
      FUZZ_CHECK(keys.ring.Find(v.claims.key_id) == nullptr, "kUnknownKey for a known key id");
      break;
    case CodeCheck::kBadSignature:
      FUZZ_CHECK(keys.ring.Find(v.claims.key_id) != nullptr, "kBadSignature without a key");
      break;
    case CodeCheck::kMalformed:
      break;
  }
}

void CheckSignedClaims(const uint8_t* data, size_t size) {
  if (size < 20) return;
  const Keys& keys = TheKeys();
  TicketClaims claims;
  claims.event_id = BigEndian32(data);
  std::memcpy(claims.ticket_id.data(), data + 4, claims.ticket_id.size());
  claims.not_after = absl::FromUnixSeconds(BigEndian32(data + 16));
  const std::string code = turnout::domain::EncodeTicketCode(claims, keys.active);
  FUZZ_CHECK(code.size() == turnout::domain::kTicketCodeLength, "a code of the wrong length");
  FUZZ_CHECK(absl::string_view(code).find_first_not_of(kBase32Alphabet) == absl::string_view::npos,
             "a code outside the QR alphanumeric Base32 alphabet");

  const VerifiedCode v = turnout::domain::VerifyTicketCode(
      absl::StrCat(" ", absl::AsciiStrToLower(code), "\r\n"), keys.ring);
  FUZZ_CHECK(v.check == CodeCheck::kValid, "a code just signed does not verify");
  FUZZ_CHECK(v.claims.key_id == keys.active.key_id && v.claims.event_id == claims.event_id &&
                 v.claims.ticket_id == claims.ticket_id && v.claims.not_after == claims.not_after,
             "verified claims differ from the signed ones");

  // A mistyped character never leaves a valid code: the door must not admit a typo.
  if (size < 22) return;
  std::string altered = code;
  const size_t at = data[20] % altered.size();
  const char replacement = kBase32Alphabet[data[21] % kBase32Alphabet.size()];
  if (replacement == altered[at]) return;
  altered[at] = replacement;
  FUZZ_CHECK(turnout::domain::VerifyTicketCode(altered, keys.ring).check != CodeCheck::kValid,
             "a code with one character changed still verifies");
}

void CheckTicketIdHex(absl::string_view text) {
  absl::StatusOr<turnout::domain::TicketId> id = turnout::domain::TicketIdFromHex(text);
  if (!id.ok()) {
    FUZZ_CHECK(id.status().code() == absl::StatusCode::kInvalidArgument,
               "a bad ticket id is not INVALID_ARGUMENT");
    return;
  }
  FUZZ_CHECK(turnout::domain::TicketIdToHex(*id) == absl::AsciiStrToLower(text),
             "a ticket id does not survive hex and back");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CheckScannedText(text);
  CheckSignedClaims(data, size);
  CheckTicketIdHex(text);
  return 0;
}
