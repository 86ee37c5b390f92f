// EventService: events, sessions and checkpoints.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "server/api/convert.h"
#include "server/api/names.h"
#include "server/api/services.h"
#include "server/domain/program_rules.h"
#include "server/domain/validation.h"
#include "server/store/event_store.h"
#include "server/util/status_macros.h"

namespace turnout::api {
namespace {

using store::PgEventStore;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 100;

domain::EventPlan PlanOf(const store::EventRecord& e) {
  return {e.title, e.venue, e.time_zone, e.start_time, e.end_time, e.doors_open_time, e.capacity};
}

domain::SessionPlan PlanOf(const store::SessionRecord& s) {
  return {s.title,      s.track,    s.room,    s.round, s.requires_selection,
          s.start_time, s.end_time, s.capacity};
}

bool MaskNames(const google::protobuf::FieldMask& mask, absl::string_view path) {
  return std::find(mask.paths().begin(), mask.paths().end(), path) != mask.paths().end();
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
  bool state_masked = false;
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
      state_masked = true;
    else if (path == "allow_reentry")
      e.allow_reentry = in.allow_reentry();
    else
      return absl::InvalidArgumentError(
          absl::StrCat("update_mask: \"", path, "\" cannot be changed"));
  }
  // Every path is one that may change; now each must carry its value.
  RETURN_IF_ERROR(CheckMaskedFieldsSet("event", in, mask));
  if (state_masked) {
    ASSIGN_OR_RETURN(e.state, EventStateFromProto("event.state", in.state()));
  }
  return absl::OkStatus();
}

absl::Status MergeSession(const v1::Session& in, const google::protobuf::FieldMask& mask,
                          store::SessionRecord& s) {
  if (mask.paths_size() == 0) {
    return absl::InvalidArgumentError("update_mask: name the fields to change, e.g. \"capacity\"");
  }
  bool kind_masked = false;
  for (const std::string& path : mask.paths()) {
    if (path == "title")
      s.title = in.title();
    else if (path == "kind")
      kind_masked = true;
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
  RETURN_IF_ERROR(CheckMaskedFieldsSet("session", in, mask));
  if (kind_masked) {
    ASSIGN_OR_RETURN(s.kind, SessionKindFromProto("session.kind", in.kind()));
  }
  return absl::OkStatus();
}

absl::StatusOr<store::EventRecord> EventFrom(const v1::Event& in) {
  store::EventRecord e;
  e.title = in.title();
  e.venue = in.venue();
  e.time_zone = in.time_zone();
  e.start_time = FromProtoTime(in.start_time());
  e.end_time = FromProtoTime(in.end_time());
  e.doors_open_time = in.has_doors_open_time() ? FromProtoTime(in.doors_open_time())
                                               : e.start_time - domain::kDefaultDoorsOpenEarly;
  e.capacity = in.capacity();
  if (in.state() != v1::Event::STATE_UNSPECIFIED) {
    ASSIGN_OR_RETURN(e.state, EventStateFromProto("event.state", in.state()));
  }
  e.allow_reentry = in.has_allow_reentry() ? in.allow_reentry() : true;
  return e;
}

absl::StatusOr<store::SessionRecord> SessionFrom(const v1::Session& in, int64_t event_id) {
  store::SessionRecord s;
  s.event_id = event_id;
  s.title = in.title();
  ASSIGN_OR_RETURN(s.kind, SessionKindFromProto("session.kind", in.kind()));
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

// Anyone may read a published event (attendees register from it); staff of the event read drafts.
absl::Status MayRead(const Principal& p, const store::EventRecord& e) {
  if (e.state == domain::EventState::kPublished && !p.authenticated()) return absl::OkStatus();
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
    ASSIGN_OR_RETURN(store::EventRecord e, EventFrom(in));
    RETURN_IF_ERROR(domain::CheckEvent(PlanOf(e)));
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
      ASSIGN_OR_RETURN(domain::EventChange change,
                       domain::ChangeEvent(PlanOf(before), PlanOf(e),
                                           MaskNames(req->update_mask(), "doors_open_time"),
                                           PgEventStore::EarliestTicketExpiry(txn, id)));
      e.doors_open_time = change.doors_open_time;
      ASSIGN_OR_RETURN(store::EventRecord updated,
                       PgEventStore::UpdateEvent(txn, e, change.session_shift));
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
    ASSIGN_OR_RETURN(store::SessionRecord s, SessionFrom(in, event_id));
    return call.Transaction([&](pqxx::work& txn) -> absl::Status {
      ASSIGN_OR_RETURN(store::EventRecord event, PgEventStore::GetEvent(txn, event_id));
      RETURN_IF_ERROR(domain::CheckSession(PlanOf(s), PlanOf(event)));
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
      const store::SessionRecord before = s;
      RETURN_IF_ERROR(MergeSession(in, req->update_mask(), s));
      RETURN_IF_ERROR(domain::ChangeSession(PlanOf(before), PlanOf(s), PlanOf(event),
                                            before.confirmed_count + before.waitlisted_count));
      ASSIGN_OR_RETURN(store::SessionRecord updated, PgEventStore::UpdateSession(txn, s));
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
