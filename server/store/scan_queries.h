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

// What the scan rules see of a checkpoint `c` (with its event `e` and session `s`, kCheckpointFrom).
// The entrance takes the event's window; a room opens 30 minutes before its session (the same
// derivation as PgEventStore's checkpoints). `event_published`: the event's state is $3
// (PUBLISHED) in every statement that uses it.
inline constexpr char kCheckpointColumns[] = R"(
    c.id, c.session_id, coalesce(s.capacity, e.capacity) AS capacity,
    coalesce(s.requires_selection, false) AS requires_selection,
    coalesce(s.allow_reentry, e.allow_reentry) AS allow_reentry,
    us_of(coalesce(s.start_time - interval '30 minutes', e.doors_open_time)) AS open_us,
    us_of(coalesce(s.end_time, e.end_time)) AS close_us,
    e.purge_time IS NOT NULL AS event_purged, e.state = $3 AS event_published)";
inline constexpr char kCheckpointFrom[] = R"(
    checkpoints c JOIN events e ON e.id = c.event_id
    LEFT JOIN sessions s ON s.event_id = c.event_id AND s.id = c.session_id)";

// Checkpoint $2 of event $1 (0: the event's entrance) as the scan rules see it.
inline constexpr auto kCheckpointSql =
    SqlText("SELECT ", kCheckpointColumns, " FROM ", kCheckpointFrom, R"(
    WHERE c.event_id = $1 AND (c.id = $2 OR ($2 = 0 AND c.session_id IS NULL)))");
inline constexpr Query kCheckpoint{"scan_checkpoint", kCheckpointSql.data()};

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

// The batch path (PgScanStore::RecordScans): a whole batch of scans read in two statements,
// their presence rows locked in one, and the decided scans written in one. Arrays hold one
// element per scan, in the batch's order (`ord`, from 1).

// Per scan: whether its device sent its client_scan_id before ($4 device, $5 client_scan_id),
// its checkpoint ($1 event, $2 checkpoint, 0: the entrance; $3 PUBLISHED), and its ticket ($6
// the code's event, $7 ticket id in hex, both NULL for no valid code) or the registration admitted
// by search ($8, 0 for none), with what the door sees of the registration. `registration_id`:
// the ticket's or the searched registration, NULL if there is none.
inline constexpr auto kBatchLookupSql = SqlText(R"(
    SELECT i.ord,
           f.found IS NOT NULL AS found, c.*, t.ticket_id IS NOT NULL AS ticket_known,
           coalesce(t.superseded, false) AS superseded, r.id AS registration_id,
           r.status AS registration_status, r.display_name, r.preferred_language,
           array_to_string(r.attention_flags, ',') AS attention_flags
    FROM unnest($1::bigint[], $2::bigint[], $4::bigint[], $5::text[], $6::bigint[], $7::text[],
                $8::bigint[]) WITH ORDINALITY
      AS i(event_id, checkpoint_id, device_id, client_scan_id, code_event_id, ticket_hex,
           registration_id, ord)
    LEFT JOIN LATERAL (
      SELECT true AS found FROM scans f
      WHERE f.event_id = i.event_id AND f.device_id = i.device_id
        AND f.client_scan_id = i.client_scan_id
      LIMIT 1) f ON true
    LEFT JOIN LATERAL (SELECT )", kCheckpointColumns, " FROM ", kCheckpointFrom, R"(
      WHERE c.event_id = i.event_id
        AND (c.id = i.checkpoint_id OR (i.checkpoint_id = 0 AND c.session_id IS NULL))
      LIMIT 1) c ON true
    LEFT JOIN LATERAL (
      SELECT t.ticket_id, t.event_id, t.registration_id,
             t.superseded_time IS NOT NULL AS superseded
      FROM tickets t WHERE t.event_id = i.code_event_id AND t.ticket_id = i.ticket_hex
      LIMIT 1) t ON true
    LEFT JOIN LATERAL (
      SELECT * FROM registrations r
      WHERE r.event_id = coalesce(t.event_id, CASE WHEN i.registration_id <> 0 THEN i.event_id END)
        AND r.id = coalesce(t.registration_id, NULLIF(i.registration_id, 0))
      LIMIT 1) r ON true
    ORDER BY i.ord)");
inline constexpr Query kBatchLookup{"scan_batch_lookup", kBatchLookupSql.data()};

// The breakout choices of registrations ($1 event, $2 registration), by round, with their
// sessions' title and room.
inline constexpr Query kBatchChoices{"scan_batch_choices", R"(
    SELECT i.event_id, i.registration_id, sc.*
    FROM unnest($1::bigint[], $2::bigint[]) AS i(event_id, registration_id)
    CROSS JOIN LATERAL (
      SELECT sc.session_id, sc.round, sc.status, s.title, s.room
      FROM session_choices sc JOIN sessions s ON s.event_id = sc.event_id AND s.id = sc.session_id
      WHERE sc.event_id = i.event_id AND sc.registration_id = i.registration_id
      ORDER BY sc.round OFFSET 0) sc)"};

// kPresenceUpsert for many tickets ($1 event, $2 checkpoint, $3 registration; no key twice),
// locked in key order.
inline constexpr Query kBatchPresence{"presence_batch_upsert", R"(
    INSERT INTO presence (event_id, checkpoint_id, registration_id)
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) ORDER BY 1, 2, 3
    ON CONFLICT (event_id, checkpoint_id, registration_id)
      DO UPDATE SET ever_admitted = presence.ever_admitted
    RETURNING event_id, checkpoint_id, registration_id, ever_admitted, inside,
              us_of(first_entry_time) AS first_entry_us,
              us_of(last_change_time) AS last_change_us, us_of(last_scan_time) AS last_scan_us,
              us_of(clock_timestamp()) AS locked_us)"};

// kRecord for many scans, in their order (arrays $1-$16, one element per scan; times in µs, -1
// for NULL; registration and device status 0 for none), and the presence they leave (arrays
// $17-$24, one element per ticket, whose row kBatchPresence locked: an upsert, so that each row
// is found by its key whatever the plan). Returns the recorded scans' ids; a scan whose
// client_scan_id committed concurrently is missing (ON CONFLICT DO NOTHING).
inline constexpr Query kBatchRecord{"scan_batch_record", R"(
    WITH recorded AS (
      INSERT INTO scans (event_id, checkpoint_id, registration_id, device_id, client_scan_id,
                         direction, scanned_time, offline, status, device_status,
                         first_entry_time, request_digest, code_hash, code_length, code_header,
                         received_time)
      SELECT event_id, checkpoint_id, NULLIF(registration_id, 0), device_id, client_scan_id,
             direction, ts_of(scanned_us), offline, status, NULLIF(device_status, 0),
             CASE WHEN first_entry_us < 0 THEN NULL ELSE ts_of(first_entry_us) END,
             request_digest, code_hash, code_length, code_header, ts_of(received_us)
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::int[],
                  $7::bigint[], $8::bool[], $9::int[], $10::int[], $11::bigint[], $12::text[],
                  $13::text[], $14::int[], $15::text[], $16::bigint[]) WITH ORDINALITY
        AS i(event_id, checkpoint_id, registration_id, device_id, client_scan_id, direction,
             scanned_us, offline, status, device_status, first_entry_us, request_digest,
             code_hash, code_length, code_header, received_us, ord)
      ORDER BY ord
      ON CONFLICT (event_id, device_id, client_scan_id) DO NOTHING
      RETURNING event_id, device_id, client_scan_id, id),
    moved AS (
      INSERT INTO presence (event_id, checkpoint_id, registration_id, ever_admitted, inside,
                            first_entry_time, last_change_time, last_scan_time)
      SELECT event_id, checkpoint_id, registration_id, ever_admitted, inside,
             CASE WHEN first_entry_us < 0 THEN NULL ELSE ts_of(first_entry_us) END,
             CASE WHEN last_change_us < 0 THEN NULL ELSE ts_of(last_change_us) END,
             ts_of(last_scan_us)
      FROM unnest($17::bigint[], $18::bigint[], $19::bigint[], $20::bool[], $21::bool[],
                  $22::bigint[], $23::bigint[], $24::bigint[])
        AS m(event_id, checkpoint_id, registration_id, ever_admitted, inside, first_entry_us,
             last_change_us, last_scan_us)
      ON CONFLICT (event_id, checkpoint_id, registration_id) DO UPDATE
        SET ever_admitted = excluded.ever_admitted, inside = excluded.inside,
            first_entry_time = excluded.first_entry_time,
            last_change_time = excluded.last_change_time,
            last_scan_time = excluded.last_scan_time)
    SELECT event_id, device_id, client_scan_id, id FROM recorded)"};

}  // namespace turnout::store::scan_queries

#endif  // TURNOUT_SERVER_STORE_SCAN_QUERIES_H_
