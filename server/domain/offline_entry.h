// The sealed roster entries of an offline bundle (docs/door-protocol.md).
//
// A door device holds the whole roster of its event, yet a lost device must leak none of it. So
// each entry is found by a lookup key and sealed with a key that are both derived from the
// ticket's own code: the device reads the entry of a code it scans, and nothing else.
//
//   // server, building the bundle:
//   absl::StatusOr<EntryKeys> keys = DeriveEntryKeys(ticket.code);
//   std::string sealed = SealEntry(*keys, entry_bytes, PaddedEntrySize(longest_entry));
//   // device, scanning `code`:
//   absl::StatusOr<EntryKeys> keys = DeriveEntryKeys(code);
//   look up keys->lookup in the bundle; absl::StatusOr<std::string> entry = OpenEntry(*keys, sealed);
//
// Derivation (libsodium), from the code's 87 decoded bytes C, whose Ed25519 signature makes them
// unguessable without the code:
//   master = BLAKE2b-256(C, key = "turnout-door-v1")                 crypto_generichash
//   lookup = KDF(master, id 1, context "TNLOOKUP"), 16 bytes         crypto_kdf_derive_from_key
//   seal   = KDF(master, id 2, context "TNSEALKY"), 32 bytes
// Sealing: nonce (24 random bytes) || XChaCha20-Poly1305-IETF(seal, nonce, padded, ad = lookup),
// where padded = uint16 big-endian length || entry || zero bytes up to the bundle's entry size.
#ifndef TURNOUT_SERVER_DOMAIN_OFFLINE_ENTRY_H_
#define TURNOUT_SERVER_DOMAIN_OFFLINE_ENTRY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::domain {

inline constexpr size_t kLookupKeyBytes = 16;
inline constexpr size_t kSealKeyBytes = 32;
// Nonce and authentication tag around every sealed entry.
inline constexpr size_t kSealOverheadBytes = 24 + 16;
// Entries are padded to a multiple of this, and to at least kMinEntryBytes.
inline constexpr size_t kEntryPaddingStep = 32;
inline constexpr size_t kMinEntryBytes = 128;
// The largest entry a bundle may carry (the length prefix is 16 bits).
inline constexpr size_t kMaxEntryBytes = 4096;

struct EntryKeys {
  std::array<uint8_t, kLookupKeyBytes> lookup{};
  std::array<uint8_t, kSealKeyBytes> seal{};

  std::string lookup_bytes() const {
    return std::string(reinterpret_cast<const char*>(lookup.data()), lookup.size());
  }
};

// The keys a code unlocks. Trims surrounding ASCII whitespace and reads either case, as the
// verifier does; InvalidArgument when `code` is not Base32 of a code's length. Does not verify
// the signature: verify first (VerifyTicketCode), then look up.
absl::StatusOr<EntryKeys> DeriveEntryKeys(absl::string_view code);

// The size every entry of a bundle is padded to, given its longest entry (serialized bytes):
// 2 + longest, rounded up to kEntryPaddingStep, at least kMinEntryBytes.
size_t PaddedEntrySize(size_t longest_entry);

// Seals `entry` (at most padded_size - 2 bytes, at most kMaxEntryBytes) under `keys`.
std::string SealEntry(const EntryKeys& keys, absl::string_view entry, size_t padded_size);

// The entry sealed under `keys`; InvalidArgument if `sealed` was not sealed with these keys (a
// different code, or a damaged bundle).
absl::StatusOr<std::string> OpenEntry(const EntryKeys& keys, absl::string_view sealed);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_OFFLINE_ENTRY_H_
