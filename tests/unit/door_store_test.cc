// The door's SQLite store (client-lib/door_store.h): the queue survives a reopen, a damaged file is
// set aside and reported, bundles apply in full and by delta, counts add this device's scans.
#include "client-lib/door_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace turnout::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DoorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/door-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<DoorStore> Open(std::optional<StoreDamage>* damage = nullptr) {
    std::optional<StoreDamage> ignored;
    absl::StatusOr<std::unique_ptr<DoorStore>> store =
        DoorStore::Open(dir_, now_, damage ? damage : &ignored);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    EXPECT_TRUE((*store)->BindToEvent("events/1").ok());
    return *std::move(store);
  }

  static LocalScan Queued(int n) {
    LocalScan s;
    s.client_scan_id = absl::StrCat("scan-", n);
    s.code = std::string(140, static_cast<char>('A' + n % 26));
    s.registration = absl::StrCat("events/1/registrations/", n);
    s.checkpoint = "events/1/checkpoints/1";
    s.scan_time = absl::FromUnixMicros(1700000000000000 + n);
    s.upload = UploadState::kQueued;
    s.device_status = v1::ScanResult::ADMITTED;
    s.inside_delta = 1;
    return s;
  }

  std::string dir_;
  const absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

TEST_F(DoorStoreTest, TheQueueSurvivesAReopenAndAnUploadedScanKeepsNoCode) {
  {
    std::unique_ptr<DoorStore> store = Open();
    for (int i = 0; i < 3; ++i) {
      LocalScan s = Queued(i);
      ASSERT_TRUE(store->AddScan(&s).ok());
      EXPECT_EQ(s.seq, i + 1);
    }
    LocalScan again = Queued(1);
    EXPECT_TRUE(absl::IsAlreadyExists(store->AddScan(&again))) << "one row per client_scan_id";
  }
  std::unique_ptr<DoorStore> store = Open();
  absl::StatusOr<std::vector<LocalScan>> queued = store->Queued(10);
  ASSERT_TRUE(queued.ok());
  ASSERT_THAT(*queued, SizeIs(3));
  EXPECT_EQ((*queued)[2].code, Queued(2).code);
  EXPECT_EQ((*queued)[2].scan_time, Queued(2).scan_time);
  ASSERT_TRUE(
      store->MarkUploaded("scan-0", v1::ScanResult::ALREADY_CHECKED_IN, "events/1/scans/9").ok());
  ASSERT_TRUE(store->MarkFailed("scan-1", "INVALID_ARGUMENT: scan_time: ahead").ok());
  EXPECT_EQ(*store->Count(UploadState::kQueued), 1);
  EXPECT_EQ(*store->Count(UploadState::kFailed), 1);
  absl::StatusOr<std::vector<LocalScan>> mine =
      store->ScansOf("events/1/registrations/0", v1::Checkpoint());
  ASSERT_TRUE(mine.ok());
  EXPECT_THAT(*mine, IsEmpty()) << "another checkpoint";
  v1::Checkpoint entrance;
  entrance.set_name("events/1/checkpoints/1");
  mine = store->ScansOf("events/1/registrations/0", entrance);
  ASSERT_THAT(*mine, SizeIs(1));
  EXPECT_THAT((*mine)[0].code, IsEmpty());
  EXPECT_EQ((*mine)[0].EffectiveStatus(), v1::ScanResult::ALREADY_CHECKED_IN);
  EXPECT_EQ((*mine)[0].scan_name, "events/1/scans/9");
}

TEST_F(DoorStoreTest, ACorruptFileIsSetAsideReportedAndANewStoreStarts) {
  const std::string path = absl::StrCat(dir_, "/", DoorStore::kFileName);
  const std::string garbage(8192, '\x5a');
  std::ofstream(path, std::ios::binary) << garbage;
  std::optional<StoreDamage> damage;
  std::unique_ptr<DoorStore> store = Open(&damage);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(damage.has_value());
  EXPECT_THAT(damage->what, HasSubstr("not a database"));
  EXPECT_THAT(damage->moved_to, HasSubstr("door.sqlite.damaged-20231114T221320Z"));
  EXPECT_EQ(ReadFile(damage->moved_to), garbage) << "set aside as it was";
  LocalScan s = Queued(1);
  EXPECT_TRUE(store->AddScan(&s).ok());
  EXPECT_EQ(*store->Count(UploadState::kQueued), 1);
}

TEST_F(DoorStoreTest, ATruncatedFileIsSetAsideAndReported) {
  {
    std::unique_ptr<DoorStore> store = Open();
    for (int i = 0; i < 400; ++i) {
      LocalScan s = Queued(i);
      ASSERT_TRUE(store->AddScan(&s).ok());
    }
  }
  const std::string path = absl::StrCat(dir_, "/", DoorStore::kFileName);
  const auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
  std::optional<StoreDamage> damage;
  std::unique_ptr<DoorStore> store = Open(&damage);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(damage.has_value());
  EXPECT_THAT(damage->what, HasSubstr("malformed"));
  EXPECT_EQ(fs::file_size(damage->moved_to), size / 2);
  EXPECT_EQ(*store->Count(UploadState::kQueued), damage->salvaged_scans);
  // A second damaged file the same second gets a name of its own.
  store.reset();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(4096, '\x01');
  std::optional<StoreDamage> again;
  store = Open(&again);
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->moved_to, damage->moved_to);
}

TEST_F(DoorStoreTest, ScansStillReadableInADamagedFileAreQueuedAgain) {
  {
    std::unique_ptr<DoorStore> store = Open();
    for (int i = 0; i < 50; ++i) {
      LocalScan s = Queued(i);
      ASSERT_TRUE(store->AddScan(&s).ok());
    }
  }
  // Damage the index by registration, which reading the queue does not use: the table of scans
  // stays readable.
  const std::string path = absl::StrCat(dir_, "/", DoorStore::kFileName);
  int64_t root_page = 0;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT rootpage FROM sqlite_schema "
                                 "WHERE name = 'scans_by_registration'",
                                 -1, &stmt, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    root_page = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>((root_page - 1) * 4096));
    f << std::string(64, '\xff');
  }
  std::optional<StoreDamage> damage;
  std::unique_ptr<DoorStore> store = Open(&damage);
  ASSERT_TRUE(damage.has_value());
  EXPECT_EQ(damage->salvaged_scans, 50);
  absl::StatusOr<std::vector<LocalScan>> queued = store->Queued(100);
  ASSERT_THAT(*queued, SizeIs(50));
  EXPECT_EQ((*queued)[7].client_scan_id, "scan-7");
  EXPECT_EQ((*queued)[7].code, Queued(7).code);
}

TEST_F(DoorStoreTest, BundlesApplyInFullAndByDelta) {
  std::unique_ptr<DoorStore> store = Open();
  v1::OfflineBundle full;
  full.set_event("events/1");
  full.set_version(10);
  full.set_full(true);
  full.set_time_zone("America/Los_Angeles");
  full.set_event_state(v1::Event::PUBLISHED);
  v1::SigningPublicKey* key = full.add_keys();
  key->set_key_id(1);
  key->set_public_key(std::string(32, 'k'));
  full.add_checkpoints()->set_name("events/1/checkpoints/1");
  full.add_revoked_tickets("AAAAAAAAAAAAAAAAAAAAAAAA");
  for (const char* lookup : {"lookup-one......", "lookup-two......"}) {
    v1::OfflineRosterEntry* e = full.add_entries();
    e->set_lookup_key(lookup);
    e->set_sealed_entry(absl::StrCat("sealed ", lookup));
  }
  ASSERT_TRUE(store->ApplyBundle(full, now_).ok());
  EXPECT_EQ(store->bundle().version, 10);
  EXPECT_EQ(store->bundle().refreshed, now_);
  EXPECT_TRUE(*store->TicketRevoked("aaaaaaaaaaaaaaaaaaaaaaaa"));

  v1::OfflineBundle delta;
  delta.set_event("events/1");
  delta.set_version(12);
  *delta.mutable_keys() = full.keys();
  delta.mutable_keys(0)->set_revoked(true);
  *delta.mutable_checkpoints() = full.checkpoints();
  delta.add_checkpoints()->set_name("events/1/checkpoints/2");
  delta.add_revoked_tickets("bbbbbbbbbbbbbbbbbbbbbbbb");
  delta.set_event_state(v1::Event::CANCELED);
  v1::OfflineRosterEntry* changed = delta.add_entries();
  changed->set_lookup_key("lookup-two......");
  changed->set_sealed_entry("sealed again");
  ASSERT_TRUE(store->ApplyBundle(delta, now_ + absl::Minutes(1)).ok());
  EXPECT_EQ(*store->SealedEntry("lookup-one......"), "sealed lookup-one......");
  EXPECT_EQ(*store->SealedEntry("lookup-two......"), "sealed again");
  EXPECT_TRUE(*store->TicketRevoked("AAAAAAAAAAAAAAAAAAAAAAAA")) << "a delta only adds";
  EXPECT_TRUE(*store->TicketRevoked("bbbbbbbbbbbbbbbbbbbbbbbb"));
  EXPECT_THAT(store->bundle().checkpoints, SizeIs(2));
  EXPECT_TRUE(store->bundle().keys.Find(1)->revoked);
  EXPECT_EQ(store->bundle().event_state, v1::Event::CANCELED) << "a delta carries the state too";

  full.set_version(20);
  full.set_event_state(v1::Event::DRAFT);
  full.mutable_entries()->DeleteSubrange(1, 1);
  ASSERT_TRUE(store->ApplyBundle(full, now_).ok());
  EXPECT_FALSE(store->SealedEntry("lookup-two......")->has_value()) << "a full one replaces all";
  EXPECT_FALSE(*store->TicketRevoked("bbbbbbbbbbbbbbbbbbbbbbbb"));

  v1::OfflineBundle other = full;
  other.set_event("events/2");
  EXPECT_TRUE(absl::IsInvalidArgument(store->ApplyBundle(other, now_)));
  store.reset();
  store = Open();
  EXPECT_EQ(store->bundle().version, 20) << "kept across a reopen";
  EXPECT_EQ(store->bundle().time_zone, "America/Los_Angeles");
  EXPECT_EQ(store->bundle().event_state, v1::Event::DRAFT);
}

TEST_F(DoorStoreTest, AStoreOfAnotherEventWithScansQueuedIsNotEmptied) {
  std::unique_ptr<DoorStore> store = Open();
  LocalScan s = Queued(1);
  ASSERT_TRUE(store->AddScan(&s).ok());
  absl::Status other = store->BindToEvent("events/2");
  EXPECT_TRUE(absl::IsFailedPrecondition(other)) << other;
  EXPECT_THAT(other.message(), HasSubstr("1 scans of events/1"));
  ASSERT_TRUE(store->MarkUploaded("scan-1", v1::ScanResult::ADMITTED, "events/1/scans/1").ok());
  EXPECT_TRUE(store->BindToEvent("events/2").ok());
  EXPECT_EQ(*store->LastSeq(), 0);
}

TEST_F(DoorStoreTest, InsideIsTheServersCountPlusWhatItHadNotSeen) {
  std::unique_ptr<DoorStore> store = Open();
  v1::Checkpoint entrance;
  entrance.set_name("events/1/checkpoints/1");
  EXPECT_EQ(*store->InsideAt(entrance), 0);
  for (int i = 0; i < 3; ++i) {
    LocalScan s = Queued(i);
    ASSERT_TRUE(store->AddScan(&s).ok());
  }
  ASSERT_TRUE(store->MarkUploaded("scan-0", v1::ScanResult::ADMITTED, "events/1/scans/1").ok());
  v1::Attendance attendance;
  v1::CheckpointAttendance* c = attendance.add_checkpoints();
  c->set_checkpoint(entrance.name());
  c->set_inside(10);  // includes scan-0, uploaded before the count was read
  ASSERT_TRUE(store->SaveCounts(attendance, *store->LastSeq()).ok());
  EXPECT_EQ(*store->InsideAt(entrance), 12) << "scan-1 and scan-2 are still queued";
  LocalScan out = Queued(3);
  out.direction = v1::SCAN_DIRECTION_EXIT;
  out.upload = UploadState::kAnsweredOnline;
  out.inside_delta = -1;
  ASSERT_TRUE(store->AddScan(&out).ok());
  EXPECT_EQ(*store->InsideAt(entrance), 11);
  ASSERT_TRUE(store->MarkAnnulled(out.seq).ok());
  EXPECT_EQ(*store->InsideAt(entrance), 12);
}

}  // namespace
}  // namespace turnout::client
