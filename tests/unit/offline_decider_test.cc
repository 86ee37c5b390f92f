// The door's offline decisions (client-lib/offline_decider.h, docs/door-protocol.md §3) on a bundle
// made here with the domain's own signing and sealing, and a fake of what the device knows.
#include "client-lib/offline_decider.h"

#include <map>
#include <set>

#include "client-lib/door_convert.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/offline_entry.h"

namespace turnout::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kEvent = 7;

class FakeKnowledge final : public OfflineKnowledge {
 public:
  absl::StatusOr<std::optional<std::string>> SealedEntry(
      const std::string& lookup_key) const override {
    ++entry_reads;
    auto it = entries.find(lookup_key);
    if (it == entries.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::StatusOr<bool> TicketRevoked(const std::string& ticket_id) const override {
    return revoked.count(ticket_id) > 0;
  }
  absl::StatusOr<std::vector<LocalScan>> ScansOf(const std::string& registration,
                                                 const v1::Checkpoint&) const override {
    std::vector<LocalScan> out;
    for (const LocalScan& s : scans) {
      if (s.registration == registration) out.push_back(s);
    }
    return out;
  }
  absl::StatusOr<int64_t> InsideAt(const v1::Checkpoint&) const override { return inside; }

  std::map<std::string, std::string> entries;
  std::set<std::string> revoked;
  std::vector<LocalScan> scans;
  int64_t inside = 0;
  mutable int entry_reads = 0;
};

class OfflineDeciderTest : public ::testing::Test {
 protected:
  OfflineDeciderTest() {
    ring_.Add(domain::VerifyingKeyFor(key_));
    entrance_.set_name("events/7/checkpoints/1");
    entrance_.set_title("Entrance");
    entrance_.set_allow_reentry(true);
    *entrance_.mutable_open_time() = ToProtoTime(now_ - absl::Hours(2));
    *entrance_.mutable_close_time() = ToProtoTime(now_ + absl::Hours(6));
    room_ = entrance_;
    room_.set_name("events/7/checkpoints/2");
    room_.set_title("Plenary");
    room_.set_session("events/7/sessions/3");
    room_.set_room("Hall A");
    room_.set_capacity(2);
    breakout_ = room_;
    breakout_.set_name("events/7/checkpoints/3");
    breakout_.set_title("Workers' rights");
    breakout_.set_session("events/7/sessions/4");
    breakout_.set_room("Room 12");
    breakout_.set_requires_selection(true);
    checkpoints_ = {entrance_, room_, breakout_};
  }

  // A genuine code of `event`, and (for this event) its sealed entry in the bundle.
  std::string Issue(const std::string& name, v1::Registration::Status status,
                    int64_t event = kEvent, bool with_entry = true) {
    domain::TicketClaims claims;
    claims.event_id = static_cast<uint32_t>(event);
    claims.ticket_id = domain::RandomTicketId();
    claims.not_after = now_ + absl::Hours(24);
    const std::string code = domain::EncodeTicketCode(claims, key_);
    if (with_entry) {
      v1::OfflineEntry entry;
      entry.set_registration(absl::StrCat("events/7/registrations/", ++registrations_));
      entry.set_display_name(name);
      entry.set_preferred_language("es");
      entry.add_attention_flags(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION);
      entry.set_status(status);
      v1::SessionChoice* choice = entry.add_session_choices();
      choice->set_session("events/7/sessions/4");
      choice->set_round(1);
      choice->set_status(v1::SessionChoice::CONFIRMED);
      entry.set_ticket_id(domain::TicketIdToHex(claims.ticket_id));
      entries_[code] = entry;
      Seal(code);
    }
    ticket_ids_[code] = domain::TicketIdToHex(claims.ticket_id);
    return code;
  }
  // (Re)seals the entry of `code` after a test changed it.
  void Seal(const std::string& code) {
    const domain::EntryKeys keys = *domain::DeriveEntryKeys(code);
    const std::string plain = entries_[code].SerializeAsString();
    knowledge_.entries[keys.lookup_bytes()] =
        domain::SealEntry(keys, plain, domain::PaddedEntrySize(plain.size()));
  }

  OfflineDecision Decide(const std::string& code, const v1::Checkpoint& at,
                         v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY,
                         absl::Duration offset = absl::ZeroDuration()) {
    const OfflineContext context{kEvent, &ring_, &checkpoints_, at, "en"};
    absl::StatusOr<OfflineDecision> d =
        DecideOffline(context, knowledge_, {code, direction, now_ + offset});
    EXPECT_TRUE(d.ok()) << d.status();
    return d.value_or(OfflineDecision{});
  }
  static std::string StatusOf(const OfflineDecision& d) {
    return v1::ScanResult::Status_Name(d.result.status());
  }
  LocalScan Local(const std::string& code, v1::ScanResult::Status status, absl::Duration offset,
                  v1::ScanDirection direction = v1::SCAN_DIRECTION_ENTRY,
                  UploadState upload = UploadState::kQueued) {
    LocalScan s;
    s.seq = static_cast<int64_t>(knowledge_.scans.size()) + 1;
    s.registration = entries_[code].registration();
    s.checkpoint = entrance_.name();
    s.direction = direction;
    s.scan_time = now_ + offset;
    s.upload = upload;
    s.device_status = status;
    return s;
  }

  const absl::Time now_ = absl::FromUnixSeconds(1700000000);
  const domain::SigningKey key_ = domain::GenerateSigningKey(1);
  domain::KeyRing ring_;
  v1::Checkpoint entrance_, room_, breakout_;
  std::vector<v1::Checkpoint> checkpoints_;
  std::map<std::string, v1::OfflineEntry> entries_;
  std::map<std::string, std::string> ticket_ids_;
  FakeKnowledge knowledge_;
  int registrations_ = 0;
};

TEST_F(OfflineDeciderTest, AdmitsAConfirmedTicketAndShowsWhatTheServerShows) {
  const std::string code = Issue("Ana Flores", v1::Registration::CONFIRMED);
  const OfflineDecision d = Decide(code, entrance_);
  EXPECT_EQ(StatusOf(d), "ADMITTED");
  EXPECT_EQ(d.result.message(), domain::ScanMessage(domain::ScanStatus::kAdmitted, "en"));
  EXPECT_EQ(d.result.display_name(), "Ana Flores");
  EXPECT_EQ(d.result.registration(), "events/7/registrations/1");
  EXPECT_EQ(d.result.preferred_language(), "es");
  EXPECT_THAT(d.result.attention_flags(), ElementsAre(v1::ATTENTION_FLAG_SPANISH_INTERPRETATION));
  ASSERT_EQ(d.result.session_choices_size(), 1);
  EXPECT_EQ(d.result.session_choices(0).title(), "Workers' rights") << "from the bundle";
  EXPECT_EQ(d.result.session_choices(0).room(), "Room 12");
  EXPECT_EQ(d.ticket_id, ticket_ids_[code]);
  EXPECT_EQ(d.inside_delta, 1);
  EXPECT_EQ(BreakoutsOf(d.result.session_choices(), checkpoints_).at(0).name(), breakout_.name());
}

// The bundle says the event is a DRAFT or CANCELED: the door admits nobody, as the server would,
// and still lets people out.
TEST_F(OfflineDeciderTest, AnEventThatIsNotPublishedAdmitsNobodyButLetsPeopleOut) {
  const std::string code = Issue("Ana Flores", v1::Registration::CONFIRMED);
  OfflineContext context{kEvent, &ring_, &checkpoints_, entrance_, "en"};
  context.event_published = false;
  for (const v1::Checkpoint& at : {entrance_, room_, breakout_}) {
    context.checkpoint = at;
    absl::StatusOr<OfflineDecision> entry =
        DecideOffline(context, knowledge_, {code, v1::SCAN_DIRECTION_ENTRY, now_});
    ASSERT_TRUE(entry.ok()) << entry.status();
    EXPECT_EQ(StatusOf(*entry), "OUTSIDE_CHECKIN_WINDOW") << at.title();
    EXPECT_EQ(entry->inside_delta, 0);
  }
  context.checkpoint = entrance_;
  absl::StatusOr<OfflineDecision> exit =
      DecideOffline(context, knowledge_, {code, v1::SCAN_DIRECTION_EXIT, now_});
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_EQ(StatusOf(*exit), "EXIT_RECORDED");
}

TEST_F(OfflineDeciderTest, MessagesAreInTheDoorsLanguage) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  const OfflineContext context{kEvent, &ring_, &checkpoints_, entrance_, "es"};
  absl::StatusOr<OfflineDecision> d = DecideOffline(context, knowledge_, {code, {}, now_});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->result.message(), domain::ScanMessage(domain::ScanStatus::kAdmitted, "es"));
}

TEST_F(OfflineDeciderTest, UnreadableForgedOrUnknownKeyCodesAreInvalidAndNameNobody) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  std::string forged = code;
  forged[60] = forged[60] == 'A' ? 'B' : 'A';
  const domain::SigningKey other = domain::GenerateSigningKey(9);
  domain::TicketClaims claims;
  claims.event_id = kEvent;
  claims.not_after = now_ + absl::Hours(1);
  for (const std::string& c :
       {std::string("hello"), forged, domain::EncodeTicketCode(claims, other)}) {
    const OfflineDecision d = Decide(c, entrance_);
    EXPECT_EQ(StatusOf(d), "INVALID") << c;
    EXPECT_THAT(d.result.display_name(), IsEmpty());
    EXPECT_EQ(d.inside_delta, 0);
  }
}

TEST_F(OfflineDeciderTest, AGenuineCodeWithNoEntryIsAnUnknownTicket) {
  const std::string code = Issue("", v1::Registration::CONFIRMED, kEvent, /*with_entry=*/false);
  EXPECT_EQ(StatusOf(Decide(code, entrance_)), "INVALID");
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_EXIT)), "INVALID");
}

TEST_F(OfflineDeciderTest, AnotherEventsTicketIsWrongEventWithoutOpeningAnything) {
  const std::string code = Issue("", v1::Registration::CONFIRMED, 8, /*with_entry=*/false);
  const OfflineDecision d = Decide(code, entrance_);
  EXPECT_EQ(StatusOf(d), "WRONG_EVENT");
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_EXIT)), "WRONG_EVENT");
  EXPECT_EQ(knowledge_.entry_reads, 0);
  EXPECT_THAT(d.result.registration(), IsEmpty());
}

TEST_F(OfflineDeciderTest, AReissuedCodeIsRevokedButItsExitIsRecorded) {
  // The old code opens no entry in a full bundle; in a delta on top of an older one it still does.
  const std::string old_code = Issue("", v1::Registration::CONFIRMED, kEvent, false);
  const std::string kept = Issue("Ben", v1::Registration::CONFIRMED);
  knowledge_.revoked = {ticket_ids_[old_code], ticket_ids_[kept]};
  EXPECT_EQ(StatusOf(Decide(old_code, entrance_)), "REVOKED");
  EXPECT_EQ(StatusOf(Decide(old_code, entrance_, v1::SCAN_DIRECTION_EXIT)), "EXIT_RECORDED");
  const OfflineDecision d = Decide(kept, entrance_);
  EXPECT_EQ(StatusOf(d), "REVOKED");
  EXPECT_EQ(d.result.display_name(), "Ben") << "as the server shows a reissued ticket's holder";
}

TEST_F(OfflineDeciderTest, ARevokedKeysCodeIsGenuineButRevoked) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  domain::VerifyingKey revoked = domain::VerifyingKeyFor(key_);
  revoked.revoked = true;
  ring_.Add(revoked);
  EXPECT_EQ(StatusOf(Decide(code, entrance_)), "REVOKED");
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_EXIT)), "EXIT_RECORDED");
}

TEST_F(OfflineDeciderTest, CanceledIsRefusedButAnExitIsRecorded) {
  const std::string code = Issue("Carla", v1::Registration::CANCELED);
  const OfflineDecision d = Decide(code, entrance_);
  EXPECT_EQ(StatusOf(d), "CANCELED");
  EXPECT_EQ(d.result.display_name(), "Carla");
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_EXIT)), "EXIT_RECORDED");
}

TEST_F(OfflineDeciderTest, OutsideTheWindowOrWaitlistedOrNotChosen) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_ENTRY, -absl::Hours(3))),
            "OUTSIDE_CHECKIN_WINDOW");
  EXPECT_EQ(StatusOf(Decide(code, entrance_, v1::SCAN_DIRECTION_ENTRY, absl::Hours(6))),
            "OUTSIDE_CHECKIN_WINDOW")
      << "the window closes at its end";
  EXPECT_EQ(StatusOf(Decide(code, breakout_)), "ADMITTED") << "chosen and confirmed";
  const std::string waitlisted = Issue("Dora", v1::Registration::WAITLISTED);
  EXPECT_EQ(StatusOf(Decide(waitlisted, entrance_)), "NOT_REGISTERED_FOR_SESSION");
  const std::string other = Issue("Eli", v1::Registration::CONFIRMED);
  entries_[other].mutable_session_choices(0)->set_status(v1::SessionChoice::WAITLISTED);
  Seal(other);
  EXPECT_EQ(StatusOf(Decide(other, breakout_)), "NOT_REGISTERED_FOR_SESSION");
}

TEST_F(OfflineDeciderTest, InsideAtBundleTimeIsADuplicateWithItsFirstEntry) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  v1::OfflinePresence* p = entries_[code].add_presence();
  p->set_checkpoint(entrance_.name());
  p->set_ever_admitted(true);
  p->set_inside(true);
  *p->mutable_first_entry_time() = ToProtoTime(now_ - absl::Minutes(40));
  *p->mutable_last_scan_time() = ToProtoTime(now_ - absl::Minutes(40));
  Seal(code);
  const OfflineDecision d = Decide(code, entrance_);
  EXPECT_EQ(StatusOf(d), "ALREADY_CHECKED_IN");
  EXPECT_EQ(FromProtoTime(d.result.first_entry_time()), now_ - absl::Minutes(40));
  EXPECT_EQ(d.result.first_entry_checkpoint(), entrance_.name());
  EXPECT_EQ(d.inside_delta, 0);
  EXPECT_EQ(StatusOf(Decide(code, room_)), "ADMITTED") << "presence is per checkpoint";
}

TEST_F(OfflineDeciderTest, ThisDevicesScansSinceTheBundleCount) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  knowledge_.scans.push_back(Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(10)));
  EXPECT_EQ(StatusOf(Decide(code, entrance_)), "ALREADY_CHECKED_IN");
  knowledge_.scans.push_back(
      Local(code, v1::ScanResult::EXIT_RECORDED, -absl::Minutes(5), v1::SCAN_DIRECTION_EXIT));
  const OfflineDecision back = Decide(code, entrance_);
  EXPECT_EQ(StatusOf(back), "ADMITTED") << "re-entry is allowed after an exit";
  const OfflineDecision out = Decide(code, entrance_, v1::SCAN_DIRECTION_EXIT);
  EXPECT_EQ(out.inside_delta, 0) << "already out, as far as this device knows";
}

TEST_F(OfflineDeciderTest, KnownPresenceSkipsWhatTheBundleHasSeenAndWhatNeverCounted) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  v1::OfflinePresence* p = entries_[code].add_presence();
  p->set_checkpoint(entrance_.name());
  p->set_ever_admitted(true);
  p->set_inside(false);
  *p->mutable_first_entry_time() = ToProtoTime(now_ - absl::Minutes(30));
  *p->mutable_last_scan_time() = ToProtoTime(now_ - absl::Minutes(20));
  // Uploaded before the bundle: the bundle's presence already holds it (an exit came after).
  LocalScan seen =
      Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(30), {}, UploadState::kUploaded);
  LocalScan annulled = Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(2));
  annulled.annulled = true;
  LocalScan failed =
      Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(1), {}, UploadState::kFailed);
  const std::vector<LocalScan> local = {seen, annulled, failed};
  domain::PresenceView presence = KnownPresence(entries_[code], entrance_, local);
  EXPECT_FALSE(presence.inside);
  EXPECT_TRUE(presence.ever_admitted);
  // A server answer overrules the device's: a canonical ALREADY_CHECKED_IN admits nobody.
  LocalScan overruled =
      Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(1), {}, UploadState::kUploaded);
  overruled.canonical_status = v1::ScanResult::ALREADY_CHECKED_IN;
  const std::vector<LocalScan> later = {overruled};
  EXPECT_FALSE(KnownPresence(entries_[code], entrance_, later).inside);
  // An entry scanned online here with an empty checkpoint counts at the entrance.
  LocalScan online =
      Local(code, v1::ScanResult::ADMITTED, -absl::Minutes(1), {}, UploadState::kAnsweredOnline);
  online.checkpoint = "";
  const std::vector<LocalScan> at_entrance = {online};
  EXPECT_TRUE(KnownPresence(entries_[code], entrance_, at_entrance).inside);
  EXPECT_FALSE(KnownPresence(entries_[code], room_, at_entrance).inside);
}

TEST_F(OfflineDeciderTest, ARoomIsFullByWhatThisDeviceKnows) {
  const std::string code = Issue("Ana", v1::Registration::CONFIRMED);
  knowledge_.inside = 2;
  EXPECT_EQ(StatusOf(Decide(code, room_)), "SESSION_FULL");
  EXPECT_EQ(StatusOf(Decide(code, breakout_)), "ADMITTED")
      << "a breakout chosen in advance has a seat whatever the count";
  EXPECT_EQ(StatusOf(Decide(code, entrance_)), "ADMITTED") << "the entrance has no capacity";
  knowledge_.inside = 1;
  EXPECT_EQ(StatusOf(Decide(code, room_)), "ADMITTED");
}

}  // namespace
}  // namespace turnout::client
