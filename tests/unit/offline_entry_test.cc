// The sealed roster entries of the offline bundle: keys derived from a code, sealing, padding,
// and the test vectors of docs/door-protocol.md (computed independently with Python's hashlib).
#include "server/domain/offline_entry.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/ticket_code.h"

namespace turnout::domain {
namespace {

using ::testing::HasSubstr;

std::string Hex(const std::string& bytes) { return absl::BytesToHexString(bytes); }
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& bytes) {
  return Hex(std::string(bytes.begin(), bytes.end()));
}

std::string NewCode() {
  TicketClaims claims;
  claims.event_id = 7;
  claims.ticket_id = RandomTicketId();
  claims.not_after = absl::Now() + absl::Hours(24);
  return EncodeTicketCode(claims, GenerateSigningKey(1));
}

TEST(DeriveEntryKeysTest, MatchesTheDocumentedTestVectors) {
  struct Vector {
    std::string code;
    std::string lookup;
    std::string seal;
  };
  const Vector vectors[] = {
      {std::string(140, 'A'), "e0ee7920ee039fd1ba05771529f3357b",
       "5de33a3f6b79b89404ab69f01057c7f286d658164990a7b85f3dc224f82e56dc"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ2"
       "34567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKQ",
       "0d9276f042e9512f28db195caafda0c3",
       "87435dd544d42f9ec5b8354aab8627a2c0a4e130b43ec258ed593f312ced43ed"},
  };
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.code);
    absl::StatusOr<EntryKeys> keys = DeriveEntryKeys(v.code);
    ASSERT_TRUE(keys.ok()) << keys.status();
    EXPECT_EQ(Hex(keys->lookup), v.lookup);
    EXPECT_EQ(Hex(keys->seal), v.seal);
  }
}

TEST(DeriveEntryKeysTest, ReadsCodesAsTheVerifierDoes) {
  const std::string code = NewCode();
  std::string lower = code;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const EntryKeys keys = *DeriveEntryKeys(code);
  EXPECT_EQ(DeriveEntryKeys(" " + code + "\r\n")->lookup, keys.lookup);
  EXPECT_EQ(DeriveEntryKeys(lower)->lookup, keys.lookup);
  EXPECT_NE(DeriveEntryKeys(NewCode())->lookup, keys.lookup);
}

TEST(DeriveEntryKeysTest, RefusesWhatIsNotACode) {
  for (const std::string& bad : {std::string(""), std::string("HELLO"), std::string(139, 'A'),
                                 std::string(141, 'A'), std::string(140, '1')}) {
    EXPECT_FALSE(DeriveEntryKeys(bad).ok()) << bad;
  }
}

TEST(SealEntryTest, OpensOnlyWithTheKeysOfItsCode) {
  const EntryKeys mine = *DeriveEntryKeys(NewCode());
  const EntryKeys other = *DeriveEntryKeys(NewCode());
  const std::string entry = "Ana Flores, needs a Spanish headset";
  const std::string sealed = SealEntry(mine, entry, PaddedEntrySize(entry.size()));
  EXPECT_EQ(*OpenEntry(mine, sealed), entry);
  EXPECT_FALSE(OpenEntry(other, sealed).ok());
  EXPECT_THAT(Hex(sealed), ::testing::Not(HasSubstr(Hex(std::string("Ana")))));
  EXPECT_EQ(sealed.find("Ana"), std::string::npos);

  std::string tampered = sealed;
  tampered[30] ^= 1;
  EXPECT_FALSE(OpenEntry(mine, tampered).ok());
  EXPECT_FALSE(OpenEntry(mine, sealed.substr(0, 20)).ok());
}

TEST(SealEntryTest, EveryEntryOfABundleHasOneSize) {
  const size_t size = PaddedEntrySize(300);
  EXPECT_EQ(size % kEntryPaddingStep, 0u);
  EXPECT_GE(size, 302u);
  for (const std::string& entry : {std::string(""), std::string("Li"), std::string(300, 'x')}) {
    const EntryKeys keys = *DeriveEntryKeys(NewCode());
    const std::string sealed = SealEntry(keys, entry, size);
    EXPECT_EQ(sealed.size(), size + kSealOverheadBytes);
    EXPECT_EQ(*OpenEntry(keys, sealed), entry);
  }
  EXPECT_EQ(PaddedEntrySize(0), kMinEntryBytes);
}

TEST(SealEntryTest, SealingTwiceGivesDifferentBytes) {
  const EntryKeys keys = *DeriveEntryKeys(NewCode());
  EXPECT_NE(SealEntry(keys, "same", 128), SealEntry(keys, "same", 128));
}

}  // namespace
}  // namespace turnout::domain
