// The statements of the door's scan path (PgScanStore::RecordScan), with the structs of the rows
// they return. They live in a header of their own because turnout-bench replays them with pgbench
// (tools/bench/pgbench_replay.cc): the replay takes its SQL from these very constants, so it runs
// what the server runs. The scan store's other statements are in scan_store.cc.
//
// Times travel as microseconds since the epoch (us_of/ts_of); a NULL time bound as a parameter
// travels as -1 (no scan predates 1970). Stored enums are bound with domain::Stored().
#ifndef TURNOUT_SERVER_STORE_SCAN_QUERIES_H_
#define TURNOUT_SERVER_STORE_SCAN_QUERIES_H_

#include "server/store/query.h"

namespace turnout::store::scan_queries {

// The scan device $2 sent before as client_scan_id $3 at event $1.
inline constexpr Query kFindScan{"scan_find", R"(
    SELECT id, status, registration_id, us_of(first_entry_time) AS first_entry_us, checkpoint_id,
           request_digest
    FROM scans WHERE event_id = $1 AND device_id = $2 AND client_scan_id = $3)"};

// Checkpoint $2 of event $1 (0: the event's entrance) as the scan rules see it. The entrance takes
// the event's window; a room opens 30 minutes before its session (the same derivation as
// PgEventStore's checkpoints). `event_published`: the event's state is $3 (PUBLISHED).
inline constexpr Query kCheckpoint{"scan_checkpoint", R"(
    SELECT c.id, c.session_id, coalesce(s.capacity, e.capacity) AS capacity,
           coalesce(s.requires_selection, false) AS requires_selection,
           coalesce(s.allow_reentry, e.allow_reentry) AS allow_reentry,
           us_of(coalesce(s.start_time - interval '30 minutes', e.doors_open_time)) AS open_us,
           us_of(coalesce(s.end_time, e.end_time)) AS close_us,
           e.purge_time IS NOT NULL AS event_purged, e.state = $3 AS event_published
    FROM checkpoints c JOIN events e ON e.id = c.event_id
    LEFT JOIN sessions s ON s.event_id = c.event_id AND s.id = c.session_id
    WHERE c.event_id = $1 AND (c.id = $2 OR ($2 = 0 AND c.session_id IS NULL)))"};

// The ticket $2 (hex id) of event $1, with what the door sees of its registration.
inline constexpr Query kTicket{"scan_ticket", R"(
    SELECT t.registration_id, t.superseded_time IS NOT NULL AS superseded,
           r.status AS registration_status, r.display_name, r.preferred_language,
           array_to_string(r.attention_flags, ',') AS attention_flags
    FROM tickets t JOIN registrations r ON r.event_id = t.event_id AND r.id = t.registration_id
    WHERE t.event_id = $1 AND t.ticket_id = $2)"};

// What the door sees of registration $2 of event $1 (admitted by search, not by code).
inline constexpr Query kRegistration{"scan_registration", R"(
    SELECT status AS registration_status, display_name, preferred_language,
           array_to_string(attention_flags, ',') AS attention_flags
    FROM registrations WHERE event_id = $1 AND id = $2)"};

// Registration $2's breakout choices in event $1, by round, with their sessions' title and room.
inline constexpr Query kChoices{"scan_choices", R"(
    SELECT sc.session_id, sc.round, sc.status, s.title, s.room
    FROM session_choices sc JOIN sessions s ON s.event_id = sc.event_id AND s.id = sc.session_id
    WHERE sc.event_id = $1 AND sc.registration_id = $2 ORDER BY sc.round)"};

// Creates the presence row of ($1 event, $2 checkpoint, $3 registration) if needed and locks it,
// in one round trip; `locked_us` is the database's clock once the lock is held.
inline constexpr Query kPresenceUpsert{"presence_upsert", R"(
    INSERT INTO presence (event_id, checkpoint_id, registration_id) VALUES ($1, $2, $3)
    ON CONFLICT (event_id, checkpoint_id, registration_id)
      DO UPDATE SET ever_admitted = presence.ever_admitted
    RETURNING ever_admitted, inside, us_of(first_entry_time) AS first_entry_us,
              us_of(last_change_time) AS last_change_us, us_of(last_scan_time) AS last_scan_us,
              us_of(clock_timestamp()) AS locked_us)"};

// Records the scan and, when it settles the ticket's presence ($16: its answer depends on
// presence, it is the newest in canonical order) and is not a concurrent duplicate, moves the
// presence, in one round trip. $21: when the server received it (µs, the server's clock). No row returned: the same client_scan_id committed concurrently.
inline constexpr Query kRecord{"scan_record", R"(
    WITH recorded AS (
      INSERT INTO scans (event_id, checkpoint_id, registration_id, device_id, client_scan_id,
                         direction, scanned_time, offline, status, device_status,
                         first_entry_time, request_digest, code_hash, code_length, code_header,
                         received_time)
      VALUES ($1, $2, NULLIF($3::bigint, 0), $4, $5, $6, ts_of($7), $8, $9, NULLIF($10, 0),
              CASE WHEN $11::bigint < 0 THEN NULL ELSE ts_of($11::bigint) END, $17, $18, $19, $20,
              ts_of($21))
      ON CONFLICT (event_id, device_id, client_scan_id) DO NOTHING
      RETURNING id),
    moved AS (
      UPDATE presence SET ever_admitted = $12, inside = $13,
             first_entry_time = CASE WHEN $14::bigint < 0 THEN NULL ELSE ts_of($14::bigint) END,
             last_change_time = CASE WHEN $15::bigint < 0 THEN NULL ELSE ts_of($15::bigint) END,
             last_scan_time = ts_of($7)
      WHERE $16 AND event_id = $1 AND checkpoint_id = $2 AND registration_id = $3
        AND EXISTS (SELECT 1 FROM recorded))
    SELECT id FROM recorded)"};

}  // namespace turnout::store::scan_queries

#endif  // TURNOUT_SERVER_STORE_SCAN_QUERIES_H_
