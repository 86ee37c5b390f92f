// Base32 (server/domain/base32.h): decoding any text never crashes, and the encoding is one-to-one.
// Text that decodes is the canonical spelling of its bytes (upper-cased), so a signed code cannot
// be re-spelled; and any bytes encoded decode back to themselves.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "server/domain/base32.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using turnout::domain::Base32Decode;
  using turnout::domain::Base32Encode;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<std::vector<uint8_t>> decoded = Base32Decode(text);
  if (decoded.ok()) {
    FUZZ_CHECK(Base32Encode(*decoded) == absl::AsciiStrToUpper(text),
               "text that decodes is not the canonical encoding of its bytes");
  } else {
    FUZZ_CHECK(decoded.status().code() == absl::StatusCode::kInvalidArgument,
               "a decoding error is not INVALID_ARGUMENT");
  }

  const std::string encoded = Base32Encode(absl::MakeConstSpan(data, size));
  FUZZ_CHECK(encoded.size() == (8 * size + 4) / 5, "encoding has the wrong length");
  absl::StatusOr<std::vector<uint8_t>> round_trip = Base32Decode(encoded);
  FUZZ_CHECK(round_trip.ok(), "Base32Decode rejected what Base32Encode wrote");
  FUZZ_CHECK(*round_trip == std::vector<uint8_t>(data, data + size),
             "bytes do not survive encode + decode");
  FUZZ_CHECK(Base32Decode(absl::AsciiStrToLower(encoded)).value() == *round_trip,
             "the lower-case spelling decodes to other bytes");
  return 0;
}
