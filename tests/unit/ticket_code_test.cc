#include "server/domain/ticket_code.h"

#include <sodium.h>

#include <cctype>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/base32.h"

namespace turnout::domain {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

TicketClaims SampleClaims(uint16_t key_id) {
  TicketClaims claims;
  claims.key_id = key_id;
  claims.event_id = 0x01020304;
  claims.ticket_id = RandomTicketId();
  claims.not_after = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  return claims;
}

void ExpectSameClaims(const TicketClaims& actual, const TicketClaims& expected) {
  EXPECT_EQ(actual.key_id, expected.key_id);
  EXPECT_EQ(actual.event_id, expected.event_id);
  EXPECT_EQ(actual.ticket_id, expected.ticket_id);
  EXPECT_EQ(actual.not_after, expected.not_after);
}

class TicketCodeTest : public ::testing::Test {
 protected:
  TicketCodeTest() : key_(GenerateSigningKey(7)), claims_(SampleClaims(7)) {
    ring_.Add(VerifyingKeyFor(key_));
    code_ = EncodeTicketCode(claims_, key_);
  }

  SigningKey key_;
  TicketClaims claims_;
  KeyRing ring_;
  std::string code_;
};

TEST_F(TicketCodeTest, RoundTrips) {
  VerifiedCode verified = VerifyTicketCode(code_, ring_);
  EXPECT_EQ(verified.check, CodeCheck::kValid);
  ExpectSameClaims(verified.claims, claims_);
}

TEST_F(TicketCodeTest, IsShortAndUsesOnlyUpperCaseBase32) {
  EXPECT_LE(code_.size(), 150u);
  EXPECT_EQ(code_.size(), static_cast<size_t>(kTicketCodeLength));
  EXPECT_EQ(code_.find_first_not_of(kAlphabet), std::string::npos);
}

TEST_F(TicketCodeTest, CarriesOnlyTheClaimsInTheDocumentedLayout) {
  // No room for personal data: 23 bytes of claims and a 64-byte signature, nothing else.
  absl::StatusOr<std::vector<uint8_t>> bytes = Base32Decode(code_);
  ASSERT_TRUE(bytes.ok());
  ASSERT_EQ(bytes->size(), 87u);
  std::vector<uint8_t> expected = {kTicketCodeVersion, 0x00, 0x07, 0x01, 0x02, 0x03, 0x04};
  expected.insert(expected.end(), claims_.ticket_id.begin(), claims_.ticket_id.end());
  // 1767225600 = 0x6955B900
  expected.insert(expected.end(), {0x69, 0x55, 0xB9, 0x00});
  EXPECT_EQ(std::vector<uint8_t>(bytes->begin(), bytes->begin() + 23), expected);
}

TEST_F(TicketCodeTest, NotAfterKeepsWholeSeconds) {
  claims_.not_after = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(999);
  VerifiedCode verified = VerifyTicketCode(EncodeTicketCode(claims_, key_), ring_);
  ASSERT_EQ(verified.check, CodeCheck::kValid);
  EXPECT_EQ(verified.claims.not_after, absl::FromUnixSeconds(1767225600));
}

TEST_F(TicketCodeTest, EveryCharacterSubstitutionIsRejected) {
  for (size_t i = 0; i < code_.size(); ++i) {
    for (const char* c = kAlphabet; *c != '\0'; ++c) {
      if (*c == code_[i]) continue;
      std::string altered = code_;
      altered[i] = *c;
      ASSERT_NE(VerifyTicketCode(altered, ring_).check, CodeCheck::kValid)
          << "position " << i << " -> " << *c;
    }
  }
}

TEST_F(TicketCodeTest, EveryTruncationIsRejected) {
  for (size_t length = 0; length < code_.size(); ++length) {
    EXPECT_EQ(VerifyTicketCode(code_.substr(0, length), ring_).check, CodeCheck::kMalformed)
        << "length " << length;
  }
}

TEST_F(TicketCodeTest, AppendedCharactersAreRejected) {
  for (const char* c = kAlphabet; *c != '\0'; ++c) {
    EXPECT_NE(VerifyTicketCode(code_ + *c, ring_).check, CodeCheck::kValid) << *c;
  }
  EXPECT_NE(VerifyTicketCode(code_ + code_, ring_).check, CodeCheck::kValid);
  EXPECT_NE(VerifyTicketCode(code_ + "AAAAAAAA", ring_).check, CodeCheck::kValid);
}

TEST_F(TicketCodeTest, AnotherKeyWithTheSameIdGivesBadSignature) {
  const SigningKey impostor = GenerateSigningKey(key_.key_id);
  VerifiedCode verified = VerifyTicketCode(EncodeTicketCode(claims_, impostor), ring_);
  EXPECT_EQ(verified.check, CodeCheck::kBadSignature);
  ExpectSameClaims(verified.claims, claims_);  // still parsed, so the attempt can be logged
}

TEST_F(TicketCodeTest, UnknownKeyIdIsReported) {
  const SigningKey other = GenerateSigningKey(8);
  VerifiedCode verified = VerifyTicketCode(EncodeTicketCode(SampleClaims(8), other), ring_);
  EXPECT_EQ(verified.check, CodeCheck::kUnknownKey);
  EXPECT_EQ(verified.claims.key_id, 8);
  EXPECT_EQ(VerifyTicketCode(code_, KeyRing()).check, CodeCheck::kUnknownKey);
}

TEST_F(TicketCodeTest, RevokedKeyIsReportedAfterTheSignatureChecks) {
  VerifyingKey revoked = VerifyingKeyFor(key_);
  revoked.revoked = true;
  ring_.Add(revoked);
  VerifiedCode verified = VerifyTicketCode(code_, ring_);
  EXPECT_EQ(verified.check, CodeCheck::kKeyRevoked);
  ExpectSameClaims(verified.claims, claims_);
  // A forgery under a revoked key id is still a bad signature, not a "revoked" ticket.
  EXPECT_EQ(VerifyTicketCode(EncodeTicketCode(claims_, GenerateSigningKey(7)), ring_).check,
            CodeCheck::kBadSignature);
}

TEST_F(TicketCodeTest, RotatedKeysBothVerify) {
  const SigningKey next = GenerateSigningKey(8);
  ring_.Add(VerifyingKeyFor(next));
  EXPECT_EQ(VerifyTicketCode(code_, ring_).check, CodeCheck::kValid);
  EXPECT_EQ(VerifyTicketCode(EncodeTicketCode(SampleClaims(8), next), ring_).check,
            CodeCheck::kValid);
}

TEST_F(TicketCodeTest, AcceptsSurroundingWhitespaceAndLowerCase) {
  EXPECT_EQ(VerifyTicketCode(code_ + "\n", ring_).check, CodeCheck::kValid);
  EXPECT_EQ(VerifyTicketCode(code_ + "\r\n", ring_).check, CodeCheck::kValid);
  EXPECT_EQ(VerifyTicketCode(" \t" + code_ + " ", ring_).check, CodeCheck::kValid);
  std::string lower = code_;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(VerifyTicketCode(lower, ring_).check, CodeCheck::kValid);
  // Whitespace inside the code is not a scanner artefact.
  std::string split = code_;
  split.insert(70, " ");
  EXPECT_EQ(VerifyTicketCode(split, ring_).check, CodeCheck::kMalformed);
}

TEST_F(TicketCodeTest, UnknownVersionIsMalformed) {
  // Correctly signed, but a version this reader does not understand.
  absl::StatusOr<std::vector<uint8_t>> bytes = Base32Decode(code_);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[0] = kTicketCodeVersion + 1;
  crypto_sign_detached(bytes->data() + kTicketPayloadBytes, nullptr, bytes->data(),
                       kTicketPayloadBytes, key_.secret_key.data());
  EXPECT_EQ(VerifyTicketCode(Base32Encode(*bytes), ring_).check, CodeCheck::kMalformed);
}

TEST_F(TicketCodeTest, GarbageIsMalformed) {
  for (const char* text : {"", "\n", "HELLO", "https://example.com/ticket/123"}) {
    EXPECT_EQ(VerifyTicketCode(text, ring_).check, CodeCheck::kMalformed) << text;
  }
  EXPECT_EQ(VerifyTicketCode(std::string(kTicketCodeLength, '1'), ring_).check,
            CodeCheck::kMalformed);
}

TEST_F(TicketCodeTest, HeaderOfADamagedCodeIsItsFirstTwelveCharacters) {
  // A code with its signature garbled, lower-cased by a scanner, or cut short keeps its header.
  std::string garbled = code_;
  garbled[100] = garbled[100] == 'A' ? 'B' : 'A';
  EXPECT_EQ(TicketCodeHeader(garbled), code_.substr(0, kTicketHeaderLength));
  std::string lower = code_.substr(0, 60);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(TicketCodeHeader("  " + lower + "\n"), code_.substr(0, kTicketHeaderLength));
  EXPECT_EQ(TicketCodeHeader(code_.substr(0, kTicketHeaderLength)),
            code_.substr(0, kTicketHeaderLength));
  // The header is the version, key id and event id: decoding it gives them back.
  auto bytes = Base32Decode(code_.substr(0, 8));
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ((*bytes)[0], kTicketCodeVersion);
  EXPECT_EQ((*bytes)[1] << 8 | (*bytes)[2], 7);
}

TEST_F(TicketCodeTest, HeaderIsEmptyForAnythingThatIsNotATurnoutCode) {
  // A driver's licence (PDF417, AAMVA): a name and an address, never kept.
  EXPECT_EQ(TicketCodeHeader("@\n\x1e\rANSI 636014040002DL00410278ZC03190008DLDCSDOE\nDACJOHN\n"
                             "DAG123 MAIN ST\nDAISACRAMENTO\n"),
            "");
  EXPECT_EQ(TicketCodeHeader("https://example.org/?name=Ana"), "");
  EXPECT_EQ(TicketCodeHeader(code_.substr(0, kTicketHeaderLength - 1)), "") << "too short";
  EXPECT_EQ(TicketCodeHeader(code_ + "AAAA"), "") << "longer than any code";
  std::string bad_char = code_;
  bad_char[3] = '1';  // not Base32
  EXPECT_EQ(TicketCodeHeader(bad_char), "");
  // Base32 throughout, but another version byte.
  std::vector<uint8_t> bytes = *Base32Decode(code_);
  bytes[0] = 2;
  EXPECT_EQ(TicketCodeHeader(Base32Encode(bytes)), "");
  // A name in upper case is Base32 but decodes to no version 1.
  EXPECT_EQ(TicketCodeHeader("JOHNDOEMAINSTREET"), "");
}

TEST(KeyRingTest, AddReplacesTheKeyWithTheSameId) {
  KeyRing ring;
  const SigningKey first = GenerateSigningKey(1);
  const SigningKey second = GenerateSigningKey(1);
  ring.Add(VerifyingKeyFor(first));
  ring.Add(VerifyingKeyFor(second));
  ASSERT_NE(ring.Find(1), nullptr);
  EXPECT_EQ(ring.Find(1)->public_key, second.public_key);
  EXPECT_EQ(ring.keys().size(), 1u);
  EXPECT_EQ(ring.Find(2), nullptr);
}

TEST(TicketIdTest, RandomIdsDiffer) { EXPECT_NE(RandomTicketId(), RandomTicketId()); }

TEST(TicketIdTest, HexRoundTrips) {
  const TicketId id = RandomTicketId();
  const std::string hex = TicketIdToHex(id);
  EXPECT_EQ(hex.size(), 24u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(*TicketIdFromHex(hex), id);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(*TicketIdFromHex(upper), id);
}

TEST(TicketIdTest, HexRejectsWrongLengthOrCharacters) {
  EXPECT_FALSE(TicketIdFromHex("").ok());
  EXPECT_FALSE(TicketIdFromHex("00112233445566778899aa").ok());
  EXPECT_FALSE(TicketIdFromHex("00112233445566778899aabbcc").ok());
  EXPECT_FALSE(TicketIdFromHex("00112233445566778899aabg").ok());
  EXPECT_TRUE(TicketIdFromHex("00112233445566778899aabb").ok());
}

}  // namespace
}  // namespace turnout::domain
