"""End-to-end test of the big screen: the built turnout-server and turnout-dash, the page driven
in a real browser (Debian's headless Chromium through Selenium), scans sent by a Python grpcio
client, and `turnoutctl watch` in a pseudo-terminal.

Run: python3 tests/e2e/dash_test.py --build-dir build [--screenshot docs/dashboard.png]
"""
import argparse
import datetime
import os
import pty
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

BUILD_DIR = None
SCREENSHOT = None
v1 = {}


def ts(dt):
    from google.protobuf.timestamp_pb2 import Timestamp
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def chromium(tmp):
    """Headless Chromium as CI runs it: as root (so no sandbox), offline, with a fresh profile."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1920,1080", "--lang=en-US",
                "--user-data-dir=" + os.path.join(tmp, "chromium-profile")):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                            options=options)


class Dash:
    """A turnout-dash process on a fixed port, so that it can be restarted where the page is."""

    def __init__(self, server, token_file, event, port):
        self.args = [os.path.join(BUILD_DIR, "tools/turnout-dash"), "--server=" + server.target,
                     "--token_file=" + token_file, "--event=" + event,
                     "--listen=127.0.0.1:%d" % port, "--sample_every=2s"]
        self.log_path = os.path.join(server.tmp, "dash.log")
        self.url = "http://127.0.0.1:%d/" % port
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline()
        if not line.startswith(b"listening on port"):
            raise RuntimeError("turnout-dash did not start:\n" + open(self.log_path).read())

    def stop(self):
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()
        self.proc = None
        return code

    def healthz(self):
        try:
            with urllib.request.urlopen(self.url + "healthz", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class BigScreenTest(unittest.TestCase):
    """One server, one event, one turnout-dash, one browser; the tests run in name order."""

    @classmethod
    def setUpClass(cls):
        harness.generate_stubs(os.path.join(BUILD_DIR, "tests/e2e/gen"))
        from turnout.v1 import (admin_service_pb2, admin_service_pb2_grpc, checkin_service_pb2,
                                checkin_service_pb2_grpc, event_service_pb2,
                                event_service_pb2_grpc, registration_service_pb2,
                                registration_service_pb2_grpc, resources_pb2)
        v1.update(locals())
        cls.tmp = tempfile.mkdtemp(prefix="turnout-dash-e2e-")
        cls.server = harness.Server(BUILD_DIR).start()
        cls.browser = None
        cls.dash = None
        try:
            cls.set_up_event()
            cls.dash = Dash(cls.server, cls.dash_token_file, cls.event, harness.free_port())
            cls.dash.start()
            cls.browser = chromium(cls.tmp)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.browser is not None:
            cls.browser.quit()
        if cls.dash is not None and cls.dash.proc is not None:
            cls.dash.stop()
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def connect(cls):
        channel = cls.server.channel()
        cls.events = v1["event_service_pb2_grpc"].EventServiceStub(channel)
        cls.registrations = v1["registration_service_pb2_grpc"].RegistrationServiceStub(channel)
        cls.checkin = v1["checkin_service_pb2_grpc"].CheckinServiceStub(channel)
        cls.admin_stub = v1["admin_service_pb2_grpc"].AdminServiceStub(channel)

    @classmethod
    def set_up_event(cls):
        """An event open now with a capacity, two breakouts (10 and 2 seats), and DASHBOARD and
        DOOR tokens for it."""
        ev, res, adm = v1["event_service_pb2"], v1["resources_pb2"], v1["admin_service_pb2"]
        cls.connect()
        admin = harness.bearer(cls.server.admin_token)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        event = cls.events.CreateEvent(ev.CreateEventRequest(
            event=res.Event(title="Oakland regional training", venue="Hall",
                            time_zone="America/Los_Angeles", capacity=300,
                            start_time=ts(now), end_time=ts(now + datetime.timedelta(hours=8)),
                            doors_open_time=ts(now - datetime.timedelta(hours=1)),
                            state=res.Event.PUBLISHED),
            request_id="dash-" + uuid.uuid4().hex), metadata=admin)
        cls.event = event.name
        cls.rooms = {}
        for title, capacity in (("Workers' rights", 10), ("Legislative advocacy", 2)):
            session = cls.events.CreateSession(ev.CreateSessionRequest(
                parent=cls.event, request_id=uuid.uuid4().hex,
                session=res.Session(title=title, kind=res.Session.BREAKOUT, round=1,
                                    room="Room", capacity=capacity, start_time=ts(now),
                                    end_time=ts(now + datetime.timedelta(hours=2)))),
                metadata=admin)
            cls.rooms[title] = session.checkpoint

        def token(role, label):
            return cls.admin_stub.CreateDeviceToken(adm.CreateDeviceTokenRequest(
                role=role, event=cls.event, label=label), metadata=admin).secret
        cls.door = harness.bearer(token(adm.ROLE_DOOR, "door 1"))
        cls.dash_token_file = os.path.join(cls.tmp, "dash.token")
        with open(cls.dash_token_file, "w") as f:
            f.write(token(adm.ROLE_DASHBOARD, "big screen") + "\n")
        cls.names = ["Ana Prueba %d" % i for i in range(7)]
        cls.codes = []
        rs = v1["registration_service_pb2"]
        for name in cls.names:
            done = cls.registrations.Register(rs.RegisterRequest(
                parent=cls.event, request_id=uuid.uuid4().hex,
                registration=res.Registration(display_name=name)))
            cls.codes.append(done.ticket.code)

    def scan(self, code):
        cs = v1["checkin_service_pb2"]
        result = self.checkin.Scan(cs.ScanRequest(event=self.event, code=code,
                                                  client_scan_id=uuid.uuid4().hex),
                                   metadata=self.door)
        self.assertEqual(v1["resources_pb2"].ScanResult.Status.Name(result.status), "ADMITTED")

    def walk_into(self, room_title, name):
        cs, res = v1["checkin_service_pb2"], v1["resources_pb2"]
        self.checkin.CheckInWalkIn(cs.CheckInWalkInRequest(
            event=self.event, checkpoint=self.rooms[room_title],
            registration=res.Registration(display_name=name), client_scan_id=uuid.uuid4().hex),
            metadata=self.door)

    def text(self, element_id):
        return self.browser.find_element(By.ID, element_id).text

    def wait_for(self, what, condition, timeout):
        WebDriverWait(self.browser, timeout, poll_frequency=0.05).until(
            lambda _: condition(), message=what)

    def open(self, query=""):
        self.browser.get(self.dash.url + query)
        self.wait_for("the page goes live", lambda: self.text("status") in ("Live", "En vivo"),
                      15)
        self.wait_for("counts shown", lambda: self.text("checked-in").isdigit(), 5)

    def room(self, title):
        """The room's row as drawn now: {"class", "count", "text"}. Read in one script, since the
        page redraws its rooms on every board."""
        rooms = self.browser.execute_script("""
            return [...document.querySelectorAll('#rooms .room')].map(li => ({
              name: li.querySelector('.name').textContent, class: li.className,
              count: li.querySelector('.count').textContent, text: li.innerText}));""")
        for room in rooms:
            if room["name"] == title:
                return room
        raise AssertionError("no room %r on the page: %r" % (title, rooms))

    def test_1_a_scan_shows_on_the_page_within_two_seconds(self):
        self.open()
        self.assertEqual(self.text("registered"), "of 7 registered")
        before = int(self.text("checked-in"))
        inside_before = int(self.text("inside"))
        self.scan(self.codes[0])
        scanned = time.monotonic()
        self.wait_for("checked in goes up", lambda: self.text("checked-in") == str(before + 1), 2)
        self.assertLess(time.monotonic() - scanned, 2.0)
        self.assertEqual(self.text("inside"), str(inside_before + 1))
        self.assertEqual(self.text("capacity"), "of 300 capacity")
        status, body = self.dash.healthz()
        self.assertEqual(status, 200, body)
        self.assertTrue(body.startswith("live"), body)

    def test_2_rooms_turn_amber_at_ninety_percent_and_red_when_full(self):
        self.open()
        for i in range(9):
            self.walk_into("Workers' rights", "Walk-in W%d" % i)
        for i in range(2):
            self.walk_into("Legislative advocacy", "Walk-in L%d" % i)
        self.wait_for("9 of 10", lambda: self.room("Workers' rights (round 1)")["count"]
                      .startswith("9 / 10"), 5)
        workers = self.room("Workers' rights (round 1)")
        self.assertEqual(workers["class"], "room amber")
        self.assertIn("almost full", workers["text"])
        self.wait_for("2 of 2", lambda: self.room("Legislative advocacy (round 1)")["class"]
                      == "room red", 5)
        self.assertIn("FULL", self.room("Legislative advocacy (round 1)")["text"])
        # A DASHBOARD token sees no names, and the page shows none.
        for name in self.names + ["Walk-in W0"]:
            self.assertNotIn(name, self.browser.page_source)

    def test_3_spanish_labels_with_lang_es(self):
        self.open("?lang=es")
        self.assertEqual(self.browser.find_element(By.TAG_NAME, "html").get_attribute("lang"),
                         "es")
        self.assertEqual(self.text("status"), "En vivo")
        self.assertEqual(self.text("checked-in-label"), "Han llegado")
        self.assertEqual(self.text("inside-label"), "Adentro ahora")
        self.assertEqual(self.text("rooms-label"), "Salas")
        self.assertRegex(self.text("registered"), r"^de \d+ inscritos$")
        self.assertIn("LLENA", self.room("Legislative advocacy (round 1)")["text"])

    def test_5_server_restart_shows_reconnecting_then_catches_up(self):
        self.open()
        before = int(self.text("checked-in"))
        port = self.server.port
        self.assertEqual(self.server.stop(), 0)
        self.wait_for("reconnecting shown", lambda: self.text("status") == "Reconnecting…", 10)
        status, body = self.dash.healthz()
        self.assertEqual(status, 503, body)
        self.assertTrue(body.startswith("reconnecting"), body)
        self.server.start(port=port)
        self.connect()
        self.wait_for("live again", lambda: self.text("status") == "Live", 30)
        self.scan(self.codes[5])
        self.wait_for("counts catch up", lambda: self.text("checked-in") == str(before + 1), 2)
        self.assertEqual(self.dash.healthz()[0], 200)

    def test_6_dash_restart_shows_reconnecting_then_catches_up(self):
        self.open()
        before = int(self.text("checked-in"))
        self.assertEqual(self.dash.stop(), 0)
        self.wait_for("reconnecting shown", lambda: self.text("status") == "Reconnecting…", 10)
        self.scan(self.codes[6])  # while the page cannot hear
        self.dash.start()
        self.wait_for("live again", lambda: self.text("status") == "Live", 15)
        self.wait_for("counts catch up", lambda: self.text("checked-in") == str(before + 1), 5)

    def test_4_screenshot(self):
        """The picture in the README, taken from this run (--screenshot to keep it)."""
        for code in self.codes[1:5]:
            self.scan(code)
            time.sleep(2.1)  # one arrivals sample apart, so the line has a shape
        self.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        self.open()
        self.wait_for("arrivals drawn", lambda: self.browser.find_elements(
            By.CSS_SELECTOR, "#chart polyline"), 10)
        path = SCREENSHOT or os.path.join(BUILD_DIR, "tests/e2e/dashboard.png")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.assertTrue(self.browser.save_screenshot(path))
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


class TurnoutctlWatchTest(unittest.TestCase):
    """`turnoutctl watch` in a pseudo-terminal: redrawn in place, and back after a restart."""

    def test_redraws_in_place_and_reconnects(self):
        server = harness.Server(BUILD_DIR).start()
        proc = None
        try:
            server.ctl("demo")
            master, slave = pty.openpty()
            proc = subprocess.Popen(
                [os.path.join(BUILD_DIR, "tools/turnoutctl"), "--server=" + server.target,
                 "--token_file=" + os.path.join(server.data_dir, "admin.token"),
                 "watch", "events/1"], stdout=slave, stderr=subprocess.STDOUT)
            os.close(slave)
            out = queue.Queue()

            def pump():
                while True:
                    try:
                        data = os.read(master, 4096)
                    except OSError:
                        return
                    if not data:
                        return
                    out.put(data.decode(errors="replace"))
            threading.Thread(target=pump, daemon=True).start()
            seen = [""]

            def wait_for(pattern, timeout):
                deadline = time.time() + timeout
                while time.time() < deadline:
                    try:
                        seen[0] += out.get(timeout=0.2)
                    except queue.Empty:
                        pass
                    if re.search(pattern, seen[0]):
                        return
                self.fail("no %r in turnoutctl watch's output:\n%s" % (pattern, seen[0][-2000:]))

            wait_for(r"events/1  live.*\r?\n\r?\nCHECKPOINT", 20)
            self.assertIn("\x1b[H\x1b[2J", seen[0])  # each frame clears the screen and homes
            port = server.port
            self.assertEqual(server.stop(), 0)
            wait_for(r"events/1  reconnecting…", 15)
            seen[0] = ""
            server.start(port=port)
            wait_for(r"events/1  live", 30)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)
            server.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--screenshot", help="where to save the page's screenshot")
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    SCREENSHOT = args.screenshot and os.path.abspath(args.screenshot)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
