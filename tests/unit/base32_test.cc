#include "server/domain/base32.h"

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::domain {
namespace {

using ::testing::ElementsAreArray;

std::vector<uint8_t> Bytes(absl::string_view s) { return {s.begin(), s.end()}; }

TEST(Base32Test, MatchesRfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base32Encode(Bytes(plain)), encoded) << plain;
    absl::StatusOr<std::vector<uint8_t>> decoded = Base32Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status();
    EXPECT_THAT(*decoded, ElementsAreArray(Bytes(plain))) << encoded;
  }
}

TEST(Base32Test, RoundTripsRandomBytesOfEveryLength) {
  std::mt19937 rng(42);
  for (int length = 0; length <= 100; ++length) {
    std::vector<uint8_t> bytes(length);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    const std::string encoded = Base32Encode(bytes);
    EXPECT_EQ(encoded.size(), (length * 8 + 4) / 5);
    EXPECT_EQ(encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos);
    absl::StatusOr<std::vector<uint8_t>> decoded = Base32Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, bytes) << "length " << length;
  }
}

TEST(Base32Test, AcceptsLowerAndMixedCase) {
  EXPECT_THAT(*Base32Decode("mzxw6ytboi"), ElementsAreArray(Bytes("foobar")));
  EXPECT_THAT(*Base32Decode("MzXw6YtBoI"), ElementsAreArray(Bytes("foobar")));
}

TEST(Base32Test, RejectsCharactersOutsideTheAlphabet) {
  for (const char* text : {"MZXW6YT=", "MZXW6YT1", "MZXW6YT0", "MZXW6YT8", "MZXW 6YT", "MZXW6YT\n",
                           "MZXW6YT-", "MY======"}) {
    EXPECT_EQ(Base32Decode(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_FALSE(Base32Decode(absl::string_view("MZ\0W", 4)).ok());
}

TEST(Base32Test, RejectsLengthsNoByteStringEncodesTo) {
  for (const char* text : {"M", "MZX", "MZXW6Y", "MZXW6YTBO"}) {
    EXPECT_EQ(Base32Decode(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(Base32Test, RejectsNonZeroTrailingBits) {
  // "MY" is the canonical "f"; "MZ" carries the same byte plus a stray 1 bit.
  for (const char* text : {"MZ", "MZXR", "MZXW7", "MZXW6YR", "MZXW6YTBOJ", "MZXW6YTBO7"}) {
    EXPECT_EQ(Base32Decode(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(Base32Test, EveryStringOfShortLengthsDecodesToDistinctBytes) {
  // Exhaustive over two-character strings: the 32 * 32 strings must give exactly 256 valid
  // decodings, one per byte, so no byte value has two spellings.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::vector<int> spellings(256, 0);
  for (char a : alphabet) {
    for (char b : alphabet) {
      absl::StatusOr<std::vector<uint8_t>> decoded = Base32Decode(std::string{a, b});
      if (!decoded.ok()) continue;
      ASSERT_EQ(decoded->size(), 1u);
      ++spellings[(*decoded)[0]];
    }
  }
  EXPECT_THAT(spellings, ::testing::Each(1));
}

}  // namespace
}  // namespace turnout::domain
