#include "server/domain/base32.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace turnout::domain {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// Returns the 5-bit value of `c`, or -1 if `c` is not a Base32 character.
int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::string Base32Encode(absl::Span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t buffer = 0;  // holds fewer than 5 pending bits between iterations
  int bits = 0;
  for (uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(buffer >> bits) & 0x1f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> Base32Decode(absl::string_view text) {
  // A final group of 1, 3 or 6 characters leaves 5, 15 or 30 bits: 5+ bits can't all be padding.
  switch (text.size() % 8) {
    case 1:
    case 3:
    case 6:
      return absl::InvalidArgumentError(absl::StrCat("base32: impossible length ", text.size()));
  }
  std::vector<uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int value = DecodeChar(text[i]);
    if (value < 0) {
      return absl::InvalidArgumentError(absl::StrCat("base32: invalid character at ", i));
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(buffer >> bits));
    }
  }
  // The leftover (< 5) bits are padding; requiring zeros makes the encoding canonical.
  if ((buffer & ((1u << bits) - 1)) != 0) {
    return absl::InvalidArgumentError("base32: non-zero trailing bits");
  }
  return out;
}

}  // namespace turnout::domain
