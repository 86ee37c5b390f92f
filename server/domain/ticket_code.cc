#include "server/domain/ticket_code.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "server/domain/base32.h"

namespace turnout::domain {
namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == 32 && crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_BYTES == kTicketCodeBytes - kTicketPayloadBytes);
static_assert((kTicketCodeBytes * 8 + 4) / 5 == kTicketCodeLength);

using Payload = std::array<uint8_t, kTicketPayloadBytes>;

// sodium_init is thread-safe and idempotent; it fails only when the system has no randomness,
// in which case no ticket could be issued safely.
void EnsureSodium() {
  static const bool initialised = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)initialised;
}

void PutBigEndian(uint64_t value, int bytes, uint8_t* out) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[i] = static_cast<uint8_t>(value);
}

uint32_t GetBigEndian(const uint8_t* in, int bytes) {
  uint32_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

Payload SerializeClaims(const TicketClaims& claims, uint16_t key_id) {
  const int64_t seconds = std::clamp<int64_t>(absl::ToUnixSeconds(claims.not_after), 0,
                                              std::numeric_limits<uint32_t>::max());
  Payload p{};
  p[0] = kTicketCodeVersion;
  PutBigEndian(key_id, 2, &p[1]);
  PutBigEndian(claims.event_id, 4, &p[3]);
  std::copy(claims.ticket_id.begin(), claims.ticket_id.end(), &p[7]);
  PutBigEndian(static_cast<uint64_t>(seconds), 4, &p[19]);
  return p;
}

TicketClaims ParseClaims(const uint8_t* p) {
  TicketClaims claims;
  claims.key_id = static_cast<uint16_t>(GetBigEndian(&p[1], 2));
  claims.event_id = GetBigEndian(&p[3], 4);
  std::copy(&p[7], &p[7] + kTicketIdBytes, claims.ticket_id.begin());
  claims.not_after = absl::FromUnixSeconds(GetBigEndian(&p[19], 4));
  return claims;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

SigningKey GenerateSigningKey(uint16_t key_id) {
  EnsureSodium();
  SigningKey key;
  key.key_id = key_id;
  crypto_sign_keypair(key.public_key.data(), key.secret_key.data());
  return key;
}

TicketId RandomTicketId() {
  EnsureSodium();
  TicketId id;
  randombytes_buf(id.data(), id.size());
  return id;
}

std::string TicketIdToHex(const TicketId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * id.size());
  for (uint8_t byte : id) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

absl::StatusOr<TicketId> TicketIdFromHex(absl::string_view hex) {
  if (hex.size() != 2 * kTicketIdBytes) {
    return absl::InvalidArgumentError("ticket id must be 24 hex characters");
  }
  TicketId id;
  for (int i = 0; i < kTicketIdBytes; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return absl::InvalidArgumentError("ticket id is not hex");
    id[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return id;
}

std::string EncodeTicketCode(const TicketClaims& claims, const SigningKey& key) {
  EnsureSodium();
  std::array<uint8_t, kTicketCodeBytes> bytes{};
  const Payload payload = SerializeClaims(claims, key.key_id);
  std::copy(payload.begin(), payload.end(), bytes.begin());
  crypto_sign_detached(&bytes[kTicketPayloadBytes], nullptr, payload.data(), payload.size(),
                       key.secret_key.data());
  return Base32Encode(bytes);
}

VerifyingKey VerifyingKeyFor(const SigningKey& key) {
  VerifyingKey verifying;
  verifying.key_id = key.key_id;
  verifying.public_key = key.public_key;
  return verifying;
}

void KeyRing::Add(const VerifyingKey& key) {
  for (VerifyingKey& existing : keys_) {
    if (existing.key_id == key.key_id) {
      existing = key;
      return;
    }
  }
  keys_.push_back(key);
}

const VerifyingKey* KeyRing::Find(uint16_t key_id) const {
  for (const VerifyingKey& key : keys_) {
    if (key.key_id == key_id) return &key;
  }
  return nullptr;
}

std::string TicketCodeHeader(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.size() < static_cast<size_t>(kTicketHeaderLength) ||
      text.size() > static_cast<size_t>(kTicketCodeLength)) {
    return "";
  }
  const std::string header = absl::AsciiStrToUpper(text.substr(0, kTicketHeaderLength));
  for (char c : header) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return "";
  }
  // Eight characters are five whole bytes; the first is the version.
  absl::StatusOr<std::vector<uint8_t>> first = Base32Decode(absl::string_view(header).substr(0, 8));
  if (!first.ok() || (*first)[0] != kTicketCodeVersion) return "";
  return header;
}

VerifiedCode VerifyTicketCode(absl::string_view code, const KeyRing& keys) {
  VerifiedCode result;
  code = absl::StripAsciiWhitespace(code);
  // Checking the length first keeps arbitrary scanner input from reaching the decoder.
  if (code.size() != kTicketCodeLength) return result;
  absl::StatusOr<std::vector<uint8_t>> bytes = Base32Decode(code);
  if (!bytes.ok() || bytes->size() != kTicketCodeBytes || (*bytes)[0] != kTicketCodeVersion) {
    return result;
  }
  result.claims = ParseClaims(bytes->data());
  const VerifyingKey* key = keys.Find(result.claims.key_id);
  if (key == nullptr) {
    result.check = CodeCheck::kUnknownKey;
    return result;
  }
  EnsureSodium();
  if (crypto_sign_verify_detached(&(*bytes)[kTicketPayloadBytes], bytes->data(),
                                  kTicketPayloadBytes, key->public_key.data()) != 0) {
    result.check = CodeCheck::kBadSignature;
  } else {
    result.check = key->revoked ? CodeCheck::kKeyRevoked : CodeCheck::kValid;
  }
  return result;
}

}  // namespace turnout::domain
