// RFC 4648 Base32 (alphabet A-Z2-7) without padding.
//
// Ticket codes use Base32 because every character is in the QR alphanumeric set (small QR codes),
// survives USB keyboard-wedge scanners, and can be typed by hand. Decoding is strict: one string,
// read case-insensitively, has exactly one byte sequence, so a signed code cannot be re-spelled.
#ifndef TURNOUT_SERVER_DOMAIN_BASE32_H_
#define TURNOUT_SERVER_DOMAIN_BASE32_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace turnout::domain {

// Encodes `bytes` as upper-case Base32 without '=' padding: ceil(8 * n / 5) characters.
std::string Base32Encode(absl::Span<const uint8_t> bytes);

// Decodes upper- or lower-case Base32 without padding. Returns InvalidArgument for any other
// character (including '=' and whitespace), for lengths no byte string encodes to (n % 8 in
// {1, 3, 6}), and for non-canonical encodings whose unused trailing bits are not zero.
absl::StatusOr<std::vector<uint8_t>> Base32Decode(absl::string_view text);

}  // namespace turnout::domain

#endif  // TURNOUT_SERVER_DOMAIN_BASE32_H_
