"""End-to-end tests: the built turnout-server and turnoutctl, driven like a user would, and a
Python grpcio client generated from the .proto files.

Run: python3 tests/e2e/e2e_test.py --build-dir build
"""
import argparse
import base64
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zoneinfo
import unittest
import uuid

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
SERVER = None
v1 = {}


def setUpModule():
    harness.generate_stubs(os.path.join(BUILD_DIR, "tests/e2e/gen"))
    from turnout.v1 import (admin_service_pb2, admin_service_pb2_grpc, attendance_service_pb2,
                            attendance_service_pb2_grpc, checkin_service_pb2,
                            checkin_service_pb2_grpc, event_service_pb2, event_service_pb2_grpc,
                            registration_service_pb2, registration_service_pb2_grpc, resources_pb2)
    v1.update(locals())
    global SERVER
    SERVER = harness.Server(BUILD_DIR).start()


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


def ts(text):
    from google.protobuf.timestamp_pb2 import Timestamp
    t = Timestamp()
    t.FromJsonString(text)
    return t


class ServerTestCase(unittest.TestCase):
    """Tests talking to the module's server as ADMIN, through a channel of their own."""

    @classmethod
    def setUpClass(cls):
        cls.channel = SERVER.channel()
        cls.stubs = harness.Stubs(cls.channel, v1)
        cls.admin = harness.bearer(SERVER.admin_token)


class DemoAndToolsTest(ServerTestCase):
    """turnoutctl demo loads the two trainings; the tour of the README works."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        SERVER.ctl("demo")

    def events_by_title(self):
        ev = v1["event_service_pb2"]
        listed = self.stubs.events.ListEvents(ev.ListEventsRequest(), metadata=self.admin)
        return listed.events

    def trainings(self):
        return [e for e in self.events_by_title() if "Regional Training" in e.title]

    def test_demo_loads_both_trainings_and_todays_practice_once(self):
        SERVER.ctl("demo")  # idempotent: a second run creates nothing new
        events = self.events_by_title()
        trainings = self.trainings()
        self.assertEqual(len(trainings), 2)
        venues = " ".join(e.title + " " + e.venue for e in trainings)
        self.assertIn("Oakland", venues)
        self.assertIn("Los Angeles", venues)
        for e in trainings:
            self.assertEqual(e.time_zone, "America/Los_Angeles")
            self.assertEqual(e.state, v1["resources_pb2"].Event.PUBLISHED)
        # The practice of today, doors open since the first run, in this machine's time zone.
        practices = [e for e in events if e.title.startswith("Door practice")]
        self.assertEqual(len(practices), 1, [e.title for e in events])
        practice = practices[0]
        self.assertIn(datetime.date.today().isoformat(), practice.title)
        self.assertEqual(practice.state, v1["resources_pb2"].Event.PUBLISHED)
        now = time.time()
        self.assertLessEqual(practice.doors_open_time.seconds, now)
        self.assertGreater(practice.end_time.seconds, now + 3600)

    def test_demo_program_has_plenaries_and_two_breakout_rounds(self):
        ev = v1["event_service_pb2"]
        res = v1["resources_pb2"]
        for e in self.trainings():
            sessions = self.stubs.events.ListSessions(
                ev.ListSessionsRequest(parent=e.name), metadata=self.admin).sessions
            plenaries = [s for s in sessions if s.kind == res.Session.PLENARY]
            breakouts = [s for s in sessions if s.kind == res.Session.BREAKOUT]
            self.assertEqual(len(plenaries), 2, [s.title for s in sessions])
            self.assertEqual(len(breakouts), 10)
            self.assertEqual(sorted({s.round for s in breakouts}), [1, 2])
            self.assertTrue(all(s.requires_selection and s.capacity > 0 for s in breakouts))
            self.assertTrue(any("Workers" in s.title or "Workers" in s.track for s in breakouts))

    def test_readme_tour_works_when_pasted(self):
        """Runs the README's tour block as written, in a directory laid out like the repository."""
        with open(os.path.join(harness.ROOT, "README.md")) as f:
            readme = f.read()
        tour = readme.split("## A five-minute tour", 1)[1]
        script = tour.split("```sh\n", 1)[1].split("```", 1)[0]
        script = script.replace("127.0.0.1:7443", SERVER.target)
        workdir = os.path.join(SERVER.tmp, "tour")
        os.makedirs(workdir, exist_ok=True)
        os.symlink(BUILD_DIR, os.path.join(workdir, "build"))
        os.symlink(SERVER.data_dir, os.path.join(workdir, "data"))
        env = {k: v for k, v in os.environ.items() if k != "TURNOUT_TOKEN"}
        done = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True,
                              env=env, timeout=120)
        out = done.stdout
        self.assertEqual(done.returncode, 0, out + done.stderr)  # the last command, counts, succeeds
        self.assertIn("events/1/registrations/1", out)
        self.assertRegex(out, r"status:\s+ADMITTED")
        self.assertRegex(out, r"status:\s+ALREADY_CHECKED_IN")
        self.assertIn("Duplicado", out)
        self.assertRegex(out, r"Entrance\s+1\s+1\s+1\s+300")
        with open(os.path.join(workdir, "ticket.png"), "rb") as png:
            self.assertEqual(png.read(8), b"\x89PNG\r\n\x1a\n")
        with open(os.path.join(workdir, "ticket.svg")) as svg:
            self.assertIn("<svg", svg.read())
        # Step 6: today's practice door, a door token for it and a ticket to scan there.
        with open(os.path.join(workdir, "door.token")) as token:
            self.assertRegex(token.read(), r"^tnt_")
        with open(os.path.join(workdir, "practice.png"), "rb") as png:
            self.assertEqual(png.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertRegex(out, r"PRACTICE=events/\d+")


class PurgeCliTest(ServerTestCase):
    """`turnoutctl purge` and `turnoutctl audit`, as an organizer runs them after a training."""

    def test_purge_erases_names_keeps_counts_and_leaves_an_audit_entry(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
        def create(title, start):
            out = SERVER.ctl("events", "create", "--title=" + title, "--venue=Hall",
                             "--time_zone=America/Los_Angeles", "--start=" + iso(start),
                             "--end=" + iso(start + datetime.timedelta(hours=8)),
                             "--doors_open=" + iso(start - datetime.timedelta(hours=1))).stdout
            return re.search(r"^name:\s+(events/\d+)", out, re.M).group(1)
        ended = create("Purge e2e, yesterday", now - datetime.timedelta(days=2))
        running = create("Purge e2e, today", now - datetime.timedelta(hours=1))
        SERVER.ctl("register", ended, "--name=Quintessa Purgeworthy", "--email=q@purge.example")
        SERVER.ctl("register", running, "--name=Quintessa Running")

        refused = SERVER.ctl("purge", running, "--yes", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("FAILED_PRECONDITION", refused.stderr)
        self.assertIn("has not ended", refused.stderr)
        self.assertEqual(SERVER.ctl("purge", ended, check=False).returncode, 2)  # no --yes

        out = SERVER.ctl("purge", ended, "--yes").stdout
        self.assertIn("purged 1 registrations of " + ended, out)
        self.assertNotIn("Quintessa", SERVER.ctl("registrations", ended).stdout)
        self.assertIn("Quintessa Running", SERVER.ctl("registrations", running).stdout)
        self.assertRegex(SERVER.ctl("events", "get", ended).stdout, r"purged:\s+\d{4}-")
        self.assertRegex(SERVER.ctl("events", "get", ended).stdout, r"registered:\s+1 confirmed")
        audit = SERVER.ctl("audit").stdout
        self.assertRegex(audit, r"tokens/1\s+PERSONAL_DATA_PURGED\s+" + ended + r"\s+1")
        self.assertNotIn("Quintessa", audit)
        self.assertNotIn("purge.example", audit)


class EventTestCase(ServerTestCase):
    """Tests with an event of their own, open now, and a DOOR token for it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ev, res = v1["event_service_pb2"], v1["resources_pb2"]
        now = datetime.datetime.now(datetime.timezone.utc)
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
        cls.event = cls.stubs.events.CreateEvent(ev.CreateEventRequest(
            event=res.Event(title="E2E training", venue="Hall", time_zone="America/Los_Angeles",
                            start_time=ts(iso(now)), end_time=ts(iso(now + datetime.timedelta(hours=8))),
                            doors_open_time=ts(iso(now - datetime.timedelta(hours=1))),
                            state=res.Event.PUBLISHED),
            request_id="e2e-" + uuid.uuid4().hex), metadata=cls.admin)
        adm = v1["admin_service_pb2"]
        cls.door_secret = cls.stubs.admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_DOOR, event=cls.event.name, label="e2e door"), metadata=cls.admin).secret
        cls.door = harness.bearer(cls.door_secret)

    def register(self, name, email=""):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        return self.stubs.registrations.Register(rs.RegisterRequest(
            parent=self.event.name, request_id=uuid.uuid4().hex,
            registration=res.Registration(display_name=name, email=email, preferred_language="es",
                                          attention_flags=[res.ATTENTION_FLAG_SPANISH_INTERPRETATION])))

    def scan(self, code, scan_id=None, metadata=None):
        cs = v1["checkin_service_pb2"]
        return self.stubs.checkin.Scan(cs.ScanRequest(
            event=self.event.name, code=code, client_scan_id=scan_id or uuid.uuid4().hex,
            language="es"), metadata=metadata or self.door)


class PythonClientTest(EventTestCase):
    """A registration-to-door journey with a grpcio client that is not ours."""

    def test_register_anonymously_then_scan_at_the_door(self):
        res = v1["resources_pb2"]
        done = self.register("María Rodríguez", "maria@example.org")
        self.assertEqual(done.registration.status, res.Registration.CONFIRMED)
        code = done.ticket.code
        self.assertLessEqual(len(code), 150)
        self.assertRegex(code, r"^[A-Z2-7]+$")
        decoded = base64.b32decode(code + "=" * (-len(code) % 8))
        self.assertNotIn(b"Mar", decoded)
        self.assertNotIn(b"maria", decoded)

        first = self.scan(code)
        self.assertEqual(res.ScanResult.Status.Name(first.status), "ADMITTED")
        self.assertEqual(first.display_name, "María Rodríguez")
        self.assertIn(res.ATTENTION_FLAG_SPANISH_INTERPRETATION, first.attention_flags)
        self.assertTrue(first.message)
        again = self.scan(code)
        self.assertEqual(res.ScanResult.Status.Name(again.status), "ALREADY_CHECKED_IN")
        self.assertTrue(again.HasField("first_entry_time"))

    def test_turnoutctl_shows_the_first_entry_in_the_events_time_zone(self):
        """A door laptop set to another zone still reads the entry time of the event's venue."""
        code = self.register("Zona Horaria").ticket.code
        entered = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)
                   ).replace(microsecond=0)
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
        first = SERVER.ctl("scan", self.event.name, code, "--at=" + iso(entered),
                           token=self.door_secret, tz="Asia/Tokyo")
        self.assertRegex(first.stdout, r"status:\s+ADMITTED")
        again = SERVER.ctl("scan", self.event.name, code,
                           "--at=" + iso(entered + datetime.timedelta(minutes=1)),
                           token=self.door_secret, tz="Asia/Tokyo", check=False)
        self.assertRegex(again.stdout, r"status:\s+ALREADY_CHECKED_IN", again.stderr)
        venue = entered.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
        self.assertRegex(again.stdout,
                         r"first entry:\s+" + re.escape(venue.strftime("%Y-%m-%d %H:%M")) + " at ")

    def test_turnoutctl_scans_now_without_at(self):
        """Without --at the scan is made now (no empty scan_time that reads as 1970)."""
        code = self.register("Sin Hora").ticket.code
        now = SERVER.ctl("scan", self.event.name, code, token=self.door_secret, check=False)
        self.assertEqual(now.returncode, 0, now.stdout + now.stderr)
        self.assertRegex(now.stdout, r"status:\s+ADMITTED")

    def test_retry_with_same_client_scan_id_counts_once(self):
        at, res = v1["attendance_service_pb2"], v1["resources_pb2"]
        done = self.register("Retry Person")
        before = self.stubs.attendance.GetAttendance(
            at.GetAttendanceRequest(event=self.event.name), metadata=self.door).checkpoints[0]
        scan_id = uuid.uuid4().hex
        a = self.scan(done.ticket.code, scan_id)
        b = self.scan(done.ticket.code, scan_id)
        self.assertEqual(a.status, res.ScanResult.ADMITTED)
        self.assertEqual(b.status, res.ScanResult.ADMITTED)
        self.assertTrue(b.replayed)
        after = self.stubs.attendance.GetAttendance(
            at.GetAttendanceRequest(event=self.event.name), metadata=self.door).checkpoints[0]
        self.assertEqual(after.checked_in, before.checked_in + 1)

    def test_door_token_sees_no_contact_fields(self):
        rs = v1["registration_service_pb2"]
        done = self.register("Contact Hidden", "hidden@example.org")
        seen = self.stubs.registrations.GetRegistration(
            rs.GetRegistrationRequest(name=done.registration.name), metadata=self.door)
        self.assertEqual(seen.display_name, "Contact Hidden")
        self.assertEqual(seen.email, "")

    def test_ticket_code_shows_what_the_door_shows_and_the_manage_secret_the_rest(self):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        done = self.register("Self Service", "self@example.org")
        other = self.register("Someone Else", "else@example.org")
        self.assertRegex(done.manage_secret, r"^tnm_[A-Z2-7]{32}$")
        name = done.registration.name
        # The code, shown openly at the door, opens what the door shows and changes nothing.
        by_code = self.stubs.registrations.GetRegistration(
            rs.GetRegistrationRequest(name=name, ticket_code=done.ticket.code))
        self.assertEqual(by_code.display_name, "Self Service")
        self.assertEqual(by_code.email, "")
        with self.assertRaises(grpc.RpcError) as e:
            self.stubs.registrations.CancelRegistration(
                rs.CancelRegistrationRequest(name=name, ticket_code=done.ticket.code))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("manage_secret", e.exception.details())
        # Another registration's secret opens nothing.
        with self.assertRaises(grpc.RpcError) as e:
            self.stubs.registrations.GetRegistration(
                rs.GetRegistrationRequest(name=name, manage_secret=other.manage_secret))
        self.assertEqual(e.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        # The secret reads the contact fields and cancels.
        own = self.stubs.registrations.GetRegistration(
            rs.GetRegistrationRequest(name=name, manage_secret=done.manage_secret))
        self.assertEqual(own.email, "self@example.org")
        canceled = self.stubs.registrations.CancelRegistration(
            rs.CancelRegistrationRequest(name=name, manage_secret=done.manage_secret))
        self.assertEqual(canceled.status, res.Registration.CANCELED)
        after = self.stubs.registrations.GetRegistration(
            rs.GetRegistrationRequest(name=name, ticket_code=done.ticket.code))
        self.assertEqual(after.status, res.Registration.CANCELED)
        self.assertEqual(after.display_name, "")

    def test_turnoutctl_prints_the_secret_once_and_the_attendee_uses_it(self):
        out = SERVER.ctl("register", self.event.name, "--name=Rosa Díaz", "--email=rosa@example.org",
                         "--language=es").stdout
        reg = re.search(r"^registration:\s+(\S+)", out, re.M).group(1)
        secret = re.search(r"^manage secret:\s+(tnm_\S+)", out, re.M).group(1)
        self.assertIn("shown once", out)
        # An organizer issues a new one (an import, a walk-in, a lost confirmation); the old one
        # then stops working.
        fresh = SERVER.ctl("manage-secret", reg).stdout.strip()
        self.assertRegex(fresh, r"^tnm_[A-Z2-7]{32}$")
        anonymous = "--token_file="
        stale = SERVER.ctl("cancel", reg, "--manage_secret=" + secret, anonymous, check=False)
        self.assertEqual(stale.returncode, 1, stale.stdout + stale.stderr)
        self.assertIn("PERMISSION_DENIED", stale.stderr)
        done = SERVER.ctl("cancel", reg, "--manage_secret=" + fresh, anonymous).stdout
        self.assertIn("CANCELED", done)

    def test_errors_are_precise(self):
        cs = v1["checkin_service_pb2"]
        with self.assertRaises(grpc.RpcError) as e:
            self.stubs.checkin.Scan(cs.ScanRequest(event=self.event.name, code="X",
                                                   client_scan_id="a"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as e:
            self.stubs.checkin.Scan(cs.ScanRequest(event="events/abc", code="X", client_scan_id="a"),
                                    metadata=self.door)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("event", e.exception.details())
        garbage = self.scan("NOT-A-TICKET")
        self.assertEqual(v1["resources_pb2"].ScanResult.Status.Name(garbage.status), "INVALID")

    def test_health_and_reflection_answer(self):
        check = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        self.assertEqual(check(b""), b"\x08\x01")  # status: SERVING
        reflect = self.channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        replies = b"".join(reflect(iter([b"\x3a\x00"])))  # list_services: ""
        for service in (b"turnout.v1.EventService", b"turnout.v1.CheckinService",
                        b"turnout.v1.AdminService"):
            self.assertIn(service, replies)


class DoorProtocolTest(EventTestCase):
    """The offline door protocol read by a client that is not ours: Python's hashlib derives the
    keys as docs/door-protocol.md says, PyNaCl (libsodium's Python binding) opens the entry."""

    def entry_keys(self, code):
        import hashlib
        c = base64.b32decode(code + "=" * (-len(code) % 8))
        master = hashlib.blake2b(c, digest_size=32, key=b"turnout-door-v1").digest()

        def kdf(size, subkey_id, context):
            return hashlib.blake2b(b"", digest_size=size, key=master,
                                   salt=subkey_id.to_bytes(8, "little") + bytes(8),
                                   person=context + bytes(8)).digest()
        return kdf(16, 1, b"TNLOOKUP"), kdf(32, 2, b"TNSEALKY")

    def open_entry(self, bundle, code):
        from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
        from nacl.exceptions import CryptoError
        lookup, seal = self.entry_keys(code)
        for e in bundle.entries:
            if e.lookup_key != lookup:
                continue
            try:
                padded = crypto_aead_xchacha20poly1305_ietf_decrypt(
                    e.sealed_entry[24:], lookup, e.sealed_entry[:24], seal)
            except CryptoError:
                return None
            length = int.from_bytes(padded[:2], "big")
            entry = v1["checkin_service_pb2"].OfflineEntry()
            entry.ParseFromString(padded[2:2 + length])
            return entry
        return None

    def bundle(self, since=0):
        cs = v1["checkin_service_pb2"]
        return self.stubs.checkin.GetOfflineBundle(
            cs.GetOfflineBundleRequest(event=self.event.name, since_version=since),
            metadata=self.door)

    def test_a_code_opens_its_own_entry_and_nothing_else(self):
        res = v1["resources_pb2"]
        mine = self.register("Xóchitl Hernández")
        other = self.register("Tomás Guerrero")
        bundle = self.bundle()
        entry = self.open_entry(bundle, mine.ticket.code)
        self.assertIsNotNone(entry)
        self.assertEqual(entry.display_name, "Xóchitl Hernández")
        self.assertEqual(entry.registration, mine.registration.name)
        self.assertEqual(list(entry.attention_flags), [res.ATTENTION_FLAG_SPANISH_INTERPRETATION])
        self.assertEqual(self.open_entry(bundle, other.ticket.code).display_name, "Tomás Guerrero")
        raw = bundle.SerializeToString()
        for name in ("Xóchitl", "Hernández", "Tomás", "Guerrero"):
            self.assertNotIn(name.encode(), raw)
        sizes = {len(e.sealed_entry) for e in bundle.entries}
        self.assertEqual(len(sizes), 1, "every entry has one size")

    def test_uploads_settle_by_scan_time_and_counts_show_the_conflict(self):
        adm, cs, res = v1["admin_service_pb2"], v1["checkin_service_pb2"], v1["resources_pb2"]
        code = self.register("Offline Twice").ticket.code
        second_door = harness.bearer(self.stubs.admin.CreateDeviceToken(
            adm.CreateDeviceTokenRequest(role=adm.ROLE_DOOR, event=self.event.name,
                                         label="e2e second door"), metadata=self.admin).secret)
        now = datetime.datetime.now(datetime.timezone.utc)
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")

        def upload(door, minutes_ago, scan_id):
            return self.stubs.checkin.UploadScans(cs.UploadScansRequest(
                event=self.event.name, scans=[cs.OfflineScan(
                    scan=cs.ScanRequest(code=code, client_scan_id=scan_id, language="es",
                                        scan_time=ts(iso(now - datetime.timedelta(minutes=minutes_ago)))),
                    device_status=res.ScanResult.ADMITTED)]), metadata=door).results[0]

        later = upload(self.door, 5, "e2e-offline-later")     # arrives first, made later
        earlier = upload(second_door, 9, "e2e-offline-earlier")
        self.assertEqual(res.ScanResult.Status.Name(later.result.status), "ADMITTED")
        self.assertEqual(res.ScanResult.Status.Name(earlier.result.status), "ADMITTED")
        again = upload(self.door, 5, "e2e-offline-later")
        self.assertTrue(again.result.replayed)
        self.assertEqual(res.ScanResult.Status.Name(again.result.status), "ALREADY_CHECKED_IN")
        out = SERVER.ctl("counts", self.event.name).stdout
        self.assertRegex(out, r"\b1 offline scans were overruled")


class ImportLimitsTest(EventTestCase):
    """Strangers cannot make the server buffer imports; staff imports are capped. The probe that
    found it: 8 anonymous ImportRegistrations streams of 32 MiB each grew the server by 340 MiB."""

    STREAM_BYTES = 32 << 20
    ROW_BYTES = 512 << 10
    STREAMS = 32  # half without a token, half with a DOOR token
    # What the server may grow by while 32 hostile streams push 1 GiB at it.
    BOUND_MIB = 64

    def rss_mib(self):
        with open("/proc/%d/status" % SERVER.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        raise AssertionError("no VmRSS")

    def rows(self, parent, count, release=None):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        for i in range(count):
            yield rs.ImportRegistrationsRequest(
                parent=parent if i == 0 else "", line=i + 1, request_id="row-%d" % i,
                registration=res.Registration(display_name="Row %d" % i,
                                              email="x" * self.ROW_BYTES if release is None else ""))
            if release is not None and i == 0:
                release.wait(30)

    def test_strangers_cannot_make_the_server_buffer_imports(self):
        import threading
        code = self.register("Door regular").ticket.code
        before = self.rss_mib()
        outcomes = []
        scans = []

        def hostile(metadata):
            try:
                self.stubs.registrations.ImportRegistrations(
                    self.rows(self.event.name, self.STREAM_BYTES // self.ROW_BYTES),
                    metadata=metadata, timeout=60)
                outcomes.append("OK")
            except grpc.RpcError as e:
                outcomes.append(e.code().name)

        def door():
            for _ in range(20):
                scans.append(self.scan(code).status)

        threads = [threading.Thread(target=hostile, args=(None if i % 2 else self.door,))
                   for i in range(self.STREAMS)]
        threads.append(threading.Thread(target=door))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        grown = self.rss_mib() - before
        print("%d hostile import streams of 32 MiB: server grew by %.1f MiB (bound %d MiB)" %
              (self.STREAMS, grown, self.BOUND_MIB), file=sys.stderr)
        self.assertEqual(sorted(set(outcomes)), ["PERMISSION_DENIED", "UNAUTHENTICATED"])
        self.assertEqual(len(outcomes), self.STREAMS)
        self.assertLess(grown, self.BOUND_MIB)
        self.assertEqual(len(scans), 20, "scans went on meanwhile")
        self.assertEqual(scans[0], v1["resources_pb2"].ScanResult.ADMITTED)

    def organizer(self):
        adm = v1["admin_service_pb2"]
        return harness.bearer(self.stubs.admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_ORGANIZER, event=self.event.name, label="e2e organizer"),
            metadata=self.admin).secret)

    def test_an_endless_import_stream_ends_with_the_limit_named_and_nothing_imported(self):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        count = lambda: self.stubs.registrations.ListRegistrations(
            rs.ListRegistrationsRequest(parent=self.event.name), metadata=self.admin).total_size
        before = count()

        def endless():
            i = 0
            while i < 100000:  # far past the limit; the server ends the call long before
                yield rs.ImportRegistrationsRequest(
                    parent=self.event.name if i == 0 else "", line=i + 1,
                    request_id="endless-%d" % i, registration=res.Registration(display_name="R"))
                i += 1

        with self.assertRaises(grpc.RpcError) as cut:
            self.stubs.registrations.ImportRegistrations(endless(), metadata=self.organizer(),
                                                         timeout=120)
        self.assertEqual(cut.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("at most 20000 rows and 32 MiB", cut.exception.details())
        self.assertIn("nothing was imported", cut.exception.details())
        self.assertEqual(count(), before)

    def test_one_import_per_token_at_a_time(self):
        import threading
        organizer = self.organizer()
        release = threading.Event()
        first = self.stubs.registrations.ImportRegistrations.future(
            self.rows(self.event.name, 2, release), metadata=organizer, timeout=60)
        time.sleep(1)  # the first stream is admitted and waits on its second row
        with self.assertRaises(grpc.RpcError) as second:
            self.stubs.registrations.ImportRegistrations(
                self.rows(self.event.name, 2, threading.Event()), metadata=organizer, timeout=10)
        self.assertEqual(second.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("retry in 10 s", second.exception.details())
        self.assertEqual(dict(second.exception.trailing_metadata())["retry-after"], "10")
        release.set()
        self.assertEqual(first.result().imported, 2)


class TlsTest(unittest.TestCase):
    """With a certificate configured the server speaks TLS only."""

    def test_tls_when_a_certificate_is_configured(self):
        certs = tempfile.mkdtemp(prefix="turnout-tls-")
        cert, key = os.path.join(certs, "cert.pem"), os.path.join(certs, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        server = harness.Server(BUILD_DIR, ["--tls_cert=" + cert, "--tls_key=" + key])
        try:
            server.start()
            with open(cert, "rb") as f:
                creds = grpc.ssl_channel_credentials(root_certificates=f.read())
            secure = grpc.secure_channel(server.target, creds)
            check = secure.unary_unary("/grpc.health.v1.Health/Check",
                                       request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
            self.assertEqual(check(b"", timeout=10), b"\x08\x01")
            plain = server.channel().unary_unary("/grpc.health.v1.Health/Check",
                                                 request_serializer=lambda b: b,
                                                 response_deserializer=lambda b: b)
            with self.assertRaises(grpc.RpcError):
                plain(b"", timeout=5)
            listed = server.ctl("--tls", "--tls_ca_file=" + cert, "events", "list")
            self.assertEqual(listed.returncode, 0)
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()
            shutil.rmtree(certs, ignore_errors=True)


class SecretsTest(unittest.TestCase):
    def test_secret_files_are_readable_by_the_server_user_only(self):
        for path in ("admin.token", "secrets/data.key"):
            mode = os.stat(os.path.join(SERVER.data_dir, path)).st_mode & 0o777
            self.assertEqual(mode, 0o600, path)


class ShutdownTest(unittest.TestCase):
    """Runs last (unittest sorts classes by name): SIGTERM stops the server and its database."""

    def test_zz_sigterm_stops_cleanly(self):
        pid_file = os.path.join(SERVER.data_dir, "pg", "postmaster.pid")
        self.assertTrue(os.path.exists(pid_file))
        code = SERVER.stop()
        self.assertEqual(code, 0)
        self.assertFalse(os.path.exists(pid_file), "PostgreSQL still running after shutdown")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
