"""Generic gRPC tools against the built turnout-server, through server reflection only: buf curl
(a client that is not ours, with no .proto files) lists every service the server serves and every
method of each, then calls grpc.health.v1.Health and a Turnout method with JSON.

The services the server must list come from the .proto files it is built from: proto/turnout/v1,
and Debian's grpc-proto for grpc.health.v1 (compiled into the server, proto/CMakeLists.txt) and
grpc.reflection.v1alpha (the reflection service gRPC C++ serves).

Run: python3 tests/e2e/reflection_test.py --build-dir build --buf /usr/local/bin/buf
"""
import argparse
import json
import os
import re
import subprocess
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
BUF = None
SERVER = None
GRPC_PROTO = "/usr/share/grpc-proto/grpc"


def declared_methods(paths):
    """{"package.Service/Method", ...} declared in the .proto files at `paths`."""
    methods = set()
    for path in paths:
        package, service = None, None
        with open(path) as f:
            for line in f:
                line = line.split("//")[0]
                m = re.match(r"\s*package\s+([\w.]+)\s*;", line)
                if m:
                    package = m.group(1)
                m = re.match(r"\s*service\s+(\w+)", line)
                if m:
                    service = m.group(1)
                m = re.match(r"\s*rpc\s+(\w+)\s*\(", line)
                if m:
                    methods.add("%s.%s/%s" % (package, service, m.group(1)))
    return methods


def expected_methods():
    turnout = os.path.join(harness.ROOT, "proto/turnout/v1")
    paths = [os.path.join(turnout, f) for f in sorted(os.listdir(turnout)) if f.endswith(".proto")]
    paths += [os.path.join(GRPC_PROTO, "health/v1/health.proto"),
              os.path.join(GRPC_PROTO, "reflection/v1alpha/reflection.proto")]
    return declared_methods(paths)


def buf_curl(*args, token=None, data=None, check=True):
    cmd = [BUF, "curl", "--protocol=grpc", "--http2-prior-knowledge", "--timeout=60s"]
    if token:
        cmd.append("--header=authorization: Bearer " + token)
    if data is not None:
        cmd.append("--data=" + json.dumps(data))
    result = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError("buf curl %s failed (%d):\n%s%s" % (
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def setUpModule():
    global SERVER
    SERVER = harness.Server(BUILD_DIR).start()


def tearDownModule():
    if SERVER is not None:
        SERVER.stop()
        SERVER.cleanup()


class ReflectionTest(unittest.TestCase):
    def url(self, method=""):
        return "http://%s/%s" % (SERVER.target, method)

    def test_lists_every_served_service(self):
        listed = set(buf_curl("--list-services", self.url()).stdout.split())
        expected = {m.split("/")[0] for m in expected_methods()}
        self.assertEqual(listed, expected)
        self.assertIn("grpc.health.v1.Health", listed)

    def test_lists_and_describes_every_method(self):
        # --list-methods resolves each listed service's descriptor through reflection: the call
        # that failed with "failed to find service named grpc.health.v1.Health in schema".
        listed = set(buf_curl("--list-methods", self.url()).stdout.split())
        self.assertEqual(listed, expected_methods())

    def test_health_check_and_watch_through_reflection(self):
        check = buf_curl(self.url("grpc.health.v1.Health/Check"), data={})
        self.assertEqual(json.loads(check.stdout), {"status": "SERVING"})
        # Watch streams until the client stops: the first message is the current status.
        watch = subprocess.run(
            [BUF, "curl", "--protocol=grpc", "--http2-prior-knowledge", "--timeout=3s",
             "--data={}", self.url("grpc.health.v1.Health/Watch")],
            capture_output=True, text=True, timeout=60)
        self.assertIn('"status": "SERVING"', watch.stdout, watch.stderr)

    def test_turnout_methods_take_and_give_json(self):
        event = {"title": "Reflection check", "timeZone": "America/Los_Angeles",
                 "startTime": "2030-10-15T15:00:00Z", "endTime": "2030-10-16T01:00:00Z"}
        created = json.loads(buf_curl(
            self.url("turnout.v1.EventService/CreateEvent"), token=SERVER.admin_token,
            data={"event": event, "requestId": str(uuid.uuid4())}).stdout)
        self.assertRegex(created["name"], r"^events/\d+$")
        got = json.loads(buf_curl(self.url("turnout.v1.EventService/GetEvent"),
                                  token=SERVER.admin_token, data={"name": created["name"]}).stdout)
        self.assertEqual(got["title"], "Reflection check")
        self.assertEqual(got["startTime"], "2030-10-15T15:00:00Z")

    def test_errors_reach_the_generic_client(self):
        bad = buf_curl(self.url("turnout.v1.RegistrationService/Register"),
                       data={"parent": "nope", "requestId": str(uuid.uuid4())}, check=False)
        self.assertNotEqual(bad.returncode, 0)
        error = json.loads(bad.stderr)
        self.assertEqual(error["code"], "invalid_argument")
        self.assertIn("parent: must be a resource name", error["message"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--buf", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    BUF = args.buf
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
