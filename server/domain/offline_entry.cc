#include "server/domain/offline_entry.h"

#include <sodium.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "server/domain/base32.h"
#include "server/domain/ticket_code.h"

namespace turnout::domain {
namespace {

constexpr char kMasterKey[] = "turnout-door-v1";
constexpr char kLookupContext[crypto_kdf_CONTEXTBYTES + 1] = "TNLOOKUP";
constexpr char kSealContext[crypto_kdf_CONTEXTBYTES + 1] = "TNSEALKY";
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;

static_assert(kSealOverheadBytes ==
              crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kSealKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

}  // namespace

absl::StatusOr<EntryKeys> DeriveEntryKeys(absl::string_view code) {
  absl::StatusOr<std::vector<uint8_t>> bytes = Base32Decode(absl::StripAsciiWhitespace(code));
  if (!bytes.ok() || bytes->size() != static_cast<size_t>(kTicketCodeBytes)) {
    return absl::InvalidArgumentError("not a ticket code");
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium cannot start");
  uint8_t master[crypto_kdf_KEYBYTES];
  crypto_generichash(master, sizeof(master), bytes->data(), bytes->size(),
                     reinterpret_cast<const unsigned char*>(kMasterKey), sizeof(kMasterKey) - 1);
  EntryKeys keys;
  crypto_kdf_derive_from_key(keys.lookup.data(), keys.lookup.size(), 1, kLookupContext, master);
  crypto_kdf_derive_from_key(keys.seal.data(), keys.seal.size(), 2, kSealContext, master);
  sodium_memzero(master, sizeof(master));
  return keys;
}

size_t PaddedEntrySize(size_t longest_entry) {
  const size_t needed = 2 + longest_entry;
  const size_t rounded = (needed + kEntryPaddingStep - 1) / kEntryPaddingStep * kEntryPaddingStep;
  return std::max(rounded, kMinEntryBytes);
}

std::string SealEntry(const EntryKeys& keys, absl::string_view entry, size_t padded_size) {
  padded_size = std::max(padded_size, entry.size() + 2);
  std::string padded(padded_size, '\0');
  padded[0] = static_cast<char>((entry.size() >> 8) & 0xff);
  padded[1] = static_cast<char>(entry.size() & 0xff);
  std::copy(entry.begin(), entry.end(), padded.begin() + 2);

  std::string sealed(kNonceBytes + padded.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(sealed.data());
  randombytes_buf(nonce, kNonceBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      nonce + kNonceBytes, &written, reinterpret_cast<const unsigned char*>(padded.data()),
      padded.size(), keys.lookup.data(), keys.lookup.size(), nullptr, nonce, keys.seal.data());
  sealed.resize(kNonceBytes + written);
  return sealed;
}

absl::StatusOr<std::string> OpenEntry(const EntryKeys& keys, absl::string_view sealed) {
  if (sealed.size() < kSealOverheadBytes + 2) {
    return absl::InvalidArgumentError("sealed entry too short");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string padded(sealed.size() - kSealOverheadBytes, '\0');
  unsigned long long length = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(padded.data()), &length, nullptr, nonce + kNonceBytes,
          sealed.size() - kNonceBytes, keys.lookup.data(), keys.lookup.size(), nonce,
          keys.seal.data()) != 0) {
    return absl::InvalidArgumentError("the entry was not sealed for this code");
  }
  const size_t entry_size = (static_cast<uint8_t>(padded[0]) << 8) | static_cast<uint8_t>(padded[1]);
  if (entry_size + 2 > length) return absl::InvalidArgumentError("sealed entry is damaged");
  return padded.substr(2, entry_size);
}

}  // namespace turnout::domain
