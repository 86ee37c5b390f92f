#include "server/store/data_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace turnout::store {
namespace {

void InitSodium() {
  static const int ok = sodium_init();
  (void)ok;
}

}  // namespace

DataKey DataKey::Random() {
  InitSodium();
  DataKey k;
  crypto_secretbox_keygen(k.key_.data());
  return k;
}

absl::StatusOr<DataKey> DataKey::LoadOrCreate(const std::string& path) {
  InitSodium();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  // Created exclusively and 0600 from the first byte; a replica that loses the race reads the
  // winner's key below.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) {
    DataKey k = Random();
    const bool written =
        write(fd, k.key_.data(), k.key_.size()) == static_cast<ssize_t>(k.key_.size());
    const bool synced = fsync(fd) == 0;
    close(fd);
    if (!written || !synced) {
      unlink(path.c_str());
      return absl::FailedPreconditionError(absl::StrCat("cannot write the data key ", path));
    }
    return k;
  }
  if (errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create the data key ", path));
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() != 32) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data key ", path, " is damaged (expected 32 bytes); restore it from backup"));
  }
  DataKey k;
  std::copy(bytes.begin(), bytes.end(), k.key_.begin());
  return k;
}

std::string DataKey::Seal(absl::string_view plaintext) const {
  if (plaintext.empty()) return "";
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, key_.data());
  return absl::BytesToHexString(box);
}

std::string DataKey::Digest(absl::string_view context, absl::string_view data) const {
  // A subkey of its own: the data key itself only ever seals (one key, one primitive).
  unsigned char subkey[crypto_generichash_KEYBYTES];
  crypto_kdf_derive_from_key(subkey, sizeof(subkey), 1, "TNDIGEST", key_.data());
  unsigned char out[16];
  crypto_generichash_state state;
  crypto_generichash_init(&state, subkey, sizeof(subkey), sizeof(out));
  sodium_memzero(subkey, sizeof(subkey));
  // The context's length first, so that ("ab", "c") and ("a", "bc") differ.
  const unsigned char length = static_cast<unsigned char>(std::min<size_t>(context.size(), 255));
  crypto_generichash_update(&state, &length, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(context.data()),
                            length);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  crypto_generichash_final(&state, out, sizeof(out));
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(out), sizeof(out)));
}

absl::StatusOr<std::string> DataKey::Open(absl::string_view sealed_hex) const {
  if (sealed_hex.empty()) return std::string();
  const std::string box = absl::HexStringToBytes(sealed_hex);
  if (box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return absl::DataLossError("a sealed field is truncated");
  }
  std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
          box.size() - crypto_secretbox_NONCEBYTES, nonce, key_.data()) != 0) {
    return absl::DataLossError("a sealed field does not open with this data key");
  }
  return plain;
}

}  // namespace turnout::store
