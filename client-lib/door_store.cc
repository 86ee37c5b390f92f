// The door's SQLite store; see door_store.h. The layout is described in docs/door-protocol.md §6.
#include "client-lib/door_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace turnout::client {
namespace {

namespace fs = std::filesystem;

// Bumped when the layout changes; a store from a newer release is refused, never rewritten.
constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS signing_keys (
    key_id INTEGER PRIMARY KEY, public_key BLOB NOT NULL, revoked INTEGER NOT NULL);
  -- Serialized turnout.v1.Checkpoint messages, in the bundle's order.
  CREATE TABLE IF NOT EXISTS checkpoints (position INTEGER PRIMARY KEY, checkpoint BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS revoked_tickets (ticket_id TEXT PRIMARY KEY) WITHOUT ROWID;
  -- Sealed as received: only the entry's own code opens it.
  CREATE TABLE IF NOT EXISTS entries (
    lookup_key BLOB PRIMARY KEY, sealed_entry BLOB NOT NULL) WITHOUT ROWID;
  -- direction: turnout.v1.ScanDirection; *_status: turnout.v1.ScanResult.Status (0 = not known);
  -- upload_state: UploadState (local_scan.h). code is '' unless the scan is queued.
  CREATE TABLE IF NOT EXISTS scans (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_scan_id TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    registration TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    direction INTEGER NOT NULL,
    scan_time_us INTEGER NOT NULL,
    upload_state INTEGER NOT NULL,
    device_status INTEGER NOT NULL,
    canonical_status INTEGER NOT NULL,
    scan_name TEXT NOT NULL,
    error TEXT NOT NULL,
    annulled INTEGER NOT NULL,
    inside_delta INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS scans_by_registration ON scans (registration, checkpoint);
  CREATE INDEX IF NOT EXISTS scans_by_state ON scans (upload_state, seq);
  CREATE TABLE IF NOT EXISTS counts (
    checkpoint TEXT PRIMARY KEY, inside INTEGER NOT NULL, capacity INTEGER NOT NULL);
)sql";

constexpr const char* kScanColumns =
    "seq, client_scan_id, code, registration, ticket_id, checkpoint, direction, scan_time_us, "
    "upload_state, device_status, canonical_status, scan_name, error, annulled, inside_delta";

// Meta keys.
constexpr char kMetaEvent[] = "event";
constexpr char kMetaVersion[] = "bundle_version";
constexpr char kMetaRefreshed[] = "bundle_refreshed_us";
constexpr char kMetaTimeZone[] = "time_zone";
constexpr char kMetaTitle[] = "title";
constexpr char kMetaEventState[] = "event_state";
constexpr char kMetaCountsThrough[] = "counts_through_seq";

// SQLite's result as a status. What says the file is not a sound database is DataLoss, which Open
// answers by setting the file aside; anything else (a full disk, permissions) is returned as is.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view doing) {
  const std::string message =
      absl::StrCat("local store: ", doing, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return absl::DataLossError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

// One prepared statement. Bind by 1-based index; Step() until it returns false.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    const int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
    if (rc != SQLITE_OK) status_ = SqliteError(db, rc, "prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int i, int64_t v) {
    if (status_.ok()) Check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& Bind(int i, absl::string_view v) {
    if (status_.ok()) {
      Check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    return *this;
  }
  Statement& BindBlob(int i, absl::string_view v) {
    if (status_.ok()) {
      Check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    }
    return *this;
  }

  // True when a row is ready; false when done.
  absl::StatusOr<bool> Step() {
    if (!status_.ok()) return status_;
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    status_ = SqliteError(db_, rc, "step");
    return status_;
  }
  // Steps a statement that returns no rows.
  absl::Status Run() { return Step().status(); }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    const int n = sqlite3_column_bytes(stmt_, col);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) status_ = SqliteError(db_, rc, "bind");
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  absl::Status status_;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db, rc, "exec");
}

// BEGIN IMMEDIATE ... COMMIT; rolled back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db), status_(Exec(db, "BEGIN IMMEDIATE")) {}
  ~Transaction() {
    if (status_.ok() && !done_) Exec(db_, "ROLLBACK").IgnoreError();
  }
  const absl::Status& status() const { return status_; }
  absl::Status Commit() {
    done_ = true;
    return Exec(db_, "COMMIT");
  }

 private:
  sqlite3* db_;
  absl::Status status_;
  bool done_ = false;
};

LocalScan ReadScan(const Statement& s) {
  LocalScan scan;
  scan.seq = s.Int(0);
  scan.client_scan_id = s.Text(1);
  scan.code = s.Text(2);
  scan.registration = s.Text(3);
  scan.ticket_id = s.Text(4);
  scan.checkpoint = s.Text(5);
  scan.direction = static_cast<v1::ScanDirection>(s.Int(6));
  scan.scan_time = absl::FromUnixMicros(s.Int(7));
  scan.upload = static_cast<UploadState>(s.Int(8));
  scan.device_status = static_cast<v1::ScanResult::Status>(s.Int(9));
  scan.canonical_status = static_cast<v1::ScanResult::Status>(s.Int(10));
  scan.scan_name = s.Text(11);
  scan.error = s.Text(12);
  scan.annulled = s.Int(13) != 0;
  scan.inside_delta = static_cast<int>(s.Int(14));
  return scan;
}

absl::StatusOr<std::vector<LocalScan>> ReadScans(Statement& s) {
  std::vector<LocalScan> out;
  for (;;) {
    absl::StatusOr<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(ReadScan(s));
  }
}

// Opens `path` with the pragmas every connection of the engine uses.
absl::StatusOr<sqlite3*> OpenConnection(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, "open");
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 0);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

// A free name beside `path` for a damaged store.
std::string AsideName(const std::string& path, absl::Time now) {
  const std::string base =
      absl::StrCat(path, ".damaged-", absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  std::string name = base;
  for (int n = 2; fs::exists(name); ++n) name = absl::StrCat(base, "-", n);
  return name;
}

// Moves the store and its WAL files aside, keeping them paired under the new name.
absl::Status MoveAside(const std::string& path, const std::string& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    const std::string from = absl::StrCat(path, suffix);
    if (!fs::exists(from, error)) continue;
    fs::rename(from, absl::StrCat(to, suffix), error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("local store: cannot move the damaged ", from, " aside: ", error.message()));
    }
  }
  return absl::OkStatus();
}

// What can still be read from a damaged store: its event, and its queued scans up to the first
// damaged page.
struct Salvaged {
  std::string event;
  std::vector<LocalScan> scans;
};

Salvaged Salvage(const std::string& damaged) {
  Salvaged salvaged;
  std::vector<LocalScan>& out = salvaged.scans;
  absl::StatusOr<sqlite3*> db = OpenConnection(damaged, SQLITE_OPEN_READONLY);
  if (!db.ok()) return salvaged;
  {
    Statement s(*db, "SELECT value FROM meta WHERE key = 'event'");
    absl::StatusOr<bool> row = s.Step();
    if (row.ok() && *row) salvaged.event = s.Text(0);
  }
  {
    const std::string sql =
        absl::StrCat("SELECT ", kScanColumns,
                     " FROM scans WHERE upload_state = ", static_cast<int>(UploadState::kQueued),
                     " ORDER BY seq");
    Statement s(*db, sql.c_str());
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok() || !*row) break;
      LocalScan scan = ReadScan(s);
      if (!scan.client_scan_id.empty() && !scan.code.empty()) out.push_back(std::move(scan));
    }
  }
  sqlite3_close(*db);
  return salvaged;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DoorStore>> DoorStore::Open(const std::string& dir, absl::Time now,
                                                           std::optional<StoreDamage>* damage) {
  damage->reset();
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat("state directory ", dir, ": ", error.message()));
  }
  const std::string path = (fs::path(dir) / kFileName).string();
  auto open = [&path]() -> absl::StatusOr<std::unique_ptr<DoorStore>> {
    absl::StatusOr<sqlite3*> db =
        OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX);
    if (!db.ok()) return db.status();
    std::unique_ptr<DoorStore> store(new DoorStore(*db, path));
    absl::Status status = store->Initialize();
    if (!status.ok()) return status;
    return store;
  };
  absl::StatusOr<std::unique_ptr<DoorStore>> store = open();
  if (store.ok() || !absl::IsDataLoss(store.status())) return store;

  // Damaged: set it aside, start afresh, and queue again whatever scans can still be read.
  StoreDamage report;
  report.what = std::string(store.status().message());
  report.moved_to = AsideName(path, now);
  store = absl::StatusOr<std::unique_ptr<DoorStore>>();  // closes the damaged file
  absl::Status moved = MoveAside(path, report.moved_to);
  if (!moved.ok()) return moved;
  store = open();
  if (!store.ok()) return store.status();
  Salvaged salvaged = Salvage(report.moved_to);
  // The scans keep their event, so that BindToEvent refuses to drop them for another one.
  if (!salvaged.event.empty() && !salvaged.scans.empty()) {
    if (absl::Status s = (*store)->BindToEvent(salvaged.event); !s.ok()) return s;
  }
  for (LocalScan& scan : salvaged.scans) {
    scan.upload = UploadState::kQueued;
    if ((*store)->AddScan(&scan).ok()) ++report.salvaged_scans;
  }
  *damage = std::move(report);
  return store;
}

DoorStore::~DoorStore() {
  // Folds the WAL back into the file, so a copied or inspected door.sqlite is complete.
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(db_);
}

absl::Status DoorStore::Initialize() {
  // journal_mode is the first read of the file: a damaged one fails here.
  if (absl::Status s = Exec(db_, "PRAGMA journal_mode = WAL"); !s.ok()) return s;
  if (absl::Status s = Exec(db_, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON"); !s.ok()) {
    return s;
  }
  {
    Statement check(db_, "PRAGMA quick_check");
    absl::StatusOr<bool> row = check.Step();
    if (!row.ok()) return row.status();
    if (!*row || check.Text(0) != "ok") {
      return absl::DataLossError(absl::StrCat("local store: quick_check: ", check.Text(0)));
    }
  }
  int64_t version = 0;
  {
    Statement user_version(db_, "PRAGMA user_version");
    absl::StatusOr<bool> row = user_version.Step();
    if (!row.ok()) return row.status();
    version = *row ? user_version.Int(0) : 0;
  }
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("local store ", path_, " was written by a newer release (layout ", version,
                     "); use that release, or another state directory"));
  }
  if (absl::Status s = Exec(db_, kSchema); !s.ok()) return s;
  if (absl::Status s = Exec(db_, absl::StrCat("PRAGMA user_version = ", kSchemaVersion).c_str());
      !s.ok()) {
    return s;
  }
  return LoadBundle();
}

absl::Status DoorStore::LoadBundle() {
  StoredBundle b;
  {
    Statement s(db_, "SELECT key, value FROM meta");
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const std::string key = s.Text(0);
      const std::string value = s.Text(1);
      int64_t number = 0;
      if (key == kMetaEvent) b.event = value;
      if (key == kMetaTimeZone) b.time_zone = value;
      if (key == kMetaTitle) b.title = value;
      if (key == kMetaEventState && absl::SimpleAtoi(value, &number)) {
        b.event_state = static_cast<int>(number);
      }
      if (key == kMetaVersion && absl::SimpleAtoi(value, &number)) b.version = number;
      if (key == kMetaRefreshed && absl::SimpleAtoi(value, &number)) {
        b.refreshed = absl::FromUnixMicros(number);
      }
    }
  }
  {
    Statement s(db_, "SELECT key_id, public_key, revoked FROM signing_keys ORDER BY key_id");
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      const std::string public_key = s.Text(1);
      domain::VerifyingKey key;
      if (public_key.size() != key.public_key.size()) {
        return absl::DataLossError("local store: a signing key has the wrong length");
      }
      key.key_id = static_cast<uint16_t>(s.Int(0));
      std::copy(public_key.begin(), public_key.end(), key.public_key.begin());
      key.revoked = s.Int(2) != 0;
      b.keys.Add(key);
    }
  }
  {
    Statement s(db_, "SELECT checkpoint FROM checkpoints ORDER BY position");
    for (;;) {
      absl::StatusOr<bool> row = s.Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      v1::Checkpoint checkpoint;
      if (!checkpoint.ParseFromString(s.Text(0))) {
        return absl::DataLossError("local store: a checkpoint cannot be read");
      }
      b.checkpoints.push_back(std::move(checkpoint));
    }
  }
  bundle_ = std::move(b);
  return absl::OkStatus();
}

absl::Status DoorStore::SetMeta(const std::string& key, const std::string& value) {
  return Statement(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")
      .Bind(1, key)
      .Bind(2, value)
      .Run();
}

absl::Status DoorStore::BindToEvent(const std::string& event) {
  if (bundle_.event == event) return absl::OkStatus();
  if (bundle_.event.empty()) {  // a new store
    if (absl::Status s = SetMeta(kMetaEvent, event); !s.ok()) return s;
    bundle_.event = event;
    return absl::OkStatus();
  }
  {
    absl::StatusOr<int64_t> queued = Count(UploadState::kQueued);
    if (!queued.ok()) return queued.status();
    if (*queued > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "local store ", path_, " holds ", *queued, " scans of ", bundle_.event,
          " not uploaded yet; open the door engine for that event to upload them, or use "
          "another state directory"));
    }
  }
  Transaction txn(db_);
  if (!txn.status().ok()) return txn.status();
  if (absl::Status s = Exec(db_,
                            "DELETE FROM meta; DELETE FROM signing_keys; DELETE FROM checkpoints; "
                            "DELETE FROM revoked_tickets; DELETE FROM entries; DELETE FROM scans; "
                            "DELETE FROM counts");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetMeta(kMetaEvent, event); !s.ok()) return s;
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return LoadBundle();
}

absl::Status DoorStore::ApplyBundle(const v1::OfflineBundle& bundle, absl::Time received) {
  if (bundle.event() != bundle_.event) {
    return absl::InvalidArgumentError(
        absl::StrCat("a bundle of ", bundle.event(), " for a store of ", bundle_.event));
  }
  for (const v1::SigningPublicKey& key : bundle.keys()) {
    if (key.public_key().size() != 32 || key.key_id() > UINT16_MAX) {
      return absl::InvalidArgumentError("the bundle carries a malformed signing key");
    }
  }
  Transaction txn(db_);
  if (!txn.status().ok()) return txn.status();
  if (bundle.full()) {
    if (absl::Status s = Exec(db_, "DELETE FROM entries; DELETE FROM revoked_tickets"); !s.ok()) {
      return s;
    }
  }
  // Keys and checkpoints are always complete.
  if (absl::Status s = Exec(db_, "DELETE FROM signing_keys; DELETE FROM checkpoints"); !s.ok()) {
    return s;
  }
  for (const v1::SigningPublicKey& key : bundle.keys()) {
    absl::Status s =
        Statement(db_, "INSERT INTO signing_keys (key_id, public_key, revoked) VALUES (?1, ?2, ?3)")
            .Bind(1, int64_t{key.key_id()})
            .BindBlob(2, key.public_key())
            .Bind(3, int64_t{key.revoked()})
            .Run();
    if (!s.ok()) return s;
  }
  for (int i = 0; i < bundle.checkpoints_size(); ++i) {
    absl::Status s =
        Statement(db_, "INSERT INTO checkpoints (position, checkpoint) VALUES (?1, ?2)")
            .Bind(1, int64_t{i})
            .BindBlob(2, bundle.checkpoints(i).SerializeAsString())
            .Run();
    if (!s.ok()) return s;
  }
  for (const std::string& id : bundle.revoked_tickets()) {
    absl::Status s =
        Statement(db_, "INSERT OR IGNORE INTO revoked_tickets (ticket_id) VALUES (lower(?1))")
            .Bind(1, id)
            .Run();
    if (!s.ok()) return s;
  }
  for (const v1::OfflineRosterEntry& e : bundle.entries()) {
    absl::Status s = Statement(db_,
                               "INSERT OR REPLACE INTO entries (lookup_key, sealed_entry) "
                               "VALUES (?1, ?2)")
                         .BindBlob(1, e.lookup_key())
                         .BindBlob(2, e.sealed_entry())
                         .Run();
    if (!s.ok()) return s;
  }
  for (const auto& [key, value] :
       {std::pair<const char*, std::string>{kMetaVersion, absl::StrCat(bundle.version())},
        {kMetaRefreshed, absl::StrCat(absl::ToUnixMicros(received))},
        {kMetaTimeZone, bundle.time_zone()},
        {kMetaTitle, bundle.title()},
        {kMetaEventState, absl::StrCat(static_cast<int>(bundle.event_state()))}}) {
    if (absl::Status s = SetMeta(key, value); !s.ok()) return s;
  }
  if (absl::Status s = txn.Commit(); !s.ok()) return s;
  return LoadBundle();
}

absl::StatusOr<std::optional<std::string>> DoorStore::SealedEntry(
    const std::string& lookup_key) const {
  Statement s(db_, "SELECT sealed_entry FROM entries WHERE lookup_key = ?1");
  s.BindBlob(1, lookup_key);
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

absl::StatusOr<bool> DoorStore::TicketRevoked(const std::string& ticket_id) const {
  Statement s(db_, "SELECT 1 FROM revoked_tickets WHERE ticket_id = lower(?1)");
  s.Bind(1, ticket_id);
  return s.Step();
}

absl::Status DoorStore::AddScan(LocalScan* scan) {
  Statement s(db_, R"sql(
      INSERT INTO scans (client_scan_id, code, registration, ticket_id, checkpoint, direction,
                         scan_time_us, upload_state, device_status, canonical_status, scan_name,
                         error, annulled, inside_delta)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql");
  s.Bind(1, scan->client_scan_id)
      .Bind(2, scan->upload == UploadState::kQueued ? scan->code : std::string())
      .Bind(3, scan->registration)
      .Bind(4, scan->ticket_id)
      .Bind(5, scan->checkpoint)
      .Bind(6, int64_t{scan->direction})
      .Bind(7, absl::ToUnixMicros(scan->scan_time))
      .Bind(8, int64_t{static_cast<int>(scan->upload)})
      .Bind(9, int64_t{scan->device_status})
      .Bind(10, int64_t{scan->canonical_status})
      .Bind(11, scan->scan_name)
      .Bind(12, scan->error)
      .Bind(13, int64_t{scan->annulled})
      .Bind(14, int64_t{scan->inside_delta});
  if (absl::Status st = s.Run(); !st.ok()) return st;
  scan->seq = sqlite3_last_insert_rowid(db_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LocalScan>> DoorStore::Queued(int limit) const {
  const std::string sql = absl::StrCat("SELECT ", kScanColumns,
                                       " FROM scans WHERE upload_state = ?1 ORDER BY seq LIMIT ?2");
  Statement s(db_, sql.c_str());
  s.Bind(1, int64_t{static_cast<int>(UploadState::kQueued)}).Bind(2, int64_t{limit});
  return ReadScans(s);
}

absl::Status DoorStore::MarkUploaded(const std::string& client_scan_id,
                                     v1::ScanResult::Status canonical,
                                     const std::string& scan_name) {
  return Statement(db_,
                   "UPDATE scans SET upload_state = ?2, canonical_status = ?3, scan_name = ?4, "
                   "code = '' WHERE client_scan_id = ?1")
      .Bind(1, client_scan_id)
      .Bind(2, int64_t{static_cast<int>(UploadState::kUploaded)})
      .Bind(3, int64_t{canonical})
      .Bind(4, scan_name)
      .Run();
}

absl::Status DoorStore::MarkFailed(const std::string& client_scan_id, const std::string& error) {
  return Statement(db_, "UPDATE scans SET upload_state = ?2, error = ?3 WHERE client_scan_id = ?1")
      .Bind(1, client_scan_id)
      .Bind(2, int64_t{static_cast<int>(UploadState::kFailed)})
      .Bind(3, error)
      .Run();
}

absl::Status DoorStore::MarkAnnulled(int64_t seq) {
  return Statement(db_, "UPDATE scans SET annulled = 1 WHERE seq = ?1").Bind(1, seq).Run();
}

absl::StatusOr<std::vector<LocalScan>> DoorStore::ScansOf(const std::string& registration,
                                                          const v1::Checkpoint& checkpoint) const {
  const std::string sql =
      absl::StrCat("SELECT ", kScanColumns,
                   " FROM scans WHERE registration = ?1 AND (checkpoint = ?2 OR "
                   "(checkpoint = '' AND ?3)) ORDER BY seq");
  Statement s(db_, sql.c_str());
  s.Bind(1, registration).Bind(2, checkpoint.name()).Bind(3, int64_t{checkpoint.session().empty()});
  return ReadScans(s);
}

absl::StatusOr<std::optional<LocalScan>> DoorStore::LastScan() const {
  const std::string sql =
      absl::StrCat("SELECT ", kScanColumns, " FROM scans ORDER BY seq DESC LIMIT 1");
  Statement s(db_, sql.c_str());
  absl::StatusOr<std::vector<LocalScan>> scans = ReadScans(s);
  if (!scans.ok()) return scans.status();
  if (scans->empty()) return std::optional<LocalScan>();
  return std::optional<LocalScan>(std::move(scans->front()));
}

absl::StatusOr<int64_t> DoorStore::Count(UploadState state) const {
  Statement s(db_, "SELECT count(*) FROM scans WHERE upload_state = ?1");
  s.Bind(1, int64_t{static_cast<int>(state)});
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  return s.Int(0);
}

absl::StatusOr<int64_t> DoorStore::LastSeq() const {
  Statement s(db_, "SELECT coalesce(max(seq), 0) FROM scans");
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  return s.Int(0);
}

absl::Status DoorStore::SaveCounts(const v1::Attendance& attendance, int64_t through) {
  Transaction txn(db_);
  if (!txn.status().ok()) return txn.status();
  if (absl::Status s = Exec(db_, "DELETE FROM counts"); !s.ok()) return s;
  for (const v1::CheckpointAttendance& c : attendance.checkpoints()) {
    absl::Status s = Statement(db_,
                               "INSERT OR REPLACE INTO counts (checkpoint, inside, capacity) "
                               "VALUES (?1, ?2, ?3)")
                         .Bind(1, c.checkpoint())
                         .Bind(2, c.inside())
                         .Bind(3, c.capacity())
                         .Run();
    if (!s.ok()) return s;
  }
  if (absl::Status s = SetMeta(kMetaCountsThrough, absl::StrCat(through)); !s.ok()) return s;
  return txn.Commit();
}

absl::StatusOr<int64_t> DoorStore::InsideAt(const v1::Checkpoint& checkpoint) const {
  // The server's count, plus what this device did that the count had not seen: scans recorded
  // after it was read, and scans still queued.
  Statement s(db_, R"sql(
      SELECT coalesce((SELECT inside FROM counts WHERE checkpoint = ?1), 0)
           + coalesce((SELECT sum(inside_delta) FROM scans
                       WHERE (checkpoint = ?1 OR (checkpoint = '' AND ?2)) AND annulled = 0
                         AND upload_state != ?4
                         AND (upload_state = ?5 OR seq > coalesce(
                               (SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?3), 0))),
                      0))sql");
  s.Bind(1, checkpoint.name())
      .Bind(2, int64_t{checkpoint.session().empty()})
      .Bind(3, kMetaCountsThrough)
      .Bind(4, int64_t{static_cast<int>(UploadState::kFailed)})
      .Bind(5, int64_t{static_cast<int>(UploadState::kQueued)});
  absl::StatusOr<bool> row = s.Step();
  if (!row.ok()) return row.status();
  return std::max<int64_t>(0, s.Int(0));
}

}  // namespace turnout::client
