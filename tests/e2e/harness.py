"""End-to-end harness: runs the built turnout-server on an embedded PostgreSQL in a temporary
directory and talks to it with Python grpcio stubs generated from proto/ (a client that is not ours).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generate_stubs(out_dir):
    """Generates the Python modules for proto/turnout/v1 into out_dir and puts it on sys.path."""
    os.makedirs(out_dir, exist_ok=True)
    protos = sorted(
        os.path.join("turnout/v1", f)
        for f in os.listdir(os.path.join(ROOT, "proto/turnout/v1"))
        if f.endswith(".proto"))
    # Debian's protoc and gRPC plugin (protobuf-compiler, protobuf-compiler-grpc): the protoc that
    # python3-grpc-tools bundles (3.5) predates proto3 `optional` fields.
    subprocess.run(["protoc", "-I", os.path.join(ROOT, "proto"),
                    "--plugin=protoc-gen-grpc_python=" + shutil.which("grpc_python_plugin"),
                    "--python_out", out_dir, "--grpc_python_out", out_dir, *protos],
                   check=True)
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)


class Server:
    """A turnout-server process with its own data directory (and so its own PostgreSQL)."""

    def __init__(self, build_dir, extra_args=()):
        self.build_dir = build_dir
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="turnout-e2e-")
        os.chmod(self.tmp, 0o755)  # the embedded PostgreSQL runs as an unprivileged user
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.proc = None
        self.port = None
        self.metrics_port = None  # with --metrics_listen

    def start(self, timeout=120, port=0):
        """Starts the server on `port` (0: any free one); after stop(), start(port=self.port)
        restarts it where its clients expect it, on the same data."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.build_dir, "server/turnout-server"), "--listen=127.0.0.1:%d" % port,
             "--data_dir=" + self.data_dir, "--durable=false",
             # The demo's trainings are in 2015: the automatic purge would erase them at a restart.
             "--retention_days=0", *self.extra_args],
            stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.time() + timeout
        line = b""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
            m = re.match(rb"metrics on port (\d+)", line)
            if m:
                self.metrics_port = int(m.group(1))
            m = re.match(rb"listening on port (\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
        raise RuntimeError("turnout-server did not start:\n" + open(self.log_path).read())

    @property
    def target(self):
        return "127.0.0.1:%d" % self.port

    @property
    def admin_token(self):
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            return f.read().strip()

    def channel(self):
        return grpc.insecure_channel(self.target)

    def stop(self, timeout=30):
        """SIGTERM, as an operator would; returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.proc.stdout.close()
            self.log.close()
            self.proc = None

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl(self, *args, token=None, check=True, tz=None):
        """Runs turnoutctl against this server; returns CompletedProcess (text). `tz` sets the
        machine's time zone ($TZ) the tool runs in."""
        cmd = [os.path.join(self.build_dir, "tools/turnoutctl"), "--server=" + self.target,
               "--token_file=" + os.path.join(self.data_dir, "admin.token")]
        env = dict(os.environ)
        env.pop("TURNOUT_TOKEN", None)
        if tz:
            env["TZ"] = tz
        if token:
            env["TURNOUT_TOKEN"] = token
        result = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env,
                                timeout=120)
        if check and result.returncode != 0:
            raise AssertionError("turnoutctl %s failed (%d):\n%s%s" % (
                " ".join(args), result.returncode, result.stdout, result.stderr))
        return result


def free_port():
    """A TCP port nothing listens on right now, for a process that must come back on the same one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bearer(token):
    return [("authorization", "Bearer " + token)]


class Stubs:
    """A stub per Turnout service on `channel`; `v1` maps module names to the generated modules
    (generate_stubs)."""

    def __init__(self, channel, v1):
        self.events = v1["event_service_pb2_grpc"].EventServiceStub(channel)
        self.registrations = v1["registration_service_pb2_grpc"].RegistrationServiceStub(channel)
        self.checkin = v1["checkin_service_pb2_grpc"].CheckinServiceStub(channel)
        self.attendance = v1["attendance_service_pb2_grpc"].AttendanceServiceStub(channel)
        self.admin = v1["admin_service_pb2_grpc"].AdminServiceStub(channel)
