// The deployment's data key: seals contact fields and signing keys at rest (libsodium secretbox).
// It lives in a file of the data directory (mode 0600); replicas sharing a database share the file.
#ifndef TURNOUT_SERVER_STORE_DATA_KEY_H_
#define TURNOUT_SERVER_STORE_DATA_KEY_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace turnout::store {

class DataKey {
 public:
  // Reads the key at `path`, creating it (and its directory) on first use.
  static absl::StatusOr<DataKey> LoadOrCreate(const std::string& path);
  // A fresh random key, for tests.
  static DataKey Random();

  // Hex of nonce || ciphertext. The empty string seals to the empty string (an absent field).
  std::string Seal(absl::string_view plaintext) const;
  absl::StatusOr<std::string> Open(absl::string_view sealed_hex) const;
  // A keyed BLAKE2b digest (hex, 128 bits) of `data`, distinct per `context`: equal inputs are
  // recognised without storing them, and nobody without the key can test a guess against it.
  std::string Digest(absl::string_view context, absl::string_view data) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace turnout::store

#endif  // TURNOUT_SERVER_STORE_DATA_KEY_H_
