"""Replicas behind a real load balancer: deploy/replicas.sh starts one PostgreSQL, three
turnout-server replicas and nginx (grpc_pass). A door scans through nginx while a dashboard watches
through nginx, and the replica serving the watcher (named in its stream's turnout-replica header)
is killed with SIGKILL midway: no acknowledged scan is lost or counted twice, and the watcher
resumes on another replica and misses nothing.

Run: python3 tests/e2e/replicas_test.py --build-dir build
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
v1 = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReplicasTest(unittest.TestCase):
    killed = None  # the replica test_a_replica_dies_midway_and_nothing_is_lost killed
    @classmethod
    def setUpClass(cls):
        harness.generate_stubs(os.path.join(BUILD_DIR, "tests/e2e/gen"))
        from turnout.v1 import (admin_service_pb2, admin_service_pb2_grpc, attendance_service_pb2,
                                attendance_service_pb2_grpc, checkin_service_pb2,
                                checkin_service_pb2_grpc, event_service_pb2, event_service_pb2_grpc,
                                registration_service_pb2, registration_service_pb2_grpc,
                                resources_pb2)
        v1.update(locals())
        cls.tmp = tempfile.mkdtemp(prefix="turnout-replicas-")
        os.chmod(cls.tmp, 0o755)
        cls.state = os.path.join(cls.tmp, "state")
        cls.listen = "127.0.0.1:%d" % free_port()
        base = free_port()
        env = dict(os.environ, TURNOUT_BIN_DIR=BUILD_DIR, TURNOUT_STATE_DIR=cls.state,
                   TURNOUT_LISTEN=cls.listen, TURNOUT_REPLICA_BASE_PORT=str(base))
        cls.proc = subprocess.Popen(["bash", os.path.join(harness.ROOT, "deploy/replicas.sh")],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, start_new_session=True)
        deadline = time.time() + 120
        cls.output = []
        while time.time() < deadline:
            line = cls.proc.stdout.readline()
            if not line:
                break
            cls.output.append(line)
            if line.startswith("replicas ready"):
                break
        if not cls.output or not cls.output[-1].startswith("replicas ready"):
            cls.stop_all()
            raise RuntimeError("deploy/replicas.sh did not start:\n" + "".join(cls.output))
        threading.Thread(target=lambda: [None for _ in cls.proc.stdout], daemon=True).start()
        with open(os.path.join(cls.state, "data", "admin.token")) as f:
            cls.admin = harness.bearer(f.read().strip())
        cls.channel = grpc.insecure_channel(cls.listen)

    @classmethod
    def stop_all(cls):
        if cls.proc.poll() is None:
            os.killpg(cls.proc.pid, signal.SIGTERM)
            try:
                cls.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(cls.proc.pid, signal.SIGKILL)
                cls.proc.wait()

    @classmethod
    def tearDownClass(cls):
        cls.stop_all()
        subprocess.run(["rm", "-rf", cls.tmp])

    def pid_of(self, name):
        with open(os.path.join(self.state, "pids", name)) as f:
            return int(f.read().strip())

    def test_a_replica_dies_midway_and_nothing_is_lost(self):
        import datetime
        from google.protobuf.timestamp_pb2 import Timestamp
        ev, adm, rs = v1["event_service_pb2"], v1["admin_service_pb2"], v1["registration_service_pb2"]
        cs, at, res = v1["checkin_service_pb2"], v1["attendance_service_pb2"], v1["resources_pb2"]
        events = v1["event_service_pb2_grpc"].EventServiceStub(self.channel)
        admin = v1["admin_service_pb2_grpc"].AdminServiceStub(self.channel)
        regs = v1["registration_service_pb2_grpc"].RegistrationServiceStub(self.channel)
        checkin = v1["checkin_service_pb2_grpc"].CheckinServiceStub(self.channel)
        attendance = v1["attendance_service_pb2_grpc"].AttendanceServiceStub(self.channel)

        def ts(d):
            t = Timestamp()
            t.FromDatetime(d)
            return t
        now = datetime.datetime.utcnow()
        event = events.CreateEvent(ev.CreateEventRequest(event=res.Event(
            title="Replicas", time_zone="America/Los_Angeles", start_time=ts(now),
            end_time=ts(now + datetime.timedelta(hours=8)),
            doors_open_time=ts(now - datetime.timedelta(hours=1)), state=res.Event.PUBLISHED),
            request_id=uuid.uuid4().hex), metadata=self.admin, timeout=30)
        door = harness.bearer(admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_DOOR, event=event.name, label="door"), metadata=self.admin).secret)
        dashboard = harness.bearer(admin.CreateDeviceToken(adm.CreateDeviceTokenRequest(
            role=adm.ROLE_DASHBOARD, event=event.name, label="screen"), metadata=self.admin).secret)
        codes = [regs.Register(rs.RegisterRequest(
            parent=event.name, request_id=uuid.uuid4().hex,
            registration=res.Registration(display_name="Person %d" % i)),
            metadata=self.admin, timeout=30).ticket.code for i in range(40)]

        # The watcher: through nginx, reconnecting (through nginx again) whenever its stream ends,
        # noting which replica serves each stream and what each stream showed.
        seen = {"checked_in": -1, "streams": []}  # streams: [replica, last checked_in]
        first_stream = threading.Event()
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                try:
                    call = attendance.WatchAttendance(
                        at.WatchAttendanceRequest(event=event.name), metadata=dashboard,
                        timeout=120)
                    replica = dict(call.initial_metadata()).get("turnout-replica", "")
                    stream = [replica, -1]
                    seen["streams"].append(stream)
                    first_stream.set()
                    for update in call:
                        stream[1] = update.attendance.checkpoints[0].checked_in
                        seen["checked_in"] = stream[1]
                        if stop.is_set():
                            return
                except grpc.RpcError:
                    time.sleep(0.2)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        self.assertTrue(first_stream.wait(30), "the watcher's stream opened")
        watched = seen["streams"][0][0]
        self.assertRegex(watched, r"^replica[123]$", "the stream names its replica")

        acknowledged = {}
        last_error = [""]

        def scan(i):
            scan_id = "replicas-%d" % i
            for attempt in range(50):
                try:
                    r = checkin.Scan(cs.ScanRequest(event=event.name, code=codes[i],
                                                    client_scan_id=scan_id), metadata=door,
                                     timeout=5)
                    acknowledged[scan_id] = r.status
                    return
                except grpc.RpcError as e:
                    if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                        grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL,
                                        grpc.StatusCode.UNKNOWN):
                        raise
                    last_error[0] = "%s %s" % (e.code(), e.details())
                    time.sleep(0.1)
            self.fail("scan %s never acknowledged; last error: %s" % (scan_id, last_error[0]))

        for i in range(20):
            scan(i)
        killed = seen["streams"][-1][0]  # the replica the watcher is on now
        ReplicasTest.killed = killed
        os.kill(self.pid_of(killed), signal.SIGKILL)
        for i in range(20, 40):
            scan(i)

        self.assertEqual(len(acknowledged), 40)
        self.assertTrue(all(s == res.ScanResult.ADMITTED for s in acknowledged.values()))
        counts = attendance.GetAttendance(at.GetAttendanceRequest(event=event.name),
                                          metadata=self.admin, timeout=10).checkpoints[0]
        self.assertEqual(counts.checked_in, 40)
        self.assertEqual(counts.inside, 40)
        # Every acknowledged scan is stored once: sent again, it is a replay and counts nothing.
        for i in range(40):
            r = checkin.Scan(cs.ScanRequest(event=event.name, code=codes[i],
                                            client_scan_id="replicas-%d" % i), metadata=door,
                             timeout=10)
            self.assertTrue(r.replayed)
        counts = attendance.GetAttendance(at.GetAttendanceRequest(event=event.name),
                                          metadata=self.admin, timeout=10).checkpoints[0]
        self.assertEqual(counts.checked_in, 40)

        deadline = time.time() + 10
        while time.time() < deadline and seen["checked_in"] != 40:
            time.sleep(0.1)
        stop.set()
        print("killed %s; watcher streams (replica, last checked in): %s" %
              (killed, seen["streams"]), file=sys.stderr)
        self.assertEqual(seen["checked_in"], 40, "the watcher caught up on a live replica")
        after = [s for s in seen["streams"] if s[1] == 40]
        self.assertTrue(after, "a stream showed all 40")
        self.assertNotEqual(after[-1][0], killed, "the stream that showed all 40 is on another "
                            "replica than the one killed")
        self.assertGreaterEqual(len(seen["streams"]), 2, "the watcher's stream ended with its "
                                "replica and it opened another")

    def test_zz_ctrl_c_stops_everything(self):
        names = ["postgres", "replica1", "replica2", "replica3", "nginx"]
        names = [n for n in names if n != ReplicasTest.killed]
        pids = [self.pid_of(n) for n in names]
        self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends to the script
        self.proc.wait(timeout=60)
        time.sleep(0.5)
        for name, pid in zip(names, pids):
            alive = os.path.exists("/proc/%d" % pid) and \
                open("/proc/%d/stat" % pid).read().split()[2] != "Z"
            self.assertFalse(alive, "%s (pid %d) still runs" % (name, pid))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
