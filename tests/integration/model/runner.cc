#include "tests/integration/model/runner.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace turnout::testing::model {
namespace {

using Kind = Operation::Kind;

std::string StatusName(ScanStatus s) { return v1::ScanResult::Status_Name(s); }

// "CONFIRMED, B1 confirmed, B3 waitlisted".
std::string DescribeRegistration(v1::Registration::Status status,
                                 const std::vector<Model::Choice>& choices) {
  std::string out = v1::Registration::Status_Name(status);
  for (const Model::Choice& c : choices) {
    absl::StrAppend(&out, ", ", PlaceName(c.session), c.confirmed ? " confirmed" : " waitlisted");
  }
  return out;
}

StepOutcome Skipped() {
  StepOutcome out;
  out.skipped = true;
  return out;
}

StepOutcome Failed(Mismatch mismatch) {
  StepOutcome out;
  out.mismatch = std::move(mismatch);
  return out;
}

// A call the model says must succeed, or be refused with `expected`.
std::optional<Mismatch> CheckCall(const std::string& rpc, const grpc::Status& status,
                                  grpc::StatusCode expected = grpc::StatusCode::OK) {
  if (status.error_code() == expected) return std::nullopt;
  return Mismatch{"rpc", absl::StrCat(rpc, ": server answered code ", status.error_code(), " (",
                                      status.error_message(), "), model expects code ", expected)};
}

}  // namespace

Program TheProgram(absl::Time origin) {
  const auto at = [origin](int minutes) { return origin + absl::Minutes(minutes); };
  Program p;
  p.doors_open = origin;
  p.start = at(60);
  p.end = at(600);
  p.capacity = 5;
  // Rooms open 30 minutes before their session, one after the other, and close before the event.
  p.sessions[Place::kPlenary] = {at(60), at(570), 2};
  p.sessions[Place::kB1] = {at(90), at(570), 2};
  p.sessions[Place::kB2] = {at(90), at(570), 1};
  p.sessions[Place::kB3] = {at(120), at(570), 2};
  return p;
}

Runner::Runner(TestServer& server, absl::Time origin)
    : server_(server), model_(TheProgram(origin)) {
  SetUp();
}

StepOutcome Runner::Apply(const Operation& op) {
  StepOutcome out = ApplyToBoth(op);
  if (out.skipped || out.mismatch) return out;
  if (op.kind == Kind::kRegister || op.kind == Kind::kCancel || op.kind == Kind::kChooseSessions ||
      op.kind == Kind::kSetCapacity || op.kind == Kind::kMoveEvent) {
    out.mismatch = CompareRegistrations();
  }
  if (!out.mismatch) out.mismatch = CompareCounts();
  if (!out.mismatch) Tally(op, out);
  return out;
}

void Runner::SetUp() {
  const Program& p = model_.program();
  v1::CreateEventRequest create;
  v1::Event* e = create.mutable_event();
  e->set_title("Model test");
  e->set_time_zone("America/Los_Angeles");
  *e->mutable_doors_open_time() = ToProtoTime(p.doors_open);
  *e->mutable_start_time() = ToProtoTime(p.start);
  *e->mutable_end_time() = ToProtoTime(p.end);
  e->set_capacity(p.capacity);
  e->set_state(v1::Event::PUBLISHED);
  if (!Check("CreateEvent",
             server_.events().CreateEvent(server_.AdminContext().get(), create, &event_))) {
    return;
  }
  checkpoints_[Place::kEntrance] = event_.entrance_checkpoint();
  for (const auto& [place, s] : p.sessions) {
    v1::CreateSessionRequest req;
    req.set_parent(event_.name());
    v1::Session* session = req.mutable_session();
    session->set_title(std::string(PlaceName(place)));
    session->set_kind(IsBreakout(place) ? v1::Session::BREAKOUT : v1::Session::PLENARY);
    session->set_round(RoundOf(place));
    *session->mutable_start_time() = ToProtoTime(s.start);
    *session->mutable_end_time() = ToProtoTime(s.end);
    session->set_capacity(s.capacity);
    session->set_requires_selection(IsBreakout(place));
    v1::Session created;
    if (!Check("CreateSession",
               server_.events().CreateSession(server_.AdminContext().get(), req, &created))) {
      return;
    }
    sessions_[place] = created.name();
    checkpoints_[place] = created.checkpoint();
  }
  doors_[1] = server_.NewToken(v1::ROLE_DOOR, event_.name());
  doors_[2] = server_.NewToken(v1::ROLE_DOOR, event_.name());
  // A genuine ticket of another event, and a forgery of it.
  const v1::Event other = server_.NewEvent("Elsewhere");
  const v1::RegisterResponse stranger = server_.Register(other.name(), "Stranger");
  other_code_ = stranger.ticket().code();
  other_key_ = stranger.ticket().key_id();
  garbage_code_ = other_code_;
  if (garbage_code_.size() > 70) garbage_code_[70] = garbage_code_[70] == 'A' ? 'B' : 'A';
  if (doors_[1].empty() || doors_[2].empty() || other_code_.empty()) {
    setup_error_ = "door tokens or the other event's ticket";
  }
}

bool Runner::Check(const std::string& what, const grpc::Status& status) {
  if (!status.ok()) setup_error_ = absl::StrCat(what, ": ", status.error_message());
  return status.ok();
}

std::string Runner::Describe(const v1::Registration& r) const {
  std::vector<Model::Choice> choices;
  for (const v1::SessionChoice& c : r.session_choices()) {
    for (const auto& [place, name] : sessions_) {
      if (name == c.session()) {
        choices.push_back({place, c.status() == v1::SessionChoice::CONFIRMED, 0});
      }
    }
  }
  return DescribeRegistration(r.status(), choices);
}

StepOutcome Runner::ApplyToBoth(const Operation& op) {
  switch (op.kind) {
    case Kind::kRegister:
      return Register(op);
    case Kind::kCancel:
      return Cancel(op);
    case Kind::kReissue:
      return Reissue(op);
    case Kind::kGetTicket:
      return GetTicket(op);
    case Kind::kChooseSessions:
      return ChooseSessions(op);
    case Kind::kScan:
      return Scan(op);
    case Kind::kResend:
      return Resend(op);
    case Kind::kAnnul:
      return Annul(op);
    case Kind::kSetCapacity:
      return SetCapacity(op);
    case Kind::kMoveEvent:
      return MoveEvent(op);
    case Kind::kRotateKey:
      return RotateKey();
    case Kind::kSetPublished:
      return SetPublished(op);
  }
  return Skipped();
}

StepOutcome Runner::Register(const Operation& op) {
  if (model_.Has(op.reg)) return Skipped();
  v1::RegisterRequest req;
  req.set_parent(event_.name());
  req.set_request_id(absl::StrCat("model-r", op.reg));
  req.mutable_registration()->set_display_name(absl::StrCat("r", op.reg));
  for (Place p : op.choices)
    req.mutable_registration()->add_session_choices()->set_session(sessions_[p]);
  v1::RegisterResponse resp;
  const grpc::Status status =
      server_.registrations().Register(server_.AdminContext().get(), req, &resp);
  if (auto m = CheckCall("Register", status)) return Failed(*m);
  registrations_[op.reg] = resp.registration().name();
  model_.Register(op.reg, op.choices, {resp.ticket().code(), resp.ticket().key_id()});
  StepOutcome out;
  out.answer = Describe(resp.registration());
  return out;
}

StepOutcome Runner::Cancel(const Operation& op) {
  if (!model_.Has(op.reg)) return Skipped();
  v1::CancelRegistrationRequest req;
  req.set_name(registrations_[op.reg]);
  v1::Registration resp;
  const grpc::Status status =
      server_.registrations().CancelRegistration(server_.AdminContext().get(), req, &resp);
  if (auto m = CheckCall("CancelRegistration", status)) return Failed(*m);
  model_.Cancel(op.reg);
  StepOutcome out;
  out.answer = Describe(resp);
  return out;
}

StepOutcome Runner::Reissue(const Operation& op) {
  if (!model_.Has(op.reg)) return Skipped();
  const bool canceled = model_.registration(op.reg).status == v1::Registration::CANCELED;
  v1::ReissueTicketRequest req;
  req.set_name(registrations_[op.reg]);
  v1::Ticket ticket;
  const grpc::Status status =
      server_.registrations().ReissueTicket(server_.AdminContext().get(), req, &ticket);
  // A canceled registration gets no new ticket.
  if (auto m = CheckCall("ReissueTicket", status,
                         canceled ? grpc::StatusCode::FAILED_PRECONDITION : grpc::StatusCode::OK)) {
    return Failed(*m);
  }
  if (!canceled) model_.Reissue(op.reg, {ticket.code(), ticket.key_id()});
  StepOutcome out;
  out.answer = canceled ? "FAILED_PRECONDITION" : absl::StrCat("new code, key ", ticket.key_id());
  return out;
}

StepOutcome Runner::GetTicket(const Operation& op) {
  if (!model_.Has(op.reg)) return Skipped();
  const Model::Registration& r = model_.registration(op.reg);
  if (r.status == v1::Registration::CANCELED) return Skipped();
  v1::GetTicketRequest req;
  req.set_name(registrations_[op.reg]);
  req.set_png_scale(1);
  v1::Ticket ticket;
  const grpc::Status status =
      server_.registrations().GetTicket(server_.AdminContext().get(), req, &ticket);
  if (auto m = CheckCall("GetTicket", status)) return Failed(*m);
  StepOutcome out;
  out.answer = absl::StrCat("key ", ticket.key_id());
  const Model::Code& current = r.codes.back();
  if (!model_.KeyRevoked(current.key_id)) {
    if (ticket.code() != current.text) {
      out.mismatch = Mismatch{"ticket", "GetTicket returned another code than the current one"};
    }
    return out;
  }
  // The current code's key was revoked: a new code under a key that still verifies.
  if (model_.KeyRevoked(ticket.key_id()) || ticket.code() == current.text) {
    out.mismatch = Mismatch{
        "ticket", absl::StrCat("GetTicket returned a code signed by revoked key ", ticket.key_id(),
                               "; model expects a code under a current key")};
    return out;
  }
  model_.AddCode(op.reg, {ticket.code(), ticket.key_id()});
  out.answer = absl::StrCat("new code, key ", ticket.key_id());
  return out;
}

StepOutcome Runner::ChooseSessions(const Operation& op) {
  if (!model_.Has(op.reg)) return Skipped();
  const bool canceled = model_.registration(op.reg).status == v1::Registration::CANCELED;
  v1::UpdateSessionChoicesRequest req;
  req.set_name(registrations_[op.reg]);
  for (Place p : op.choices) req.add_sessions(sessions_[p]);
  v1::Registration resp;
  const grpc::Status status =
      server_.registrations().UpdateSessionChoices(server_.AdminContext().get(), req, &resp);
  // A canceled registration cannot choose breakouts.
  if (auto m = CheckCall("UpdateSessionChoices", status,
                         canceled ? grpc::StatusCode::FAILED_PRECONDITION : grpc::StatusCode::OK)) {
    return Failed(*m);
  }
  StepOutcome out;
  if (canceled) {
    out.answer = "FAILED_PRECONDITION";
  } else {
    model_.ChooseSessions(op.reg, op.choices);
    out.answer = Describe(resp);
  }
  return out;
}

StepOutcome Runner::Scan(const Operation& op) {
  if (sent_.count(op.scan)) return Skipped();
  PresentedCode code;
  std::string text;
  switch (op.code) {
    case CodePick::kCurrent:
    case CodePick::kPrevious: {
      if (!model_.Has(op.reg)) return Skipped();
      const std::vector<Model::Code>& codes = model_.registration(op.reg).codes;
      int index = static_cast<int>(codes.size()) - 1;
      if (op.code == CodePick::kPrevious) {
        if (index == 0) return Skipped();  // the reissue that made a previous code is gone
        --index;
      }
      code.kind = PresentedCode::Kind::kThisEvent;
      code.reg = op.reg;
      code.code_index = index;
      text = codes[index].text;
      break;
    }
    case CodePick::kOtherEvent:
      code.kind = PresentedCode::Kind::kOtherEvent;
      code.key_id = other_key_;
      text = other_code_;
      break;
    case CodePick::kGarbage:
      code.kind = PresentedCode::Kind::kGarbage;
      text = garbage_code_;
      break;
  }
  const absl::Time at = model_.doors_open() + op.at;
  SentScan& sent = sent_[op.scan];
  sent.request.set_event(event_.name());
  sent.request.set_checkpoint(checkpoints_[op.place]);
  sent.request.set_code(text);
  sent.request.set_direction(op.direction == Direction::kEntry ? v1::SCAN_DIRECTION_ENTRY
                                                               : v1::SCAN_DIRECTION_EXIT);
  sent.request.set_client_scan_id(absl::StrCat("s", op.scan));
  *sent.request.mutable_scan_time() = ToProtoTime(at);
  sent.request.set_language("en");
  v1::ScanResult result;
  const grpc::Status status =
      server_.checkin().Scan(TestServer::Context(doors_[op.device]).get(), sent.request, &result);
  if (auto m = CheckCall("Scan", status)) return Failed(*m);
  sent.name = result.scan();
  const ScanStatus expected = model_.Scan(op.scan, code, op.place, op.direction, at, op.device);
  // For Tally: a scan that takes part in presence, made before one that already does, re-decides.
  auto takes_part = [](ScanStatus s) {
    return s == v1::ScanResult::ADMITTED || s == v1::ScanResult::ALREADY_CHECKED_IN ||
           s == v1::ScanResult::EXIT_RECORDED;
  };
  for (const Model::ScanRecord& earlier : model_.scans()) {
    if (takes_part(expected) && takes_part(earlier.status) && earlier.reg == code.reg &&
        earlier.place == op.place && earlier.at > at) {
      ++seen_["scan out of canonical order"];
      break;
    }
  }
  StepOutcome out;
  out.answer = StatusName(result.status());
  if (result.status() != expected) {
    out.mismatch = Mismatch{
        absl::StrCat("status ", StatusName(result.status()), " for ", StatusName(expected)),
        absl::StrCat("model expects ", StatusName(expected))};
  } else if (result.replayed()) {
    out.mismatch = Mismatch{"replayed", "a fresh client_scan_id answered as replayed"};
  }
  return out;
}

StepOutcome Runner::Resend(const Operation& op) {
  const Model::ScanRecord* first = model_.FindScan(op.scan);
  auto sent = sent_.find(op.scan);
  if (first == nullptr || sent == sent_.end()) return Skipped();
  v1::ScanResult result;
  const grpc::Status status = server_.checkin().Scan(
      TestServer::Context(doors_[first->device]).get(), sent->second.request, &result);
  if (auto m = CheckCall("Scan", status)) return Failed(*m);
  StepOutcome out;
  out.answer = absl::StrCat(StatusName(result.status()), result.replayed() ? " (replayed)" : "");
  // A resend answers the scan's status now (docs/design.md): re-decided if an earlier scan
  // arrived late or was annulled since.
  const std::optional<ScanStatus> now = model_.CurrentStatus(op.scan);
  if ((now && result.status() != *now) || !result.replayed()) {
    out.mismatch = Mismatch{
        "replayed", absl::StrCat("model expects ", now ? StatusName(*now) : "its last answer",
                                 ", replayed")};
  }
  return out;
}

StepOutcome Runner::Annul(const Operation& op) {
  const Model::ScanRecord* scan = model_.FindScan(op.scan);
  auto sent = sent_.find(op.scan);
  if (scan == nullptr || sent == sent_.end()) return Skipped();
  const bool own = scan->device == op.device;
  v1::AnnulScanRequest req;
  req.set_scan(sent->second.name);
  v1::AnnulScanResponse resp;
  const grpc::Status status =
      server_.checkin().AnnulScan(TestServer::Context(doors_[op.device]).get(), req, &resp);
  // Only the device that made a scan may annul it.
  if (auto m = CheckCall("AnnulScan", status,
                         own ? grpc::StatusCode::OK : grpc::StatusCode::PERMISSION_DENIED)) {
    return Failed(*m);
  }
  if (own) model_.Annul(op.scan);
  StepOutcome out;
  out.answer = own ? "annulled" : "PERMISSION_DENIED";
  return out;
}

StepOutcome Runner::SetCapacity(const Operation& op) {
  grpc::Status status;
  if (op.place == Place::kEntrance) {
    v1::UpdateEventRequest req;
    req.mutable_event()->set_name(event_.name());
    req.mutable_event()->set_capacity(op.capacity);
    req.mutable_update_mask()->add_paths("capacity");
    v1::Event resp;
    status = server_.events().UpdateEvent(server_.AdminContext().get(), req, &resp);
  } else {
    v1::UpdateSessionRequest req;
    req.mutable_session()->set_name(sessions_[op.place]);
    req.mutable_session()->set_capacity(op.capacity);
    req.mutable_update_mask()->add_paths("capacity");
    v1::Session resp;
    status = server_.events().UpdateSession(server_.AdminContext().get(), req, &resp);
  }
  if (auto m = CheckCall("Update capacity", status)) return Failed(*m);
  model_.SetCapacity(op.place, op.capacity);
  return StepOutcome{};
}

StepOutcome Runner::SetPublished(const Operation& op) {
  v1::UpdateEventRequest req;
  req.mutable_event()->set_name(event_.name());
  req.mutable_event()->set_state(op.published ? v1::Event::PUBLISHED : v1::Event::DRAFT);
  req.mutable_update_mask()->add_paths("state");
  v1::Event updated;
  if (auto m = CheckCall("UpdateEvent", server_.events().UpdateEvent(server_.AdminContext().get(),
                                                                     req, &updated))) {
    return Failed(*m);
  }
  model_.SetPublished(op.published);
  return StepOutcome{};
}

// The event and every session move together; the sessions must stay within a day of the event.
StepOutcome Runner::MoveEvent(const Operation& op) {
  const absl::Duration by = absl::Hours(24) * op.days;
  const Program& p = model_.program();
  v1::UpdateEventRequest req;
  req.mutable_event()->set_name(event_.name());
  *req.mutable_event()->mutable_start_time() = ToProtoTime(p.start + by);
  *req.mutable_event()->mutable_end_time() = ToProtoTime(p.end + by);
  *req.mutable_event()->mutable_doors_open_time() = ToProtoTime(p.doors_open + by);
  for (const char* path : {"start_time", "end_time", "doors_open_time"}) {
    req.mutable_update_mask()->add_paths(path);
  }
  v1::Event moved;
  if (auto m = CheckCall("UpdateEvent",
                         server_.events().UpdateEvent(server_.AdminContext().get(), req, &moved))) {
    return Failed(*m);
  }
  // A postponement moves the program with it (docs/design.md): the sessions follow.
  model_.MoveEvent(by);
  v1::ListSessionsRequest list;
  list.set_parent(event_.name());
  v1::ListSessionsResponse listed;
  if (auto m = CheckCall("ListSessions", server_.events().ListSessions(
                                             server_.AdminContext().get(), list, &listed))) {
    return Failed(*m);
  }
  for (const auto& [place, session] : model_.program().sessions) {
    const std::string& name = sessions_[place];  // C++17 lambdas cannot capture `place`
    const auto found = std::find_if(listed.sessions().begin(), listed.sessions().end(),
                                    [&](const v1::Session& s) { return s.name() == name; });
    if (found == listed.sessions().end() || FromProtoTime(found->start_time()) != session.start) {
      return Failed(Mismatch{"move", absl::StrCat("session ", sessions_[place],
                                                  " did not move with its event")});
    }
  }
  return StepOutcome{};
}

StepOutcome Runner::RotateKey() {
  v1::ListSigningKeysResponse keys;
  if (auto m = CheckCall("ListSigningKeys",
                         server_.admin().ListSigningKeys(server_.AdminContext().get(),
                                                         v1::ListSigningKeysRequest(), &keys))) {
    return Failed(*m);
  }
  uint32_t old_key = 0;
  for (const v1::SigningKeyInfo& k : keys.keys()) {
    if (k.active()) old_key = k.key_id();
  }
  v1::SigningKeyInfo rotated;
  if (auto m = CheckCall("RotateSigningKey", server_.admin().RotateSigningKey(
                                                 server_.AdminContext().get(),
                                                 v1::RotateSigningKeyRequest(), &rotated))) {
    return Failed(*m);
  }
  v1::RevokeSigningKeyRequest revoke;
  revoke.set_key_id(old_key);
  v1::SigningKeyInfo revoked;
  if (auto m = CheckCall("RevokeSigningKey", server_.admin().RevokeSigningKey(
                                                 server_.AdminContext().get(), revoke, &revoked))) {
    return Failed(*m);
  }
  model_.RevokeKey(old_key);
  StepOutcome out;
  out.answer = absl::StrCat("key ", rotated.key_id(), " active, key ", old_key, " revoked");
  return out;
}

void Runner::Tally(const Operation& op, const StepOutcome& out) {
  switch (op.kind) {
    case Kind::kScan:
    case Kind::kAnnul:
      ++seen_[absl::StrCat(KindName(op.kind), " ", out.answer)];
      break;
    case Kind::kResend:
      ++seen_["resend replayed"];
      break;
    case Kind::kGetTicket:
      ++seen_[absl::StartsWith(out.answer, "new code") ? "get-ticket new code"
                                                       : "get-ticket same code"];
      break;
    default:
      break;
  }
  for (const auto& [label, r] : model_.registrations()) {
    if (r.status == v1::Registration::WAITLISTED) ++seen_["waitlisted registration"];
    for (const Model::Choice& c : r.choices) {
      if (!c.confirmed && r.status == v1::Registration::CONFIRMED) ++seen_["waitlisted choice"];
    }
  }
}

std::optional<Mismatch> Runner::CompareRegistrations() {
  v1::ListRegistrationsRequest req;
  req.set_parent(event_.name());
  req.set_page_size(500);
  v1::ListRegistrationsResponse resp;
  if (auto m = CheckCall("ListRegistrations", server_.registrations().ListRegistrations(
                                                  server_.AdminContext().get(), req, &resp))) {
    return m;
  }
  std::map<std::string, const v1::Registration*> by_name;
  for (const v1::Registration& r : resp.registrations()) by_name[r.name()] = &r;
  std::vector<std::string> differences;
  for (const auto& [label, expected] : model_.registrations()) {
    auto found = by_name.find(registrations_[label]);
    if (found == by_name.end()) {
      differences.push_back(absl::StrCat("r", label, " missing on the server"));
      continue;
    }
    const std::string server = Describe(*found->second);
    const std::string model = DescribeRegistration(expected.status, expected.choices);
    if (server != model) {
      differences.push_back(absl::StrCat("r", label, ": server ", server, "; model ", model));
    }
  }
  if (differences.empty()) return std::nullopt;
  return Mismatch{"registration", absl::StrJoin(differences, " | ")};
}

std::optional<Mismatch> Runner::CompareCounts() {
  v1::GetAttendanceRequest req;
  req.set_event(event_.name());
  v1::Attendance attendance;
  if (auto m = CheckCall("GetAttendance", server_.attendance().GetAttendance(
                                              server_.AdminContext().get(), req, &attendance))) {
    return m;
  }
  std::vector<std::string> differences;
  for (Place place : kAllPlaces) {
    const v1::CheckpointAttendance* server = nullptr;
    for (const v1::CheckpointAttendance& c : attendance.checkpoints()) {
      if (c.checkpoint() == checkpoints_[place]) server = &c;
    }
    if (server == nullptr)
      return Mismatch{"counts", absl::StrCat("no counts for ", PlaceName(place))};
    const Model::Counts model = model_.CountsAt(place);
    const std::pair<const char*, std::pair<int64_t, int64_t>> fields[] = {
        {"registered", {server->registered(), model.registered}},
        {"checked_in", {server->checked_in(), model.checked_in}},
        {"inside", {server->inside(), model.inside}},
        {"capacity", {server->capacity(), model.capacity}},
    };
    for (const auto& [field, values] : fields) {
      if (values.first == values.second) continue;
      differences.push_back(absl::StrCat(PlaceName(place), " ", field, ": server ", values.first,
                                         ", model ", values.second));
    }
  }
  if (differences.empty()) return std::nullopt;
  return Mismatch{"counts", absl::StrJoin(differences, "; ")};
}

}  // namespace turnout::testing::model
