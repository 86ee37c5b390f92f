"""Faults under door load, with the real turnout-server binary and its embedded PostgreSQL:

  - kill -9 of turnout-server, then a restart on the same data and port;
  - kill -9 of the PostgreSQL postmaster (the server's supervisor restarts it, the pool reconnects);
  - SIGTERM of turnout-server (it drains the calls it holds), then a restart.

Load: several door devices, each with a DOOR token of its own, scanning distinct tickets with a
client_scan_id each and retrying a failed call with the same client_scan_id, as a door does. After
recovery every door has been answered for every ticket, and then: each acknowledged scan is stored
exactly once (one row per ticket in `scans`, read with psql), nothing is stored that was not
acknowledged, and the entrance counts equal the acknowledged admissions.

Each test prints its figures (docs/benchmarks.md, "Recovery"). Timings are printed, not asserted;
what is asserted is correctness, health while the database is down, and that the pool's
connection attempts during an outage stay a handful (docs/design.md, "Recovery").

Run: python3 tests/e2e/fault_test.py --build-dir build
"""
import argparse
import datetime
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
v1 = {}

# CI size: enough doors and tickets that faults land in the middle of scanning.
DOORS = 16
TICKETS_PER_DOOR = 30
# Health: grpc.health.v1 HealthCheckResponse.status, read from raw bytes (tag 1, varint).
SERVING, NOT_SERVING = 1, 2
# The pool makes one attempt at a time with backoff (25 ms doubling to 300 ms): an outage of a few
# seconds costs a few dozen attempts at most, where one attempt per queued call cost hundreds.
MAX_OUTAGE_ATTEMPTS = 40


def ts(d):
    from google.protobuf.timestamp_pb2 import Timestamp
    t = Timestamp()
    t.FromDatetime(d)
    return t


def health_request(service):
    data = service.encode()
    return (b"\x0a" + bytes([len(data)]) + data) if data else b""


def health_status(reply):
    return reply[1] if len(reply) >= 2 and reply[0] == 0x08 else 0


class Door(threading.Thread):
    """One door device: scans its tickets in order, retrying each until the server answers."""

    def __init__(self, test, index, token, tickets):
        super().__init__(daemon=True)
        self.test, self.index, self.token, self.tickets = test, index, token, tickets
        self.acks = {}  # registration name -> (status, time answered, time the answered call was sent)
        self.retries = 0
        self.cancelled = 0
        self.last_error = ""

    def run(self):
        with self.test.door_channel() as channel:  # a device of its own, as at a real door
            self.scan_all(v1["checkin_service_pb2_grpc"].CheckinServiceStub(channel))

    def scan_all(self, stub):
        cs = v1["checkin_service_pb2"]
        for number, (registration, code) in enumerate(self.tickets):
            scan_id = "door%d-scan%d-%s" % (self.index, number, uuid.uuid4().hex[:8])
            deadline = time.time() + 120
            while time.time() < deadline and not self.test.abandon.is_set():
                sent = time.time()
                try:
                    r = stub.Scan(cs.ScanRequest(event=self.test.event.name, code=code,
                                                 client_scan_id=scan_id),
                                  metadata=self.token, timeout=5)
                    self.acks[registration] = (r.status, time.time(), sent)
                    break
                except grpc.RpcError as e:
                    # What a door retries: the server or its database is away, or the answer was
                    # lost. gRPC cancels the calls that reach a server as it shuts down (they
                    # race its GOAWAY); they are counted and retried like a lost answer. Anything
                    # else is a bug the test must show.
                    if e.code() == grpc.StatusCode.CANCELLED:
                        self.cancelled += 1
                    elif e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                          grpc.StatusCode.DEADLINE_EXCEEDED):
                        self.last_error = "%s %s" % (e.code(), e.details())
                        return
                    self.retries += 1
                    self.last_error = "%s %s" % (e.code(), e.details())
                    time.sleep(random.uniform(0.02, 0.08))


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.generate_stubs(os.path.join(BUILD_DIR, "tests/e2e/gen"))
        from turnout.v1 import (admin_service_pb2, admin_service_pb2_grpc, attendance_service_pb2,
                                attendance_service_pb2_grpc, checkin_service_pb2,
                                checkin_service_pb2_grpc, event_service_pb2, event_service_pb2_grpc,
                                registration_service_pb2, registration_service_pb2_grpc,
                                resources_pb2)
        v1.update(locals())

    def setUp(self):
        # Durable: a kill -9 of the postmaster must not lose an acknowledged commit.
        self.server = harness.Server(BUILD_DIR, extra_args=["--durable=true"])
        self.server.start()
        self.channel = self.door_channel()
        self.abandon = threading.Event()
        self.admin = harness.bearer(self.server.admin_token)
        self.make_event()

    def door_channel(self):
        """Reconnecting as a door does (client-lib's ClientOptions): at most 1 s apart, so the
        figures measure the server, not gRPC's default backoff of up to two minutes."""
        return grpc.insecure_channel(self.server.target, options=[
            ("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000)])

    def tearDown(self):
        self.abandon.set()
        self.channel.close()
        self.server.cleanup()

    # --- set-up -------------------------------------------------------------------------------

    def make_event(self):
        ev, res, adm = v1["event_service_pb2"], v1["resources_pb2"], v1["admin_service_pb2"]
        rs = v1["registration_service_pb2"]
        events = v1["event_service_pb2_grpc"].EventServiceStub(self.channel)
        admin = v1["admin_service_pb2_grpc"].AdminServiceStub(self.channel)
        regs = v1["registration_service_pb2_grpc"].RegistrationServiceStub(self.channel)
        now = datetime.datetime.utcnow()
        self.event = events.CreateEvent(ev.CreateEventRequest(event=res.Event(
            title="Fault drill", time_zone="America/Los_Angeles", start_time=ts(now),
            end_time=ts(now + datetime.timedelta(hours=8)),
            doors_open_time=ts(now - datetime.timedelta(hours=1)), state=res.Event.PUBLISHED),
            request_id=uuid.uuid4().hex), metadata=self.admin, timeout=30)
        self.door_tokens = [harness.bearer(admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_DOOR, event=self.event.name, label="door %d" % i),
            metadata=self.admin, timeout=30).secret) for i in range(DOORS)]
        tickets = []
        for i in range(DOORS * TICKETS_PER_DOOR):
            done = regs.Register(rs.RegisterRequest(
                parent=self.event.name, request_id=uuid.uuid4().hex,
                registration=res.Registration(display_name="Drill %d" % i)),
                metadata=self.admin, timeout=30)
            tickets.append((done.registration.name, done.ticket.code))
        self.tickets = tickets

    def start_doors(self):
        self.doors = [Door(self, i, self.door_tokens[i],
                           self.tickets[i * TICKETS_PER_DOOR:(i + 1) * TICKETS_PER_DOOR])
                      for i in range(DOORS)]
        for d in self.doors:
            d.start()

    def acknowledged(self):
        return sum(len(d.acks) for d in self.doors)

    def await_acks(self, count, timeout=60):
        deadline = time.time() + timeout
        while self.acknowledged() < count and time.time() < deadline:
            time.sleep(0.01)

    def finish_doors(self, timeout=180):
        for d in self.doors:
            d.join(timeout)
        unanswered = [(d.index, d.last_error) for d in self.doors
                      if len(d.acks) != len(d.tickets)]
        self.assertEqual(unanswered, [], "doors with tickets never answered (door, last error)")

    # --- what is checked after every fault ----------------------------------------------------

    def psql(self, sql):
        user = "turnout" if os.geteuid() == 0 else None
        cmd = ["psql", "-h", os.path.join(self.server.data_dir, "run"), "-p", "5432", "-d",
               "turnout", "-At", "-F", "\t", "-c", sql]
        if user:
            cmd[1:1] = ["-U", user]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout

    def check_exactly_once(self):
        """Returns (acknowledged, lost, doubled) after asserting there is nothing lost or doubled."""
        res = v1["resources_pb2"]
        acks = {}
        for d in self.doors:
            acks.update(d.acks)
        event_id = int(self.event.name.split("/")[1])
        rows = {}
        for line in self.psql("SELECT registration_id, count(*), min(status), max(status) "
                              "FROM scans WHERE event_id = %d GROUP BY registration_id"
                              % event_id).splitlines():
            reg, n, lo, hi = (int(x) for x in line.split("\t"))
            rows["%s/registrations/%d" % (self.event.name, reg)] = (n, lo, hi)
        lost = [r for r in acks if r not in rows]
        doubled = [r for r, (n, _, _) in rows.items() if n != 1]
        unacknowledged = [r for r in rows if r not in acks]
        self.assertEqual(lost, [], "acknowledged scans missing from the scans table")
        self.assertEqual(doubled, [], "tickets whose scan is stored more than once")
        self.assertEqual(unacknowledged, [], "stored scans no door was answered for")
        # Each ticket is scanned once: every answer is ADMITTED, and the stored status agrees.
        wrong = {r: s for r, (s, _, _) in acks.items() if s != res.ScanResult.ADMITTED}
        self.assertEqual(wrong, {}, "answers other than ADMITTED")
        self.assertTrue(all(lo == hi == res.ScanResult.ADMITTED for _, lo, hi in rows.values()))
        at = v1["attendance_service_pb2"]
        attendance = v1["attendance_service_pb2_grpc"].AttendanceServiceStub(self.channel)
        entrance = attendance.GetAttendance(at.GetAttendanceRequest(event=self.event.name),
                                            metadata=self.admin, timeout=30).checkpoints[0]
        self.assertEqual(entrance.checked_in, len(acks))
        self.assertEqual(entrance.inside, len(acks))
        return len(acks), len(lost), len(doubled)

    def first_admitted_after(self, t0):
        """When the first scan sent after t0 was answered, in ms after t0."""
        times = [answered for d in self.doors for (_, answered, sent) in d.acks.values()
                 if sent >= t0]
        return (min(times) - t0) * 1000 if times else float("nan")

    def retries(self):
        return "%d door retries (%d after CANCELLED)" % (sum(d.retries for d in self.doors),
                                                         sum(d.cancelled for d in self.doors))

    # --- the faults ---------------------------------------------------------------------------

    def test_kill_9_of_the_server_under_load(self):
        self.start_doors()
        self.await_acks(len(self.tickets) // 3)
        port = self.server.port
        t0 = time.time()
        self.server.proc.kill()
        self.server.proc.wait()
        self.server.proc.stdout.close()
        self.server.log.close()
        self.server.proc = None
        self.server.start(port=port)
        started = (time.time() - t0) * 1000
        self.finish_doors()
        acked, lost, doubled = self.check_exactly_once()
        print("fault kill -9 turnout-server: %d doors, %d scans acknowledged, lost %d, doubled %d; "
              "serving again %.0f ms after the kill, first scan admitted at %.0f ms; %s"
              % (DOORS, acked, lost, doubled, started, self.first_admitted_after(t0),
                 self.retries()), flush=True)

    def test_kill_9_of_the_postmaster_under_load(self):
        health = self.channel.unary_unary("/grpc.health.v1.Health/Check",
                                          request_serializer=lambda b: b,
                                          response_deserializer=lambda b: b)
        self.assertEqual(health_status(health(health_request(""), timeout=5)), SERVING)
        self.assertEqual(health_status(health(health_request("turnout.v1.CheckinService"),
                                              timeout=5)), SERVING)
        # Health as a load balancer watches it: every change is streamed.
        watched = {"": [], "turnout.v1.CheckinService": []}

        def watch(service):
            stream = self.channel.unary_stream("/grpc.health.v1.Health/Watch",
                                               request_serializer=lambda b: b,
                                               response_deserializer=lambda b: b)
            try:
                for reply in stream(health_request(service), timeout=120):
                    watched[service].append(health_status(reply))
            except grpc.RpcError:
                pass
        for service in watched:
            threading.Thread(target=watch, args=(service,), daemon=True).start()

        self.start_doors()
        self.await_acks(len(self.tickets) // 3)
        run_dir = os.path.join(self.server.data_dir, "run")
        with open(os.path.join(self.server.data_dir, "pg", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        t0 = time.time()
        os.kill(postmaster, signal.SIGKILL)
        # Ready: the restarted postgres accepts connections (pg_isready, every 10 ms).
        time.sleep(0.01)
        ready = None
        while time.time() < t0 + 60:
            if subprocess.run(["pg_isready", "-q", "-h", run_dir, "-p", "5432"]).returncode == 0:
                ready = (time.time() - t0) * 1000
                break
            time.sleep(0.01)
        self.assertIsNotNone(ready, "PostgreSQL never came back")
        self.finish_doors()
        acked, lost, doubled = self.check_exactly_once()
        admitted = self.first_admitted_after(t0)

        # The pool's own account of the outage (pg.cc logs one line per outage).
        with open(self.server.log_path) as f:
            outages = re.findall(r"PostgreSQL reachable again after (\d+) ms: (\d+) connection "
                                 r"attempts, (\d+) refused", f.read())
        self.assertGreaterEqual(len(outages), 1, "the server never reported the outage")
        attempts = sum(int(a) for _, a, _ in outages)
        refused = sum(int(r) for _, _, r in outages)
        print("fault kill -9 postmaster: %d doors retrying; postmaster killed -> ready in %.0f ms, "
              "first scan admitted in %.0f ms, %d connection attempts (%d refused) in %d "
              "outage(s); %d scans acknowledged, lost %d, doubled %d; %s"
              % (DOORS, ready, admitted, attempts, refused, len(outages), acked, lost, doubled,
                 self.retries()), flush=True)
        self.assertLessEqual(attempts, MAX_OUTAGE_ATTEMPTS,
                             "the pool stormed the restarting database")

        # Health went NOT_SERVING while the database was down, and is SERVING again.
        for service, statuses in watched.items():
            self.assertIn(NOT_SERVING, statuses, "health of %r never said NOT_SERVING" % service)
            self.assertEqual(statuses[-1], SERVING, "health of %r: %s" % (service, statuses))
            self.assertLess(statuses.index(NOT_SERVING), len(statuses) - 1)
        self.assertEqual(health_status(health(health_request(""), timeout=5)), SERVING)

    def test_sigterm_under_load_drains_then_restarts(self):
        self.start_doors()
        self.await_acks(len(self.tickets) // 3)
        port = self.server.port
        t0 = time.time()
        code = self.server.stop(timeout=60)
        stopped = (time.time() - t0) * 1000
        self.assertEqual(code, 0, "turnout-server did not exit cleanly on SIGTERM")
        self.server.start(port=port)
        self.finish_doors()
        acked, lost, doubled = self.check_exactly_once()
        print("fault SIGTERM turnout-server: %d doors, %d scans acknowledged, lost %d, doubled %d; "
              "drained and exited in %.0f ms, first scan admitted again at %.0f ms; %s"
              % (DOORS, acked, lost, doubled, stopped, self.first_admitted_after(t0),
                 self.retries()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
