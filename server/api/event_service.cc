// EventService: events, sessions and checkpoints.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/domain/validation.h"
#include "server/store/event_store.h"
#include "server/store/registration_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

using store::PgEventStore;

constexpr int32_t kMaxCapacity = 1000000;
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 100;
constexpr int kPublished = v1::Event::PUBLISHED;

absl::Status CheckCapacity(absl::string_view field, int32_t capacity) {
  if (capacity < 0 || capacity > kMaxCapacity) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be between 0 (unlimited) and ", kMaxCapacity));
  }
  return absl::OkStatus();
}

// The whole event after a create or a masked update.
absl::Status CheckEvent(const store::EventRecord& e) {
  RETURN_IF_ERROR(domain::CheckText("event.title", e.title, domain::kMaxTitleBytes, true));
  RETURN_IF_ERROR(domain::CheckText("event.venue", e.venue, domain::kMaxTitleBytes, false));
  RETURN_IF_ERROR(domain::CheckTimeZone("event.time_zone", e.time_zone));
  RETURN_IF_ERROR(CheckCapacity("event.capacity", e.capacity));
  if (e.end_time <= e.start_time) {
    return absl::InvalidArgumentError("event.end_time: must be after event.start_time");
  }
  if (e.doors_open_time >= e.end_time) {
    return absl::InvalidArgumentError("event.doors_open_time: must be before event.end_time");
  }
  if (!v1::Event::State_IsValid(e.state) || e.state == v1::Event::STATE_UNSPECIFIED) {
    return absl::InvalidArgumentError("event.state: must be DRAFT, PUBLISHED or CANCELED");
  }
  return absl::OkStatus();
}

absl::Status CheckSession(const store::SessionRecord& s, const store::EventRecord& event) {
  RETURN_IF_ERROR(domain::CheckText("session.title", s.title, domain::kMaxTitleBytes, true));
  RETURN_IF_ERROR(domain::CheckText("session.track", s.track, domain::kMaxShortTextBytes, false));
  RETURN_IF_ERROR(domain::CheckText("session.room", s.room, domain::kMaxShortTextBytes, false));
  RETURN_IF_ERROR(CheckCapacity("session.capacity", s.capacity));
  if (!v1::Session::Kind_IsValid(s.kind) || s.kind == v1::Session::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("session.kind: must be PLENARY, BREAKOUT or OTHER");
  }
  if (s.round < 0 || s.round > 20) {
    return absl::InvalidArgumentError("session.round: must be between 0 (no round) and 20");
  }
  if (s.requires_selection && s.round == 0) {
    return absl::InvalidArgumentError(
        "session.requires_selection: a session picked in advance needs a round (1, 2, ...)");
  }
  if (s.end_time <= s.start_time) {
    return absl::InvalidArgumentError("session.end_time: must be after session.start_time");
  }
  if (s.start_time < event.start_time - absl::Hours(24) ||
      s.end_time > event.end_time + absl::Hours(24)) {
    return absl::InvalidArgumentError("session: must take place during its event");
  }
  return absl::OkStatus();
}

absl::Status CheckEventTimes(const v1::Event& e, bool create) {
  RETURN_IF_ERROR(CheckTime("event.start_time", e.start_time(), e.has_start_time(), create));
  RETURN_IF_ERROR(CheckTime("event.end_time", e.end_time(), e.has_end_time(), create));
  return CheckTime("event.doors_open_time", e.doors_open_time(), e.has_doors_open_time(), false);
}

// Applies the masked fields of `in` to `e`; a masked field must have a value in `in`.
absl::Status MergeEvent(const v1::Event& in, const google::protobuf::FieldMask& mask,
                        store::EventRecord& e) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: name the fields to change, e.g. \"title\"");
  }
  for (const std::string& path : mask.paths()) {
    if (path == "title")
      e.title = in.title();
    else if (path == "venue")
      e.venue = in.venue();
    else if (path == "time_zone")
      e.time_zone = in.time_zone();
    else if (path == "start_time")
      e.start_time = FromProtoTime(in.start_time());
    else if (path == "end_time")
      e.end_time = FromProtoTime(in.end_time());
    else if (path == "doors_open_time")
      e.doors_open_time = FromProtoTime(in.doors_open_time());
    else if (path == "capacity")
      e.capacity = in.capacity();
    else if (path == "state")
      e.state = in.state();
    else if (path == "allow_reentry")
      e.allow_reentry = in.allow_reentry();
    else
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path, "\" cannot be changed"));
  }
  // Every path is one that may change; now each must carry its value.
  return CheckMaskedFieldsSet("event", in, mask);
}

absl::Status MergeSession(const v1::Session& in, const google::protobuf::FieldMask& mask,
                          store::SessionRecord& s) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: name the fields to change, e.g. \"capacity\"");
  }
  for (const std::string& path : mask.paths()) {
    if (path == "title")
      s.title = in.title();
    else if (path == "kind")
      s.kind = in.kind();
    else if (path == "track")
      s.track = in.track();
    else if (path == "room")
      s.room = in.room();
    else if (path == "round")
      s.round = in.round();
    else if (path == "start_time")
      s.start_time = FromProtoTime(in.start_time());
    else if (path == "end_time")
      s.end_time = FromProtoTime(in.end_time());
    else if (path == "capacity")
      s.capacity = in.capacity();
    else if (path == "requires_selection")
      s.requires_selection = in.requires_selection();
    else if (path == "allow_reentry")
      s.allow_reentry = in.allow_reentry();
    else
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path, "\" cannot be changed"));
  }
  // Every path is one that may change; now each must carry its value.
  return CheckMaskedFieldsSet("session", in, mask);
}

store::SessionRecord SessionFrom(const v1::Session& in, int64_t event_id) {
  store::SessionRecord s;
  s.event_id = event_id;
  s.title = in.title();
  s.kind = in.kind();
  s.track = in.track();
  s.room = in.room();
  s.round = in.round();
  s.start_time = FromProtoTime(in.start_time());
  s.end_time = FromProtoTime(in.end_time());
  s.capacity = in.capacity();
  s.requires_selection = in.requires_selection();
  s.allow_reentry = in.has_allow_reentry() ? in.allow_reentry() : true;
  return s;
}

// An event whose start and end move by the same amount is postponed (or brought forward) as a
// whole: its program and, unless the update sets it, its doors-open time move with it, and the
// shift is returned so the caller moves the sessions. Zero for any other change.
absl::Duration PostponementShift(const store::EventRecord& before,
                                 const google::protobuf::FieldMask& mask, store::EventRecord& e) {
  const absl::Duration shift = e.start_time - before.start_time;
  if (shift == absl::ZeroDuration() || e.end_time - before.end_time != shift) {
    return absl::ZeroDuration();
  }
  const auto& paths = mask.paths();
  if (std::find(paths.begin(), paths.end(), "doors_open_time") == paths.end()) {
    e.doors_open_time += shift;
  }
  return shift;
}

// Codes carry an outer expiry (store::kTicketOuterBound); the event may not outlive them.
absl::Status CheckTicketsOutlast(std::optional<absl::Time> earliest_expiry,
                                 const store::EventRecord& e) {
  if (earliest_expiry && e.end_time > *earliest_expiry) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event.end_time: tickets already issued for this event expire at ",
        absl::FormatTime(absl::RFC3339_sec, *earliest_expiry, absl::UTCTimeZone()),
        "; an event cannot move past them; create a new event instead"));
  }
  return absl::OkStatus();
}

// Anyone may read a published event (attendees register from it); staff of the event read drafts.
absl::Status MayRead(const Principal& p, const store::EventRecord& e) {
  if (e.state == kPublished && !p.authenticated()) return absl::OkStatus();
  if (!p.authenticated()) {
    return absl::NotFoundError(absl::StrCat("event events/", e.id, " does not exist"));
  }
  return p.Require({Role::kAdmin, Role::kOrganizer, Role::kDoor, Role::kDashboard}, e.id);
}

absl::Status MayReadEvent(pqxx::work& txn, const Principal& p, int64_t event_id) {
  ASSIGN_OR_RETURN(store::EventRecord e, PgEventStore::GetEvent(txn, event_id));
  return MayRead(p, e);
}

}  // namespace

ServerUnaryReactor* EventServiceImpl::CreateEvent(CallbackServerContext* ctx,
                                                  const v1::CreateEventRequest* req,
                                                  v1::Event* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}));
    if (call.principal.event_id) {
      return absl::PermissionDeniedError("a token limited to one event cannot create events");
    }
    const v1::Event& in = req->event();
    RETURN_IF_ERROR(CheckEventTimes(in, /*create=*/true));
    RETURN_IF_ERROR(
        domain::CheckText("request_id", req->request_id(), domain::kMaxRequestIdBytes, false));
    store::EventRecord e;
    e.title = in.title();
    e.venue = in.venue();
    e.time_zone = in.time_zone();
    e.start_time = FromProtoTime(in.start_time());
    e.end_time = FromProtoTime(in.end_time());
    e.doors_open_time = in.has_doors_open_time() ? FromProtoTime(in.doors_open_time())
                                                 : e.start_time - absl::Hours(1);
    e.capacity = in.capacity();
    e.state = in.state() == v1::Event::STATE_UNSPECIFIED ? v1::Event::DRAFT : in.state();
    e.allow_reentry = in.has_allow_reentry() ? in.allow_reentry() : true;
    RETURN_IF_ERROR(CheckEvent(e));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::EventRecord created,
                       PgEventStore::CreateEvent(txn, e, req->request_id()));
      ToProto(created, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::GetEvent(CallbackServerContext* ctx,
                                               const v1::GetEventRequest* req, v1::Event* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, ParseEventName("name", req->name()));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::EventRecord e, PgEventStore::GetEvent(txn, id));
      RETURN_IF_ERROR(MayRead(call.principal, e));
      ToProto(e, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::ListEvents(CallbackServerContext* ctx,
                                                 const v1::ListEventsRequest* req,
                                                 v1::ListEventsResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int limit, PageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    ASSIGN_OR_RETURN(PageKey after, ParsePageToken("events", req->page_token()));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::EventRecord> events,
                       PgEventStore::ListEvents(txn, after.id, limit));
      for (const store::EventRecord& e : events) {
        if (MayRead(call.principal, e).ok()) ToProto(e, resp->add_events());
      }
      if (static_cast<int>(events.size()) == limit) {
        resp->set_next_page_token(PageTokenAfter("events", {events.back().id}));
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::UpdateEvent(CallbackServerContext* ctx,
                                                  const v1::UpdateEventRequest* req,
                                                  v1::Event* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t id, ParseEventName("event.name", req->event().name()));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, id));
    RETURN_IF_ERROR(CheckEventTimes(req->event(), /*create=*/false));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      PgEventStore::LockEvent(txn, id);
      ASSIGN_OR_RETURN(store::EventRecord e, PgEventStore::GetEvent(txn, id));
      const store::EventRecord before = e;
      RETURN_IF_ERROR(MergeEvent(req->event(), req->update_mask(), e));
      const absl::Duration shift = PostponementShift(before, req->update_mask(), e);
      RETURN_IF_ERROR(CheckEvent(e));
      RETURN_IF_ERROR(CheckTicketsOutlast(PgEventStore::EarliestTicketExpiry(txn, id), e));
      RETURN_IF_ERROR(PgEventStore::UpdateEvent(txn, e).status());
      if (shift != absl::ZeroDuration()) PgEventStore::ShiftSessions(txn, id, shift);
      store::PgRegistrationStore::PromoteWaitlisted(txn, id);  // a raised capacity seats people
      ASSIGN_OR_RETURN(store::EventRecord updated, PgEventStore::GetEvent(txn, id));
      ToProto(updated, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::CreateSession(CallbackServerContext* ctx,
                                                    const v1::CreateSessionRequest* req,
                                                    v1::Session* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", req->parent()));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, event_id));
    const v1::Session& in = req->session();
    RETURN_IF_ERROR(CheckTime("session.start_time", in.start_time(), in.has_start_time(), true));
    RETURN_IF_ERROR(CheckTime("session.end_time", in.end_time(), in.has_end_time(), true));
    RETURN_IF_ERROR(
        domain::CheckText("request_id", req->request_id(), domain::kMaxRequestIdBytes, false));
    store::SessionRecord s = SessionFrom(in, event_id);
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::EventRecord event, PgEventStore::GetEvent(txn, event_id));
      RETURN_IF_ERROR(CheckSession(s, event));
      ASSIGN_OR_RETURN(store::SessionRecord created,
                       PgEventStore::CreateSession(txn, s, req->request_id()));
      ToProto(created, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::ListSessions(CallbackServerContext* ctx,
                                                   const v1::ListSessionsRequest* req,
                                                   v1::ListSessionsResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", req->parent()));
    ASSIGN_OR_RETURN(int limit, PageSize(req->page_size(), kDefaultPageSize, kMaxPageSize));
    const std::string list = absl::StrCat(EventName(event_id), "/sessions");
    ASSIGN_OR_RETURN(PageKey after, ParsePageToken(list, req->page_token()));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      RETURN_IF_ERROR(MayReadEvent(txn, call.principal, event_id));
      ASSIGN_OR_RETURN(std::vector<store::SessionRecord> sessions,
                       PgEventStore::ListSessions(txn, event_id, after.time, after.id, limit));
      for (const store::SessionRecord& s : sessions) ToProto(s, resp->add_sessions());
      if (static_cast<int>(sessions.size()) == limit) {
        const store::SessionRecord& last = sessions.back();
        resp->set_next_page_token(PageTokenAfter(list, {last.id, last.start_time}));
      }
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::UpdateSession(CallbackServerContext* ctx,
                                                    const v1::UpdateSessionRequest* req,
                                                    v1::Session* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(ChildName name,
                     ParseChildName("session.name", req->session().name(), "sessions"));
    RETURN_IF_ERROR(call.principal.Require({Role::kAdmin, Role::kOrganizer}, name.event_id));
    const v1::Session& in = req->session();
    RETURN_IF_ERROR(CheckTime("session.start_time", in.start_time(), in.has_start_time(), false));
    RETURN_IF_ERROR(CheckTime("session.end_time", in.end_time(), in.has_end_time(), false));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::EventRecord event, PgEventStore::GetEvent(txn, name.event_id));
      PgEventStore::LockSession(txn, name.event_id, name.id);
      ASSIGN_OR_RETURN(store::SessionRecord s,
                       PgEventStore::GetSession(txn, name.event_id, name.id));
      const int32_t round_before = s.round;
      RETURN_IF_ERROR(MergeSession(in, req->update_mask(), s));
      RETURN_IF_ERROR(CheckSession(s, event));
      if (s.round != round_before && (s.confirmed_count > 0 || s.waitlisted_count > 0)) {
        return absl::FailedPreconditionError(
            "session.round: attendees chose this session in its round; create a new session "
            "instead");
      }
      RETURN_IF_ERROR(PgEventStore::UpdateSession(txn, s).status());
      store::PgRegistrationStore::PromoteSessionWaitlist(txn, name.event_id, name.id);
      ASSIGN_OR_RETURN(store::SessionRecord updated,
                       PgEventStore::GetSession(txn, name.event_id, name.id));
      ToProto(updated, resp);
      return absl::OkStatus();
    });
  });
}

ServerUnaryReactor* EventServiceImpl::ListCheckpoints(CallbackServerContext* ctx,
                                                      const v1::ListCheckpointsRequest* req,
                                                      v1::ListCheckpointsResponse* resp) {
  return RunUnary(ctx, deps_, [req, resp](Call& call) -> absl::Status {
    ASSIGN_OR_RETURN(int64_t event_id, ParseEventName("parent", req->parent()));
    RETURN_IF_ERROR(call.principal.Require(
        {Role::kAdmin, Role::kOrganizer, Role::kDoor, Role::kDashboard}, event_id));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(std::vector<store::CheckpointRecord> checkpoints,
                       PgEventStore::ListCheckpoints(txn, event_id));
      for (const store::CheckpointRecord& c : checkpoints) ToProto(c, resp->add_checkpoints());
      return absl::OkStatus();
    });
  });
}

}  // namespace turnout::api
