// The door engine: online first, offline from the bundle with the server's rules, every scan in
// the local store before its answer is shown; a background thread uploads and refreshes. See
// door_engine.h, and docs/door-protocol.md §5-6 for what it does and why.
#include "client-lib/door_engine.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client-lib/door_convert.h"
#include "client-lib/door_store.h"
#include "client-lib/names.h"
#include "client-lib/offline_decider.h"

namespace turnout::client {
namespace {

// While offline, how often the background thread asks whether the server is back. With gRPC
// reconnecting at most 1 s apart (ClientOptions::max_reconnect_backoff), the door is back online
// within about a second of the server.
constexpr absl::Duration kProbeInterval = absl::Milliseconds(250);

// The server did not answer (or not in time): decide offline, retry later.
bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// A row of an upload that the server could not take now but may later.
bool IsTransientRow(int32_t code) {
  const auto c = static_cast<absl::StatusCode>(code);
  return c == absl::StatusCode::kUnavailable || c == absl::StatusCode::kDeadlineExceeded ||
         c == absl::StatusCode::kAborted || c == absl::StatusCode::kResourceExhausted;
}

absl::Status Offline(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, " needs the server; the door is offline"));
}

absl::Status Annotate(absl::string_view step, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(step, ": ", status.message()));
}

// The store as the offline decider reads it. Used with the engine's mutex held.
class StoreKnowledge final : public OfflineKnowledge {
 public:
  explicit StoreKnowledge(const DoorStore& store) : store_(store) {}
  absl::StatusOr<std::optional<std::string>> SealedEntry(
      const std::string& lookup_key) const override {
    return store_.SealedEntry(lookup_key);
  }
  absl::StatusOr<bool> TicketRevoked(const std::string& ticket_id) const override {
    return store_.TicketRevoked(ticket_id);
  }
  absl::StatusOr<std::vector<LocalScan>> ScansOf(const std::string& registration,
                                                 const v1::Checkpoint& checkpoint) const override {
    return store_.ScansOf(registration, checkpoint);
  }
  absl::StatusOr<int64_t> InsideAt(const v1::Checkpoint& checkpoint) const override {
    return store_.InsideAt(checkpoint);
  }

 private:
  const DoorStore& store_;
};

class OnlineFirstDoorEngine final : public DoorEngine {
 public:
  OnlineFirstDoorEngine(const DoorOptions& options, int64_t event_id,
                        std::unique_ptr<Client> client, std::unique_ptr<Client> fast,
                        std::unique_ptr<DoorStore> store, std::optional<StoreDamage> damage)
      : options_(options),
        event_id_(event_id),
        client_(std::move(client)),
        fast_(std::move(fast)),
        damage_(std::move(damage)),
        store_(std::move(store)),
        checkpoint_(options.checkpoint) {}

  ~OnlineFirstDoorEngine() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    if (thread_.joinable()) thread_.join();
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  absl::StatusOr<DoorAnswer> Scan(const DoorScan& scan) override;
  absl::Status AnnulLast() override;
  absl::StatusOr<std::vector<v1::AttendeeMatch>> Search(const std::string& query) override;
  absl::StatusOr<DoorAnswer> WalkIn(const v1::Registration& registration) override;
  absl::Status SetCheckpoint(const std::string& checkpoint) override;
  std::vector<v1::Checkpoint> Checkpoints() const override;
  absl::Status SyncNow() override { return Sync(); }
  DoorState State() const override;

 private:
  // Checks `checkpoint` against the bundle (when there is one); "" is the entrance.
  absl::Status CheckCheckpoint(const std::string& checkpoint) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The scan time: the device's clock, in whole microseconds as the server keeps it.
  absl::Time Now() const { return absl::FromUnixMicros(absl::ToUnixMicros(options_.now())); }

  // The bundle's checkpoint `name` ("" = the entrance), or nullptr.
  const v1::Checkpoint* FindCheckpoint(const std::string& name) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasBundle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return store_->bundle().version != 0;
  }

  DoorAnswer RecordOnline(const v1::ScanRequest& request, const v1::ScanResult& result)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<DoorAnswer> DecideAndQueue(const DoorScan& scan, const std::string& id,
                                            const std::string& checkpoint, absl::Time at)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Records what an RPC said about the server: reachable, or not (with why, for DoorState).
  void Reached() ABSL_LOCKS_EXCLUDED(mu_);
  void Unreachable(absl::string_view step, const absl::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  // Sync = upload the queue, refresh the bundle, refresh the counts; one at a time.
  absl::Status Sync() ABSL_LOCKS_EXCLUDED(mu_, sync_mu_);
  absl::Status Upload() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RefreshBundle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RefreshCounts(const Client& client) ABSL_LOCKS_EXCLUDED(mu_);
  void Run();

  const DoorOptions options_;
  const int64_t event_id_;
  // options.client: uploads, bundles, search, walk-ins, annulment.
  const std::unique_ptr<Client> client_;
  // One attempt within online_deadline: scans, and the probe while offline.
  const std::unique_ptr<Client> fast_;
  const std::optional<StoreDamage> damage_;

  absl::Mutex sync_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::unique_ptr<DoorStore> store_ ABSL_GUARDED_BY(mu_);
  std::string checkpoint_ ABSL_GUARDED_BY(mu_);
  // Believed reachable: scans are tried online first. Starts true, so the first scan tries.
  bool online_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time last_sync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Run() goes at once (start-up, or the door just went offline and should start probing).
  bool wake_ ABSL_GUARDED_BY(mu_) = true;
  std::thread thread_;
};

const v1::Checkpoint* OnlineFirstDoorEngine::FindCheckpoint(const std::string& name) const {
  for (const v1::Checkpoint& c : store_->bundle().checkpoints) {
    if (name.empty() ? c.session().empty() : c.name() == name) return &c;
  }
  return nullptr;
}

absl::Status OnlineFirstDoorEngine::CheckCheckpoint(const std::string& checkpoint) const {
  if (checkpoint.empty()) return absl::OkStatus();
  absl::StatusOr<ResourceName> name = ParseResourceName(checkpoint);
  if (!name.ok() || name->collection != "checkpoints" || name->Event() != options_.event) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint: \"", checkpoint, "\" is not a checkpoint of ", options_.event,
                     " (events/{event}/checkpoints/{checkpoint}, or empty for the entrance)"));
  }
  if (HasBundle() && FindCheckpoint(checkpoint) == nullptr) {
    return absl::NotFoundError(absl::StrCat("checkpoint ", checkpoint, " is not one of ",
                                            options_.event, "'s checkpoints"));
  }
  return absl::OkStatus();
}

void OnlineFirstDoorEngine::Reached() {
  absl::MutexLock lock(&mu_);
  online_ = true;
}

void OnlineFirstDoorEngine::Unreachable(absl::string_view step, const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  if (online_) wake_ = true;  // start probing now rather than after sync_interval
  online_ = false;
  last_error_ =
      absl::StrCat(step, ": ", absl::StatusCodeToString(status.code()), ": ", status.message());
}

absl::StatusOr<DoorAnswer> OnlineFirstDoorEngine::Scan(const DoorScan& scan) {
  if (scan.code.empty() == scan.registration.empty()) {
    return absl::InvalidArgumentError(
        "scan: give the code as read, or a registration found by Search (not both)");
  }
  if (scan.direction != v1::SCAN_DIRECTION_ENTRY && scan.direction != v1::SCAN_DIRECTION_EXIT &&
      scan.direction != v1::SCAN_DIRECTION_UNSPECIFIED) {
    return absl::InvalidArgumentError("scan: direction must be ENTRY or EXIT");
  }
  const std::string id = NewRequestId();
  const absl::Time at = Now();
  std::string checkpoint;
  bool try_online = false;
  {
    absl::MutexLock lock(&mu_);
    checkpoint = checkpoint_;
    // Known to be offline: decide at once rather than make the line wait for a timeout; the
    // background probe notices within kProbeInterval when the server is back.
    try_online = online_ || !HasBundle() || !scan.registration.empty();
  }
  if (try_online) {
    v1::ScanRequest request;
    request.set_event(options_.event);
    request.set_checkpoint(checkpoint);
    request.set_code(scan.code);
    request.set_registration(scan.registration);
    request.set_direction(scan.direction);
    request.set_client_scan_id(id);
    *request.mutable_scan_time() = ToProtoTime(at);
    request.set_language(options_.language);
    absl::StatusOr<v1::ScanResult> result = fast_->Scan(request);
    if (result.ok()) {
      Reached();
      return RecordOnline(request, *result);
    }
    if (!IsTransient(result.status())) return result.status();
    Unreachable("scan", result.status());
  }
  if (!scan.registration.empty()) return Offline("admitting someone found by name");
  absl::MutexLock lock(&mu_);
  return DecideAndQueue(scan, id, checkpoint, at);
}

DoorAnswer OnlineFirstDoorEngine::RecordOnline(const v1::ScanRequest& request,
                                               const v1::ScanResult& result) {
  DoorAnswer answer;
  answer.result = result;
  answer.client_scan_id = request.client_scan_id();
  LocalScan row;
  row.client_scan_id = request.client_scan_id();
  row.registration = result.registration();
  row.checkpoint = request.checkpoint();
  row.direction = request.direction();
  row.scan_time = FromProtoTime(request.scan_time());
  row.upload = UploadState::kAnsweredOnline;
  row.device_status = result.status();
  row.canonical_status = result.status();
  row.scan_name = result.scan();
  // The server does not say whether an exit found the person inside; assume it did.
  row.inside_delta = result.status() == v1::ScanResult::ADMITTED        ? 1
                     : result.status() == v1::ScanResult::EXIT_RECORDED ? -1
                                                                        : 0;
  absl::MutexLock lock(&mu_);
  if (!request.code().empty()) {
    const domain::VerifiedCode code =
        domain::VerifyTicketCode(request.code(), store_->bundle().keys);
    if (code.check != domain::CodeCheck::kMalformed) {
      row.ticket_id = domain::TicketIdToHex(code.claims.ticket_id);
    }
  }
  answer.breakouts = BreakoutsOf(result.session_choices(), store_->bundle().checkpoints);
  // The server holds the scan already: a local failure costs this device's own knowledge of it,
  // not the scan, so the answer is still shown.
  if (absl::Status s = store_->AddScan(&row); !s.ok()) last_error_ = std::string(s.message());
  return answer;
}

absl::StatusOr<DoorAnswer> OnlineFirstDoorEngine::DecideAndQueue(const DoorScan& scan,
                                                                 const std::string& id,
                                                                 const std::string& checkpoint,
                                                                 absl::Time at) {
  if (!HasBundle()) {
    return absl::UnavailableError(
        absl::StrCat("the server does not answer and this device holds no offline bundle of ",
                     options_.event, " yet; connect once to get one"));
  }
  const v1::Checkpoint* where = FindCheckpoint(checkpoint);
  if (where == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint ", checkpoint.empty() ? "(the entrance)" : checkpoint,
                     " is not in the offline bundle"));
  }
  const StoredBundle& bundle = store_->bundle();
  OfflineContext context{event_id_, &bundle.keys, &bundle.checkpoints, *where, options_.language};
  context.event_published =
      bundle.event_state != v1::Event::DRAFT && bundle.event_state != v1::Event::CANCELED;
  absl::StatusOr<OfflineDecision> decision =
      DecideOffline(context, StoreKnowledge(*store_), {scan.code, scan.direction, at});
  if (!decision.ok()) return decision.status();
  LocalScan row;
  row.client_scan_id = id;
  row.code = scan.code;
  row.registration = decision->result.registration();
  row.ticket_id = decision->ticket_id;
  row.checkpoint = checkpoint;
  row.direction = scan.direction;
  row.scan_time = at;
  row.upload = UploadState::kQueued;
  row.device_status = decision->result.status();
  row.inside_delta = decision->inside_delta;
  // Committed (fsync) before the volunteer sees the answer.
  if (absl::Status s = store_->AddScan(&row); !s.ok()) return s;
  DoorAnswer answer;
  answer.result = std::move(decision->result);
  answer.offline = true;
  answer.client_scan_id = id;
  answer.breakouts = BreakoutsOf(answer.result.session_choices(), bundle.checkpoints);
  return answer;
}

absl::Status OnlineFirstDoorEngine::AnnulLast() {
  absl::MutexLock sync(&sync_mu_);
  std::optional<LocalScan> last;
  {
    absl::MutexLock lock(&mu_);
    if (!online_) return Offline("annulling a scan");
    absl::StatusOr<std::optional<LocalScan>> found = store_->LastScan();
    if (!found.ok()) return found.status();
    last = *std::move(found);
  }
  if (!last) return absl::FailedPreconditionError("this device has made no scan to annul");
  if (last->annulled) return absl::FailedPreconditionError("the last scan is already annulled");
  if (last->upload == UploadState::kQueued) {
    // Decided offline and not uploaded yet: the server must have it before it can annul it.
    if (absl::Status s = Upload(); !s.ok()) {
      if (IsTransient(s)) return Offline("annulling a scan");
      return s;
    }
    absl::MutexLock lock(&mu_);
    absl::StatusOr<std::optional<LocalScan>> found = store_->LastScan();
    if (!found.ok()) return found.status();
    last = *std::move(found);
  }
  if (!last || last->scan_name.empty()) {
    return absl::FailedPreconditionError(
        last && !last->error.empty() ? absl::StrCat("the server refused the last scan (",
                                                    last->error, "); there is nothing to annul")
                                     : "the last scan has no record on the server to annul");
  }
  v1::AnnulScanRequest request;
  request.set_scan(last->scan_name);
  absl::StatusOr<v1::AnnulScanResponse> annulled = client_->AnnulScan(request);
  if (!annulled.ok()) {
    if (IsTransient(annulled.status())) {
      Unreachable("annul", annulled.status());
      return Offline("annulling a scan");
    }
    return annulled.status();
  }
  Reached();
  absl::MutexLock lock(&mu_);
  return store_->MarkAnnulled(last->seq);
}

absl::StatusOr<std::vector<v1::AttendeeMatch>> OnlineFirstDoorEngine::Search(
    const std::string& query) {
  {
    absl::MutexLock lock(&mu_);
    if (!online_) return Offline("searching by name");
  }
  v1::SearchAttendeesRequest request;
  request.set_event(options_.event);
  request.set_query(query);
  absl::StatusOr<v1::SearchAttendeesResponse> found = client_->SearchAttendees(request);
  if (!found.ok()) {
    if (IsTransient(found.status())) {
      Unreachable("search", found.status());
      return Offline("searching by name");
    }
    return found.status();
  }
  Reached();
  return std::vector<v1::AttendeeMatch>(found->attendees().begin(), found->attendees().end());
}

absl::StatusOr<DoorAnswer> OnlineFirstDoorEngine::WalkIn(const v1::Registration& registration) {
  std::string checkpoint;
  {
    absl::MutexLock lock(&mu_);
    if (!online_) return Offline("registering a walk-in");
    checkpoint = checkpoint_;
  }
  v1::CheckInWalkInRequest request;
  request.set_event(options_.event);
  request.set_checkpoint(checkpoint);
  *request.mutable_registration() = registration;
  request.set_client_scan_id(NewRequestId());
  request.set_language(options_.language);
  // Idempotent by client_scan_id, so the client may retry it.
  absl::StatusOr<v1::CheckInWalkInResponse> done = client_->CheckInWalkIn(request);
  if (!done.ok()) {
    if (IsTransient(done.status())) {
      Unreachable("walk-in", done.status());
      return Offline("registering a walk-in");
    }
    return done.status();
  }
  Reached();
  v1::ScanRequest as_scan;
  as_scan.set_client_scan_id(request.client_scan_id());
  as_scan.set_checkpoint(checkpoint);
  as_scan.set_direction(v1::SCAN_DIRECTION_ENTRY);
  as_scan.set_registration(done->registration().name());
  *as_scan.mutable_scan_time() = ToProtoTime(Now());
  v1::ScanResult result = done->result();
  if (result.registration().empty()) result.set_registration(done->registration().name());
  return RecordOnline(as_scan, result);
}

absl::Status OnlineFirstDoorEngine::SetCheckpoint(const std::string& checkpoint) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = CheckCheckpoint(checkpoint); !s.ok()) return s;
  checkpoint_ = checkpoint;
  return absl::OkStatus();
}

std::vector<v1::Checkpoint> OnlineFirstDoorEngine::Checkpoints() const {
  {
    absl::MutexLock lock(&mu_);
    if (HasBundle() || !online_) return store_->bundle().checkpoints;
  }
  v1::ListCheckpointsRequest request;
  request.set_parent(options_.event);
  absl::StatusOr<v1::ListCheckpointsResponse> listed = fast_->ListCheckpoints(request);
  if (!listed.ok()) return {};
  return {listed->checkpoints().begin(), listed->checkpoints().end()};
}

DoorState OnlineFirstDoorEngine::State() const {
  absl::MutexLock lock(&mu_);
  DoorState state;
  const StoredBundle& bundle = store_->bundle();
  state.online = online_;
  state.queued = store_->Count(UploadState::kQueued).value_or(0);
  state.failed = store_->Count(UploadState::kFailed).value_or(0);
  state.bundle_version = bundle.version;
  state.bundle_time = bundle.refreshed;
  state.last_sync = last_sync_;
  state.last_error = last_error_;
  if (damage_) {
    state.damaged_store = damage_->moved_to;
    state.damage = damage_->what;
    state.salvaged_scans = damage_->salvaged_scans;
  }
  if (const v1::Checkpoint* where = FindCheckpoint(checkpoint_)) {
    state.checkpoint = *where;
    state.capacity = where->capacity();
    state.inside = store_->InsideAt(*where).value_or(0);
  } else {
    state.checkpoint.set_name(checkpoint_);
  }
  state.time_zone = bundle.time_zone;
  return state;
}

absl::Status OnlineFirstDoorEngine::Sync() {
  absl::MutexLock sync(&sync_mu_);
  absl::Status status = Upload();
  if (status.ok()) status = RefreshBundle();
  if (status.ok()) status = RefreshCounts(*client_);
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    online_ = true;
    last_sync_ = options_.now();
    last_error_.clear();
  } else {
    if (IsTransient(status)) {
      if (online_) wake_ = true;
      online_ = false;
    }
    last_error_ = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", status.message());
  }
  return status;
}

absl::Status OnlineFirstDoorEngine::Upload() {
  for (;;) {
    std::vector<LocalScan> rows;
    {
      absl::MutexLock lock(&mu_);
      absl::StatusOr<std::vector<LocalScan>> queued = store_->Queued(options_.upload_batch);
      if (!queued.ok()) return queued.status();
      rows = *std::move(queued);
    }
    if (rows.empty()) return absl::OkStatus();
    v1::UploadScansRequest request;
    request.set_event(options_.event);
    for (const LocalScan& row : rows) {
      v1::OfflineScan* offline = request.add_scans();
      v1::ScanRequest* scan = offline->mutable_scan();
      scan->set_event(options_.event);
      scan->set_checkpoint(row.checkpoint);
      scan->set_code(row.code);
      scan->set_direction(row.direction);
      scan->set_client_scan_id(row.client_scan_id);
      *scan->mutable_scan_time() = ToProtoTime(row.scan_time);
      scan->set_language(options_.language);
      offline->set_device_status(row.device_status);
    }
    absl::StatusOr<v1::UploadScansResponse> response = client_->UploadScans(request);
    if (!response.ok()) return Annotate("upload", response.status());
    if (response->results_size() != static_cast<int>(rows.size())) {
      return absl::InternalError(absl::StrCat("upload: the server answered ",
                                              response->results_size(), " rows for ", rows.size(),
                                              " scans"));
    }
    int deferred = 0;
    std::string deferred_why;
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < response->results_size(); ++i) {
      const v1::UploadedScan& answer = response->results(i);
      const std::string& id = rows[i].client_scan_id;
      if (answer.client_scan_id() != id) {
        return absl::InternalError("upload: the server answered the scans in another order");
      }
      absl::Status marked;
      if (answer.error_code() == 0) {
        marked = store_->MarkUploaded(id, answer.result().status(), answer.result().scan());
      } else if (IsTransientRow(answer.error_code())) {
        ++deferred;
        deferred_why = answer.error_message();
      } else {
        marked = store_->MarkFailed(
            id, absl::StrCat(
                    absl::StatusCodeToString(static_cast<absl::StatusCode>(answer.error_code())),
                    ": ", answer.error_message()));
      }
      if (!marked.ok()) return marked;
    }
    if (deferred > 0) {
      // Left queued for the next sync; going on now would send them straight back. The server
      // answered, so this is no reason to think the door offline.
      return absl::AbortedError(
          absl::StrCat("upload: the server deferred ", deferred, " scans: ", deferred_why));
    }
  }
}

absl::Status OnlineFirstDoorEngine::RefreshBundle() {
  v1::GetOfflineBundleRequest request;
  request.set_event(options_.event);
  {
    absl::MutexLock lock(&mu_);
    request.set_since_version(store_->bundle().version);
  }
  absl::StatusOr<v1::OfflineBundle> bundle = client_->GetOfflineBundle(request);
  if (!bundle.ok()) return Annotate("bundle", bundle.status());
  absl::MutexLock lock(&mu_);
  return store_->ApplyBundle(*bundle, options_.now());
}

absl::Status OnlineFirstDoorEngine::RefreshCounts(const Client& client) {
  int64_t through = 0;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<int64_t> seq = store_->LastSeq();
    if (!seq.ok()) return seq.status();
    through = *seq;
  }
  v1::GetAttendanceRequest request;
  request.set_event(options_.event);
  absl::StatusOr<v1::Attendance> attendance = client.GetAttendance(request);
  if (!attendance.ok()) return Annotate("counts", attendance.status());
  absl::MutexLock lock(&mu_);
  return store_->SaveCounts(*attendance, through);
}

void OnlineFirstDoorEngine::Run() {
  for (;;) {
    bool online = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(
                               +[](OnlineFirstDoorEngine* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
                                 return e->stop_ || e->wake_;
                               },
                               this),
                           online_ ? options_.sync_interval : kProbeInterval);
      if (stop_) return;
      wake_ = false;
      online = online_;
    }
    if (!online) {
      // A cheap call with the short deadline: is the server back?
      absl::Status probe = RefreshCounts(*fast_);
      if (IsTransient(probe)) {
        Unreachable("probe", probe);
        continue;
      }
      // Any other answer (a revoked token, say) came from the server: it is back. Sync records
      // what is wrong, and the door stops probing four times a second.
      Reached();
    }
    Sync().IgnoreError();  // recorded in DoorState::last_error
    // A sync that failed has just marked the door offline: probe at the probe's pace, not at once.
    absl::MutexLock lock(&mu_);
    wake_ = false;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<DoorEngine>> DoorEngine::Open(const DoorOptions& options) {
  absl::StatusOr<ResourceName> event = ParseResourceName(options.event);
  if (!event.ok() || event->collection != "events") {
    return absl::InvalidArgumentError(
        absl::StrCat("event: \"", options.event, "\" is not an event name like \"events/1\""));
  }
  absl::StatusOr<int64_t> event_id = IdOf(options.event);
  if (!event_id.ok()) return event_id.status();
  if (options.state_dir.empty()) {
    return absl::InvalidArgumentError("state_dir: the door needs a directory for its local store");
  }
  if (options.online_deadline <= absl::ZeroDuration() ||
      options.sync_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("online_deadline and sync_interval must be positive");
  }
  if (options.upload_batch < 1 || options.upload_batch > 1000) {
    return absl::InvalidArgumentError("upload_batch: between 1 and 1,000 (the server's limit)");
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options.client);
  if (!client.ok()) return client.status();
  ClientOptions fast_options = options.client;
  fast_options.deadline = options.online_deadline;
  fast_options.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<Client>> fast = Client::Connect(fast_options);
  if (!fast.ok()) return fast.status();

  std::optional<StoreDamage> damage;
  absl::StatusOr<std::unique_ptr<DoorStore>> store =
      DoorStore::Open(options.state_dir, options.now(), &damage);
  if (!store.ok()) return store.status();
  if (absl::Status s = (*store)->BindToEvent(options.event); !s.ok()) return s;

  auto engine = std::make_unique<OnlineFirstDoorEngine>(options, *event_id, *std::move(client),
                                                        *std::move(fast), *std::move(store),
                                                        std::move(damage));
  if (absl::Status s = engine->SetCheckpoint(options.checkpoint); !s.ok()) return s;
  engine->Start();
  return engine;
}

}  // namespace turnout::client
