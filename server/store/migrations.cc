#include "server/store/migrations.h"

namespace turnout::store {
namespace {

// Every table holding event data is keyed by event_id first, so the schema can be distributed by
// event (e.g. with Citus) unchanged. Times are timestamptz; the code exchanges microseconds through
// ts_of()/us_of().
constexpr char kInitialSchema[] = R"sql(
CREATE FUNCTION ts_of(us bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS $$ SELECT 'epoch'::timestamptz + us * interval '1 microsecond' $$;
CREATE FUNCTION us_of(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

CREATE TABLE events (
  id              bigserial PRIMARY KEY,
  title           text NOT NULL,
  venue           text NOT NULL DEFAULT '',
  time_zone       text NOT NULL,
  start_time      timestamptz NOT NULL,
  end_time        timestamptz NOT NULL,
  doors_open_time timestamptz NOT NULL,
  capacity        integer NOT NULL DEFAULT 0,
  state           smallint NOT NULL,
  allow_reentry   boolean NOT NULL DEFAULT true,
  request_id      text UNIQUE,
  purge_time      timestamptz,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  event_id           bigint NOT NULL REFERENCES events (id),
  id                 bigserial,
  title              text NOT NULL,
  kind               smallint NOT NULL,
  track              text NOT NULL DEFAULT '',
  room               text NOT NULL DEFAULT '',
  round              integer NOT NULL DEFAULT 0,
  start_time         timestamptz NOT NULL,
  end_time           timestamptz NOT NULL,
  capacity           integer NOT NULL DEFAULT 0,
  requires_selection boolean NOT NULL DEFAULT false,
  allow_reentry      boolean NOT NULL DEFAULT true,
  request_id         text,
  PRIMARY KEY (event_id, id),
  UNIQUE (event_id, request_id)
);

-- The entrance (session_id NULL) and one per session.
CREATE TABLE checkpoints (
  event_id   bigint NOT NULL REFERENCES events (id),
  id         bigserial,
  session_id bigint,
  PRIMARY KEY (event_id, id),
  UNIQUE (event_id, session_id),
  FOREIGN KEY (event_id, session_id) REFERENCES sessions (event_id, id)
);
CREATE UNIQUE INDEX checkpoints_one_entrance ON checkpoints (event_id) WHERE session_id IS NULL;

CREATE TABLE registrations (
  event_id           bigint NOT NULL REFERENCES events (id),
  id                 bigserial,
  display_name       text NOT NULL,
  -- Lower-case, accent-free display name for prefix search.
  search_name        text NOT NULL,
  -- Contact fields, sealed with the deployment's data key (libsodium secretbox), hex.
  email_sealed       text NOT NULL DEFAULT '',
  phone_sealed       text NOT NULL DEFAULT '',
  preferred_language text NOT NULL DEFAULT '',
  attention_flags    integer[] NOT NULL DEFAULT '{}',
  status             smallint NOT NULL,
  source             smallint NOT NULL,
  request_id         text,
  create_time        timestamptz NOT NULL DEFAULT now(),
  update_time        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, id),
  UNIQUE (event_id, request_id)
);
CREATE INDEX registrations_by_name ON registrations (event_id, search_name text_pattern_ops);
CREATE INDEX registrations_by_status ON registrations (event_id, status, id);

-- One breakout per round. Waitlisted choices are promoted in chosen_time order.
CREATE TABLE session_choices (
  event_id        bigint NOT NULL,
  registration_id bigint NOT NULL,
  round           integer NOT NULL,
  session_id      bigint NOT NULL,
  status          smallint NOT NULL,
  chosen_time     timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (event_id, registration_id, round),
  FOREIGN KEY (event_id, registration_id) REFERENCES registrations (event_id, id),
  FOREIGN KEY (event_id, session_id) REFERENCES sessions (event_id, id)
);
CREATE INDEX session_choices_by_session ON session_choices (event_id, session_id, status, chosen_time);

-- Deployment-wide Ed25519 signing keys; secret keys sealed with the data key.
CREATE TABLE signing_keys (
  key_id      integer PRIMARY KEY,
  public_key  text NOT NULL,
  secret_sealed text NOT NULL,
  active      boolean NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  revoke_time timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active;

CREATE TABLE tickets (
  event_id        bigint NOT NULL,
  ticket_id       text NOT NULL,          -- 96 random bits, hex
  registration_id bigint NOT NULL,
  key_id          integer NOT NULL REFERENCES signing_keys (key_id),
  code            text NOT NULL,
  issue_time      timestamptz NOT NULL DEFAULT now(),
  expire_time     timestamptz NOT NULL,
  superseded_time timestamptz,
  PRIMARY KEY (event_id, ticket_id),
  FOREIGN KEY (event_id, registration_id) REFERENCES registrations (event_id, id)
);
CREATE UNIQUE INDEX tickets_current ON tickets (event_id, registration_id) WHERE superseded_time IS NULL;

-- Bearer tokens, stored only as hashes.
CREATE TABLE tokens (
  id          bigserial PRIMARY KEY,
  token_hash  text NOT NULL UNIQUE,
  role        smallint NOT NULL,
  event_id    bigint REFERENCES events (id),
  label       text NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now(),
  revoke_time timestamptz
);

-- Where each ticket stands at each checkpoint; the counts are tallies of these rows.
CREATE TABLE presence (
  event_id         bigint NOT NULL,
  checkpoint_id    bigint NOT NULL,
  registration_id  bigint NOT NULL,
  ever_admitted    boolean NOT NULL DEFAULT false,
  inside           boolean NOT NULL DEFAULT false,
  first_entry_time timestamptz,
  last_change_time timestamptz,
  PRIMARY KEY (event_id, checkpoint_id, registration_id)
);

-- Every scan attempt, append-only (annulment is a mark, not a delete).
CREATE TABLE scans (
  event_id        bigint NOT NULL,
  id              bigserial,
  checkpoint_id   bigint NOT NULL,
  registration_id bigint,
  device_id       bigint NOT NULL,         -- the token that scanned
  client_scan_id  text NOT NULL,
  direction       smallint NOT NULL,       -- 1 entry, 2 exit
  scanned_time    timestamptz NOT NULL,    -- the device's clock
  received_time   timestamptz NOT NULL DEFAULT now(),
  offline         boolean NOT NULL DEFAULT false,
  status          smallint NOT NULL,       -- ScanResult.Status
  device_status   smallint,                -- what an offline device decided
  raw_code        text NOT NULL DEFAULT '',-- refused scans only, truncated, for diagnosis
  first_entry_time timestamptz,            -- for ALREADY_CHECKED_IN answers
  annul_time      timestamptz,
  PRIMARY KEY (event_id, id),
  UNIQUE (event_id, device_id, client_scan_id)
);
CREATE INDEX scans_by_checkpoint ON scans (event_id, checkpoint_id, received_time);
CREATE INDEX scans_by_registration ON scans (event_id, registration_id, checkpoint_id);
)sql";

// A ticket's scans at a checkpoint are settled in canonical order (scan time, then arrival):
// presence remembers the time of the latest scan that took part, so that a scan arriving out of
// order is recognised; a scan remembers a keyed digest of what was scanned, so that a reused
// client_scan_id is told apart from a retry. The backfill names the stored ScanResult.Status
// numbers of the day (1 ADMITTED, 2 EXIT_RECORDED, 3 ALREADY_CHECKED_IN): this migration is
// history and never runs against other numbers.
constexpr char kCanonicalOrder[] = R"sql(
ALTER TABLE presence ADD COLUMN last_scan_time timestamptz;
ALTER TABLE scans ADD COLUMN request_digest text NOT NULL DEFAULT '';
UPDATE presence p SET last_scan_time = (
  SELECT max(s.scanned_time) FROM scans s
  WHERE s.event_id = p.event_id AND s.checkpoint_id = p.checkpoint_id
    AND s.registration_id = p.registration_id AND s.status IN (1, 2, 3)
    AND s.annul_time IS NULL);
)sql";

// search_name is computed in C++ (domain::NormalizeForSearch), which SQL cannot run: each row
// records the version of the rules that computed it, and the server recomputes rows of older
// versions at start-up (search_names.h). Rows stored before this column are version 1.
constexpr char kSearchVersion[] = R"sql(
ALTER TABLE registrations ADD COLUMN search_version smallint NOT NULL DEFAULT 1;
)sql";

// Offline bundles are incremental: every row a door's roster entry is built from records the
// transaction that last wrote it (changed_xid), and a bundle's version is the oldest transaction
// still running when it was read (pg_snapshot_xmin), so a delta since that version misses no
// change committed after the bundle was read. Deleted breakout choices always come with an
// update of their registration row.
constexpr char kBundleVersions[] = R"sql(
CREATE FUNCTION touch_changed_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.changed_xid := pg_current_xact_id();
  RETURN NEW;
END $$;
ALTER TABLE registrations ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE session_choices ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE presence ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE tickets ADD COLUMN changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE TRIGGER registrations_changed BEFORE UPDATE ON registrations
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_changed_xid();
CREATE TRIGGER session_choices_changed BEFORE UPDATE ON session_choices
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_changed_xid();
CREATE TRIGGER presence_changed BEFORE UPDATE ON presence
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_changed_xid();
CREATE TRIGGER tickets_changed BEFORE UPDATE ON tickets
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION touch_changed_xid();
)sql";

// Privacy: the ticket code is shown openly at the door, so an attendee's own changes take a manage
// secret, of which only a keyed hash is kept ('' for registrations made before it: an organizer
// issues them one). A refused scan keeps no text a scanner read (a driver's licence carries a name
// and an address): a keyed hash, the length, and the header only of what could be a damaged
// Turnout code. Rows refused before this keep their length (of the at most 64 characters that
// were kept) and nothing else; the text column is blanked by a table rewrite before it is dropped,
// so the old text does not linger in the table's files as dead rows would.
constexpr char kPrivacy[] = R"sql(
ALTER TABLE registrations ADD COLUMN manage_secret_hash text NOT NULL DEFAULT '';
ALTER TABLE scans ADD COLUMN code_hash text NOT NULL DEFAULT '',
                  ADD COLUMN code_length integer NOT NULL DEFAULT 0,
                  ADD COLUMN code_header text NOT NULL DEFAULT '';
UPDATE scans SET code_length = octet_length(raw_code) WHERE raw_code <> '';
ALTER TABLE scans ALTER COLUMN raw_code TYPE text USING '';
ALTER TABLE scans DROP COLUMN raw_code;
)sql";

// Purging an event's personal data (purge_store.h) erases its breakout choices, of which some
// counts are tallies: they are kept per session, and the counts add them to the live rows (none
// are left once an event is purged). Administrative actions leave one audit row each: who (the
// token), what, on which resource, and a count; never personal data, never a token's label.
constexpr char kPurgeAndAudit[] = R"sql(
CREATE TABLE purged_session_counts (
  event_id   bigint NOT NULL,
  session_id bigint NOT NULL,
  confirmed  integer NOT NULL,  -- confirmed choices
  waitlisted integer NOT NULL,  -- waitlisted choices
  selected   integer NOT NULL,  -- confirmed choices of confirmed registrations
  PRIMARY KEY (event_id, session_id),
  FOREIGN KEY (event_id, session_id) REFERENCES sessions (event_id, id)
);
CREATE TABLE audit_log (
  id             bigserial PRIMARY KEY,
  action_time    timestamptz NOT NULL DEFAULT now(),
  actor_token_id bigint REFERENCES tokens (id),  -- NULL: the server itself
  action         smallint NOT NULL,               -- AuditEntry.Action
  target         text NOT NULL,                   -- a resource name
  count          bigint NOT NULL DEFAULT 0,
  detail         text NOT NULL DEFAULT ''
);
)sql";

// Distribution by event (deploy/SCALING.md, "Distribution by event"): every table but tokens and
// signing_keys is keyed by event_id first (events by id), and every unique constraint and every
// foreign key between them includes it, so that each can be distributed by event, co-located;
// tokens and signing_keys stay global (reference tables). What broke that rule:
// - events.request_id was unique across events: CreateEvent now takes an advisory lock on the
//   request_id and looks it up (PgEventStore::CreateEvent), through a plain index.
// - tokens.event_id referenced events: a reference table cannot reference a distributed one. No
//   event is ever deleted, and CreateDeviceToken reads the event in the token's transaction.
// - audit_log was global: its rows are filed by event, 0 for actions on global resources (tokens,
//   signing keys). The rows before this take the event their target names ("events/{id}").
//   Listing the whole log pages by id, through audit_log_by_id.
constexpr char kDistributionByEvent[] = R"sql(
ALTER TABLE events DROP CONSTRAINT events_request_id_key;
CREATE INDEX events_by_request ON events (request_id) WHERE request_id IS NOT NULL;
ALTER TABLE tokens DROP CONSTRAINT tokens_event_id_fkey;
ALTER TABLE audit_log ADD COLUMN event_id bigint NOT NULL DEFAULT 0;
UPDATE audit_log SET event_id = substring(target FROM '^events/([0-9]+)$')::bigint
  WHERE target ~ '^events/[0-9]+$';
ALTER TABLE audit_log ALTER COLUMN event_id DROP DEFAULT;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey, ADD PRIMARY KEY (event_id, id);
CREATE INDEX audit_log_by_id ON audit_log (id);
)sql";

// Places and seats are counted, not recounted: each event keeps how many of its registrations are
// confirmed and waitlisted, and each session how many choices of it are, changed in the
// transaction of every change (registration_store.h), so that the last seats are decided without a
// count(*) per registration. The session counters include the tallies a purge keeps
// (purged_session_counts), as every count of a session does; a purge leaves them as they are.
constexpr char kPlaceCounters[] = R"sql(
ALTER TABLE events ADD COLUMN confirmed_count integer NOT NULL DEFAULT 0,
                   ADD COLUMN waitlisted_count integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN confirmed_count integer NOT NULL DEFAULT 0,
                     ADD COLUMN waitlisted_count integer NOT NULL DEFAULT 0;
UPDATE events e SET
  confirmed_count = (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 1),
  waitlisted_count = (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 2);
UPDATE sessions s SET
  confirmed_count =
    (SELECT count(*) FROM session_choices sc
     WHERE sc.event_id = s.event_id AND sc.session_id = s.id AND sc.status = 1)
    + coalesce((SELECT p.confirmed FROM purged_session_counts p
                WHERE p.event_id = s.event_id AND p.session_id = s.id), 0),
  waitlisted_count =
    (SELECT count(*) FROM session_choices sc
     WHERE sc.event_id = s.event_id AND sc.session_id = s.id AND sc.status = 2)
    + coalesce((SELECT p.waitlisted FROM purged_session_counts p
                WHERE p.event_id = s.event_id AND p.session_id = s.id), 0);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, "initial schema", kInitialSchema},
      {2, "canonical scan order and scan request digests", kCanonicalOrder},
      {3, "registrations.search_version", kSearchVersion},
      {4, "offline bundle versions", kBundleVersions},
      {5, "manage secrets; refused scans keep no raw text", kPrivacy},
      {6, "purged session counts and the audit log", kPurgeAndAudit},
      {7, "every event table keyed by event_id for distribution", kDistributionByEvent},
      {8, "confirmed and waitlisted counters of events and sessions", kPlaceCounters},
  };
  return *migrations;
}

}  // namespace turnout::store
