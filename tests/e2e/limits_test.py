"""End-to-end tests of the server's limits and its observability (README: Limits, Metrics): the
metrics endpoint scraped over HTTP, anonymous callers held to their per-address budget, messages
over 1 MiB, thousands of sockets opened and never written on, bytes that are not UTF-8 in metadata
(sent with a raw HTTP/2 client, since gRPC clients refuse to), and a log that names no one.

Run: python3 tests/e2e/limits_test.py --build-dir build
"""
import argparse
import datetime
import os
import re
import resource
import socket
import struct
import sys
import threading
import time
import unittest
import urllib.request
import uuid

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
SERVER = None
v1 = {}

# Small budgets so that a test can spend them; the handshake timeout short enough to wait out.
ANONYMOUS_BURST = 8
HANDSHAKE_TIMEOUT_S = 4


def setUpModule():
    harness.generate_stubs(os.path.join(BUILD_DIR, "tests/e2e/gen"))
    from turnout.v1 import (admin_service_pb2, admin_service_pb2_grpc, attendance_service_pb2,
                            attendance_service_pb2_grpc, checkin_service_pb2,
                            checkin_service_pb2_grpc, event_service_pb2, event_service_pb2_grpc,
                            registration_service_pb2, registration_service_pb2_grpc, resources_pb2)
    v1.update(locals())
    global SERVER
    SERVER = harness.Server(BUILD_DIR, [
        "--metrics_listen=127.0.0.1:0", "--anonymous_rate=0.2",
        "--anonymous_burst=%d" % ANONYMOUS_BURST,
        "--handshake_timeout=%ds" % HANDSHAKE_TIMEOUT_S]).start()


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


def ts(when):
    from google.protobuf.timestamp_pb2 import Timestamp
    t = Timestamp()
    t.FromDatetime(when)
    return t


def scrape():
    """The metrics endpoint's samples: {(name, frozenset of (label, value)): value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % SERVER.metrics_port,
                                timeout=10) as r:
        text = r.read().decode()
        content_type = r.headers["Content-Type"]
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        assert m, "not a text-format sample: %r" % line
        labels = frozenset(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples, text, content_type


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


class LimitsTestCase(unittest.TestCase):
    """An event of its own, open now, with a DOOR token."""

    @classmethod
    def setUpClass(cls):
        cls.channel = SERVER.channel()
        cls.stubs = harness.Stubs(cls.channel, v1)
        cls.admin = harness.bearer(SERVER.admin_token)
        ev, res = v1["event_service_pb2"], v1["resources_pb2"]
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        cls.event = cls.stubs.events.CreateEvent(ev.CreateEventRequest(
            event=res.Event(title="Limits", venue="Hall", time_zone="UTC", start_time=ts(now),
                            end_time=ts(now + datetime.timedelta(hours=8)),
                            doors_open_time=ts(now - datetime.timedelta(hours=1)),
                            state=res.Event.PUBLISHED),
            request_id="limits-" + uuid.uuid4().hex), metadata=cls.admin)
        adm = v1["admin_service_pb2"]
        cls.door_secret = cls.stubs.admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_DOOR, event=cls.event.name, label="limits door"),
            metadata=cls.admin).secret
        cls.door = harness.bearer(cls.door_secret)

    def register(self, name, email, request_id=None):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        return self.stubs.registrations.Register(rs.RegisterRequest(
            parent=self.event.name, request_id=request_id or uuid.uuid4().hex,
            registration=res.Registration(display_name=name, email=email)), metadata=self.admin)

    def scan(self, code, scan_id=None):
        cs = v1["checkin_service_pb2"]
        return self.stubs.checkin.Scan(cs.ScanRequest(
            event=self.event.name, code=code, client_scan_id=scan_id or uuid.uuid4().hex),
            metadata=self.door, timeout=10)

    def registration_count(self):
        rs = v1["registration_service_pb2"]
        return self.stubs.registrations.ListRegistrations(
            rs.ListRegistrationsRequest(parent=self.event.name), metadata=self.admin).total_size


# People the scenario registers: none of these may appear in a log line or a metric.
PEOPLE = [("Zbigniew Quellmatz", "zbigniew.quellmatz@example.org"),
          ("Ximena Ortuzar-Lindqvist", "ximena.ol@example.org"),
          ("Yolotli Brandvold", "yolotli.b@example.org")]


class MetricsTest(LimitsTestCase):
    """Each counter moves by exactly what the calls did; nothing personal is a label."""

    def test_counters_move_by_exactly_the_calls_made(self):
        cs, res = v1["checkin_service_pb2"], v1["resources_pb2"]
        before, _, _ = scrape()
        request_id = uuid.uuid4().hex
        codes = [self.register(n, e, request_id if i == 0 else None).ticket.code
                 for i, (n, e) in enumerate(PEOPLE)]
        self.register(*PEOPLE[0], request_id=request_id)  # the same request: counted as existing
        first = uuid.uuid4().hex
        self.assertEqual(self.scan(codes[0], first).status, res.ScanResult.ADMITTED)
        self.assertEqual(self.scan(codes[0]).status, res.ScanResult.ALREADY_CHECKED_IN)
        self.assertTrue(self.scan(codes[0], first).replayed)
        now = datetime.datetime.now(datetime.timezone.utc)

        def offline(code, seconds_ago, scan_time=True):
            scan = cs.ScanRequest(code=code, client_scan_id=uuid.uuid4().hex)
            if scan_time:
                scan.scan_time.CopyFrom(ts(now - datetime.timedelta(seconds=seconds_ago)))
            return cs.OfflineScan(scan=scan, device_status=res.ScanResult.ADMITTED)

        upload = self.stubs.checkin.UploadScans(cs.UploadScansRequest(
            event=self.event.name, scans=[offline(codes[1], 60), offline(codes[2], 60),
                                          offline(codes[2], 30), offline(codes[2], 0, False)]),
            metadata=self.door)
        self.assertEqual([r.result.status for r in upload.results[:3]],
                         [res.ScanResult.ADMITTED, res.ScanResult.ADMITTED,
                          res.ScanResult.ALREADY_CHECKED_IN])
        self.assertNotEqual(upload.results[3].error_code, 0)

        after, text, content_type = scrape()
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)

        def moved(name, **labels):
            return sample(after, name, **labels) - sample(before, name, **labels)

        entrance = dict(checkpoint_kind="entrance")
        self.assertEqual(moved("turnout_scans_total", source="online", status="ADMITTED", **entrance), 1)
        self.assertEqual(moved("turnout_scans_total", source="online", status="ALREADY_CHECKED_IN",
                               **entrance), 1)
        self.assertEqual(moved("turnout_scans_total", source="offline", status="ADMITTED", **entrance), 2)
        self.assertEqual(moved("turnout_scans_total", source="offline", status="ALREADY_CHECKED_IN",
                               **entrance), 1)
        self.assertEqual(moved("turnout_scan_replays_total", source="online"), 1)
        self.assertEqual(moved("turnout_uploads_total"), 1)
        self.assertEqual(moved("turnout_uploaded_scans_total", outcome="agreed"), 2)
        self.assertEqual(moved("turnout_uploaded_scans_total", outcome="overruled"), 1)
        self.assertEqual(moved("turnout_uploaded_scans_total", outcome="refused"), 1)
        self.assertEqual(moved("turnout_registrations_total", source="online", outcome="created"), 3)
        self.assertEqual(moved("turnout_registrations_total", source="online", outcome="existing"), 1)
        self.assertEqual(moved("turnout_rpcs_total", method="Scan", code="OK"), 3)
        self.assertEqual(moved("turnout_rpcs_total", method="Register", code="OK"), 4)
        self.assertEqual(moved("turnout_rpc_duration_seconds_count", method="Scan"), 3)
        self.assertEqual(moved("turnout_rpc_duration_seconds_count", method="Register"), 4)
        self.assertEqual(moved("turnout_rpc_duration_seconds_bucket", method="Scan", le="+Inf"), 3)
        # One at a time, each online scan (the replay too) was a batch of one.
        self.assertEqual(moved("turnout_scan_batch_size_count"), 3)
        self.assertEqual(moved("turnout_scan_batch_size_sum"), 3)
        self.assertEqual(moved("turnout_scan_batch_size_bucket", le="1"), 3)
        self.assertGreaterEqual(moved("turnout_db_pool_wait_seconds_count"), 3 + 4 + 1)
        for name, email in PEOPLE:
            self.assertNotIn(name.split()[1], text)
            self.assertNotIn(email, text)
        for code in codes:
            self.assertNotIn(code, text)
        self.assertNotIn(self.door_secret, text)
        self.assertNotIn(self.event.name, text)

    def test_watch_subscribers_gauge_follows_the_streams(self):
        att = v1["attendance_service_pb2"]
        baseline = sample(scrape()[0], "turnout_watch_subscribers")
        stream = self.stubs.attendance.WatchAttendance(
            att.WatchAttendanceRequest(event=self.event.name), metadata=self.door, timeout=30)
        next(stream)  # the snapshot: subscribed
        self.assertEqual(sample(scrape()[0], "turnout_watch_subscribers"), baseline + 1)
        self.assertEqual(sample(scrape()[0], "turnout_live_streams"), baseline + 1)
        stream.cancel()
        deadline = time.time() + 10
        while time.time() < deadline and sample(scrape()[0], "turnout_watch_subscribers") != baseline:
            time.sleep(0.1)
        self.assertEqual(sample(scrape()[0], "turnout_watch_subscribers"), baseline)


class AnonymousRateTest(LimitsTestCase):
    """Calls without a token spend a per-address budget; a token is not held to it."""

    def test_anonymous_calls_past_the_burst_get_resource_exhausted_with_a_retry_hint(self):
        ev = v1["event_service_pb2"]
        before = sample(scrape()[0], "turnout_limit_rejections_total", limit="public_rate")
        refused = None
        answered = 0
        for _ in range(ANONYMOUS_BURST + 1):
            try:
                self.stubs.events.GetEvent(ev.GetEventRequest(name=self.event.name),
                                           metadata=[("x-request-id", "limits-test-anon")])
                answered += 1
            except grpc.RpcError as e:
                refused = e
                break
        self.assertIsNotNone(refused, "no refusal after %d anonymous calls" % answered)
        self.assertLessEqual(answered, ANONYMOUS_BURST)
        self.assertEqual(refused.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertRegex(refused.details(), r"too many calls without a token from this address; "
                                            r"retry in \d+ s")
        trailers = dict(refused.trailing_metadata())
        retry_after = int(trailers["retry-after"])
        self.assertGreaterEqual(retry_after, 1)
        self.assertLessEqual(retry_after, 5)  # one call at 0.2 per second
        self.assertEqual(trailers["x-request-id"], "limits-test-anon")
        # The same address with a token is not held to the anonymous budget.
        self.assertEqual(self.stubs.events.GetEvent(ev.GetEventRequest(name=self.event.name),
                                                    metadata=self.admin).name, self.event.name)
        self.assertEqual(
            sample(scrape()[0], "turnout_limit_rejections_total", limit="public_rate") - before, 1)
        # The refusal is one log line with the request id the caller sent.
        with open(SERVER.log_path, errors="replace") as f:
            lines = [l for l in f if "request_id=limits-test-anon " in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("method=GetEvent code=RESOURCE_EXHAUSTED", lines[0])

    def test_streams_without_a_token_are_refused_before_any_work(self):
        att, rs = v1["attendance_service_pb2"], v1["registration_service_pb2"]
        with self.assertRaises(grpc.RpcError) as watch:
            next(self.stubs.attendance.WatchAttendance(
                att.WatchAttendanceRequest(event=self.event.name), timeout=10))
        self.assertEqual(watch.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as export:
            next(self.stubs.attendance.ExportAttendance(
                att.ExportAttendanceRequest(event=self.event.name), timeout=10))
        self.assertEqual(export.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with self.assertRaises(grpc.RpcError) as imp:
            self.stubs.registrations.ImportRegistrations(
                iter([rs.ImportRegistrationsRequest(parent=self.event.name)]), timeout=10)
        self.assertEqual(imp.exception.code(), grpc.StatusCode.UNAUTHENTICATED)


class OversizedTest(LimitsTestCase):
    """A message past 1 MiB, alone or in a stream, is refused whole and stores nothing."""

    def test_a_message_over_one_mib_is_refused(self):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        before = self.registration_count()
        big = res.Registration(display_name="Big", email="x" * (2 << 20))
        with self.assertRaises(grpc.RpcError) as unary:
            self.stubs.registrations.Register(rs.RegisterRequest(
                parent=self.event.name, request_id=uuid.uuid4().hex, registration=big),
                metadata=self.admin, timeout=30)
        self.assertEqual(unary.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("larger than max", unary.exception.details())
        def rows(pause):
            for i in range(20):
                yield rs.ImportRegistrationsRequest(
                    parent=self.event.name if i == 0 else "", line=i + 1, request_id="small-%d" % i,
                    registration=res.Registration(display_name="Small"))
            time.sleep(pause)  # with a pause, the small rows are read and buffered first
            yield rs.ImportRegistrationsRequest(line=21, request_id="big", registration=big)

        for pause in (0, 0.5):
            with self.assertRaises(grpc.RpcError) as stream:
                self.stubs.registrations.ImportRegistrations(rows(pause), metadata=self.admin,
                                                             timeout=30)
            self.assertEqual(stream.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            # The server may still be finishing the broken stream: give it the time to.
            time.sleep(1)
            self.assertEqual(self.registration_count(), before, "pause %s" % pause)


class SlowConnectionsTest(LimitsTestCase):
    """Sockets opened and never written on: the doors keep scanning, and the server closes them
    after its handshake timeout."""

    SOCKETS = 2000

    def server_fds(self):
        return len(os.listdir("/proc/%d/fd" % SERVER.proc.pid))

    def test_thousands_of_silent_connections(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < self.SOCKETS + 512:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, self.SOCKETS + 1024), hard))
        code = self.register("Door regular", "").ticket.code
        self.scan(code)  # the door's channel is connected before the flood
        baseline = self.server_fds()
        silent = []
        try:
            for _ in range(self.SOCKETS):
                s = socket.create_connection(("127.0.0.1", SERVER.port), timeout=10)
                silent.append(s)
            opened = time.time()
            peak = self.server_fds()
            while peak < baseline + self.SOCKETS and time.time() < opened + 1:
                time.sleep(0.05)  # the server accepts them as it gets to them
                peak = max(peak, self.server_fds())
            self.assertGreater(peak, baseline + self.SOCKETS // 2, "the sockets were accepted")
            # Meanwhile a door scans, on its connection and on a new one.
            res = v1["resources_pb2"]
            for _ in range(10):
                self.assertEqual(self.scan(code).status, res.ScanResult.ALREADY_CHECKED_IN)
            with SERVER.channel() as fresh:
                cs = v1["checkin_service_pb2"]
                result = harness.Stubs(fresh, v1).checkin.Scan(cs.ScanRequest(
                    event=self.event.name, code=code, client_scan_id=uuid.uuid4().hex),
                    metadata=self.door, timeout=10)
                self.assertEqual(result.status, res.ScanResult.ALREADY_CHECKED_IN)
            scanned_in = time.time() - opened
            # After the handshake timeout every silent socket is closed by the server.
            closed = 0
            deadline = opened + HANDSHAKE_TIMEOUT_S + 20
            for s in silent:
                try:
                    # The server's own SETTINGS frame comes first; then the end of the stream.
                    while True:
                        s.settimeout(max(0.1, deadline - time.time()))
                        if s.recv(4096) == b"":
                            closed += 1
                            break
                except ConnectionResetError:
                    closed += 1
                except socket.timeout:
                    pass
            after = self.server_fds()
            while after >= baseline + 50 and time.time() < deadline + 10:
                time.sleep(0.2)  # the server releases what it closed
                after = self.server_fds()
            print("%d silent sockets: 11 scans in %.2f s meanwhile; server fds %d -> %d -> %d; "
                  "%d closed by the server" % (self.SOCKETS, scanned_in, baseline, peak, after,
                                               closed), file=sys.stderr)
            self.assertEqual(closed, self.SOCKETS)
            self.assertLess(after, baseline + 50)
        finally:
            for s in silent:
                s.close()


def h2_call(path, request_bytes, headers):
    """One gRPC call over a raw HTTP/2 connection with header values as given (bytes), which no
    gRPC client sends. Returns (grpc-status, grpc-message)."""
    import h2.config
    import h2.connection
    import h2.events
    config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                       validate_outbound_headers=False,
                                       normalize_outbound_headers=False,
                                       validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=config)
    with socket.create_connection(("127.0.0.1", SERVER.port), timeout=10) as sock:
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, [
            (b":method", b"POST"), (b":scheme", b"http"), (b":path", path.encode()),
            (b":authority", b"127.0.0.1"), (b"content-type", b"application/grpc"),
            (b"te", b"trailers")] + headers)
        conn.send_data(stream, b"\x00" + struct.pack(">I", len(request_bytes)) + request_bytes,
                       end_stream=True)
        sock.sendall(conn.data_to_send())
        fields = {}
        while True:
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    fields.update({k.decode(): v.decode() for k, v in event.headers})
                if isinstance(event, h2.events.StreamReset):
                    return ("RST_STREAM", str(event.error_code))
                if isinstance(event, h2.events.StreamEnded):
                    sock.sendall(conn.data_to_send())
                    import urllib.parse
                    return (int(fields.get("grpc-status", -1)),
                            urllib.parse.unquote(fields.get("grpc-message", "")))
            sock.sendall(conn.data_to_send())
    raise AssertionError("the connection closed without a status")


class InvalidMetadataTest(LimitsTestCase):
    """Bytes that are not UTF-8 in the authorization or x-request-id metadata: a precise status,
    and nothing stored."""

    def register_request(self, name):
        rs, res = v1["registration_service_pb2"], v1["resources_pb2"]
        return rs.RegisterRequest(parent=self.event.name, request_id=uuid.uuid4().hex,
                                  registration=res.Registration(display_name=name)).SerializeToString()

    def test_authorization_that_is_not_utf8(self):
        before = self.registration_count()
        for token in (b"Bearer tnt_\xff\xfe\xfd", b"Bearer tnt_\xc3\x28abc", b"\x80Bearer"):
            status, message = h2_call("/turnout.v1.RegistrationService/Register",
                                      self.register_request("Bad Token Person"),
                                      [(b"authorization", token)])
            self.assertEqual(status, 16, message)  # UNAUTHENTICATED
            self.assertIn("authorization metadata must be", message)
        self.assertEqual(self.registration_count(), before)

    def test_request_id_that_is_not_utf8(self):
        before = self.registration_count()
        admin = SERVER.admin_token.encode()
        for request_id in (b"\xff\xfe", b"req-\xc3\x28", b"x" * 65):
            status, message = h2_call("/turnout.v1.RegistrationService/Register",
                                      self.register_request("Bad Id Person"),
                                      [(b"authorization", b"Bearer " + admin),
                                       (b"x-request-id", request_id)])
            self.assertEqual(status, 3, message)  # INVALID_ARGUMENT
            self.assertIn("x-request-id", message)
        status, message = h2_call("/turnout.v1.RegistrationService/Register",
                                  self.register_request("Good Id Person"),
                                  [(b"authorization", b"Bearer " + admin),
                                   (b"x-request-id", b"good-request-1")])
        self.assertEqual(status, 0, message)
        self.assertEqual(self.registration_count(), before + 1)


class ZzLogTest(unittest.TestCase):
    """Runs after the others (unittest sorts classes by name): the log they produced names no one
    and holds one event per line."""

    def test_log_has_no_personal_data(self):
        with open(SERVER.log_path, "rb") as f:
            log = f.read()
        for name, email in PEOPLE:
            for part in name.split():
                self.assertNotIn(part.encode(), log)
            self.assertNotIn(email.encode(), log)
        self.assertNotIn(SERVER.admin_token.encode(), log)
        request_lines = [l for l in log.decode(errors="replace").splitlines()
                         if "request_id=" in l]
        self.assertTrue(request_lines, "the scenarios logged at least their refusals")
        for line in request_lines:
            self.assertRegex(line, r"^turnout-server: request_id=\S+ method=\w+ code=[A-Z_]+ "
                                   r"ms=\d+ message=\".*\"$")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
