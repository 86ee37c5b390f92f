"""End-to-end tests of turnout-scan, the door volunteer's tool: the built turnout-server, the
practice training of `turnoutctl demo`, and turnout-scan driven through a pseudo-terminal the way
a keyboard-wedge scanner drives it (a code, then Enter), and through pipes with --json.

turnout-scan links the DoorEngine implementation (client-lib/door_engine.h), so this test runs
once that is in the tree; tests/CMakeLists.txt adds it then. Run by hand:
    python3 tests/e2e/scan_e2e_test.py --build-dir build
"""
import argparse
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BUILD_DIR = None
SERVER = None
DOOR = {}  # practice event, token file, breakout, attendees' codes

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def field(output, key):
    m = re.search(r"^%s:\s+(\S+)" % re.escape(key), output, re.M)
    if not m:
        raise AssertionError("no %s in:\n%s" % (key, output))
    return m.group(1)


def register(name, *flags):
    out = SERVER.ctl("register", DOOR["event"], "--name=" + name, *flags).stdout
    return field(out, "registration"), field(out, "ticket")


def setUpModule():
    global SERVER
    # A fixed port, so that the server can be stopped and started again under the tool's feet.
    SERVER = harness.Server(BUILD_DIR, ["--listen=127.0.0.1:%d" % free_port()]).start()
    demo = SERVER.ctl("demo").stdout
    DOOR["event"] = re.search(r"^(events/\d+)\tDoor practice", demo, re.M).group(1)
    sessions = SERVER.ctl("sessions", "list", DOOR["event"]).stdout
    DOOR["breakout"] = re.search(r"^(events/\d+/sessions/\d+)\s.*Room A", sessions, re.M).group(1)
    secret = SERVER.ctl("tokens", "create", "--role=door", "--event=" + DOOR["event"]).stdout
    DOOR["token_file"] = os.path.join(SERVER.tmp, "door.token")
    with open(DOOR["token_file"], "w") as f:
        f.write(secret)
    # Everyone is registered before any door opens, so that every ticket is in the offline bundle.
    for who, flags in (("Ana Practice", ["--flags=spanish_interpretation",
                                         "--sessions=" + DOOR["breakout"]]),
                       ("Ben Practice", []), ("Carla Practice", []), ("Dana Practice", []),
                       ("Eve Practice", ["--flags=dietary"]), ("Fay Practice", []),
                       ("Gus Practice", []),
                       ("Ines Practice", ["--flags=spanish_interpretation"])):
        DOOR[who.split()[0]] = register(who, *flags)
    DOOR["carla_png"] = os.path.join(SERVER.tmp, "carla.png")
    SERVER.ctl("ticket", DOOR["Carla"][0], "--png=" + DOOR["carla_png"])


def tearDownModule():
    if SERVER is not None:
        SERVER.cleanup()


def scan_command(*extra, state="state"):
    return [os.path.join(BUILD_DIR, "tools/turnout-scan"), "--server=" + SERVER.target,
            "--token_file=" + DOOR["token_file"], "--event=" + DOOR["event"],
            "--state_dir=" + os.path.join(SERVER.tmp, state), *extra]


def environment():
    env = {k: v for k, v in os.environ.items() if k not in ("TURNOUT_TOKEN", "NO_COLOR")}
    env["TERM"] = "xterm-256color"
    return env


class Terminal:
    """turnout-scan on a pseudo-terminal of 100 x 40, as a volunteer's laptop runs it."""

    def __init__(self, args):
        import fcntl
        import struct
        import termios
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave,
                                     env=environment(), start_new_session=True)
        os.close(slave)
        os.set_blocking(self.master, False)
        self.raw = b""  # everything drawn since the last expect()

    def _pump(self, timeout, pending=b""):
        """Reads what the tool drew (and writes `pending`) for up to `timeout`; returns what is
        left to write."""
        want_write = [self.master] if pending else []
        readable, writable, _ = select.select([self.master], want_write, [], timeout)
        if readable:
            try:
                self.raw += os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                pass
        if writable:
            try:
                pending = pending[os.write(self.master, pending[:1024]):]
            except BlockingIOError:
                pass
        return pending

    def type(self, text, enter=b"\r"):
        """Types a line (bytes or str) as a wedge scanner does: the characters, then Enter."""
        data = (text.encode() if isinstance(text, str) else text) + enter
        deadline = time.time() + 30
        while data and time.time() < deadline:
            data = self._pump(0.1, data)
        if data:
            raise AssertionError("the terminal took no more input")

    def expect(self, pattern, timeout=20):
        """Waits until the screen (colours stripped) matches `pattern`; returns the raw bytes drawn
        up to then, and starts afresh after them."""
        deadline = time.time() + timeout
        while True:
            plain = ANSI.sub(b"", self.raw).decode("utf-8", "replace")
            if re.search(pattern, plain):
                raw, self.raw = self.raw, b""
                return raw
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("%r not on screen; it showed:\n%s" % (pattern, plain[-3000:]))
            self._pump(0.2)

    def quit(self):
        self.type("/q")
        code = self.proc.wait(timeout=20)
        os.close(self.master)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ScanTerminalTest(unittest.TestCase):
    def open(self, *extra, state="state"):
        terminal = Terminal(scan_command(*extra, state=state))
        self.addCleanup(terminal.kill)
        terminal.expect(r"scan or type> |escanee o escriba> ")
        return terminal

    def test_a_volunteer_admits_refuses_searches_and_changes_rooms(self):
        t = self.open()
        t.type(DOOR["Ana"][1])
        raw = t.expect(r"Admitted[\s\S]*Ana Practice[\s\S]*Needs a Spanish interpretation headset"
                       r"[\s\S]*Round 1: Practice breakout: Legislative advocacy — Room A")
        self.assertIn(b"\x1b[1;97;42m", raw)  # green
        self.assertNotIn(b"\a", raw)
        t.type(DOOR["Ana"][1])
        raw = t.expect(r"Already checked in · First entry \d\d:\d\d")
        self.assertIn(b"48;5;214m", raw)  # amber
        t.type("NOT-A-TICKET")
        raw = t.expect(r"Not a valid ticket")
        self.assertIn(b"\x1b[1;97;41m", raw)  # red
        self.assertIn(b"\a", raw)  # the bell

        t.type("/x")
        t.expect(r"\[EXIT\]")
        t.type(DOOR["Ana"][1])
        t.expect(r"Exit recorded")
        t.type("/x")
        t.expect(r"\[ENTRY\]")

        t.type("/f Ben")
        t.expect(r"/1  Ben Practice")
        t.type("/1")
        t.expect(r"Admitted[\s\S]*Ben Practice")
        t.type("/u")
        t.expect(r"The last scan was annulled")
        t.type("/w Walk In Person; es; childcare")
        t.expect(r"Admitted[\s\S]*Walk In Person[\s\S]*Needs childcare")

        t.type("/c")
        listed = ANSI.sub(b"", t.expect(r"Type /c N")).decode()
        room = re.search(r"(\d+)  Practice breakout: Legislative advocacy.* — Room A", listed).group(1)
        t.type("/c " + room)
        t.expect(r"Scanning at Practice breakout: Legislative advocacy")
        t.type(DOOR["Ana"][1])
        t.expect(r"Admitted[\s\S]*\] · Practice breakout: Legislative advocacy[^·\n]* · online")
        t.type(DOOR["Dana"][1])
        t.expect(r"Not registered for this session")
        self.assertEqual(t.quit(), 0)

        searched = SERVER.ctl("search", DOOR["event"], "Ben")
        self.assertRegex(searched.stdout, r"confirmed\s+no\s", "the annulled admission is undone")

    def test_bad_input_gets_a_message_and_the_tool_keeps_running(self):
        t = self.open(state="state-bad")
        t.type(b"Q" * 10240)
        m = re.search(rb"the scanner sent (\d+) bytes in one line", ANSI.sub(b"", t.expect(
            r"the scanner sent \d+ bytes in one line")))
        self.assertGreater(int(m.group(1)), 512)  # the terminal may cut the line at 4 KiB
        t.type(b"\x01\x02\x05\x1b[A\xff\xfe")
        t.expect(r"unreadable characters")
        t.type(b"")
        t.expect(r"Empty line")
        t.type("/nowhere/ticket.png")
        t.expect(r"Cannot read the image ticket.png")
        t.type("   " + DOOR["Gus"][1] + "   ")
        t.expect(r"Admitted[\s\S]*Gus Practice")
        self.assertIsNone(t.proc.poll())
        self.assertEqual(t.quit(), 0)

    def test_spanish_labels(self):
        t = self.open("--language=es", state="state-es")
        t.type(DOOR["Ines"][1])
        t.expect(r"Admitido[\s\S]*Ines Practice[\s\S]*"
                 r"Necesita audífonos de interpretación al español[\s\S]*"
                 r"\[ENTRADA\] · Entrada principal · en línea")
        t.type(DOOR["Ines"][1])
        t.expect(r"Ya registró su entrada · Primera entrada \d\d:\d\d")
        self.assertEqual(t.quit(), 0)

    def test_zz_offline_scans_are_queued_and_uploaded_when_the_server_is_back(self):
        """Runs last in this class: it stops the server."""
        t = self.open(state="state-offline")
        t.expect(r"last sync \d\d:\d\d:\d\d", timeout=60)  # the offline bundle is held
        SERVER.stop()
        t.type(DOOR["Eve"][1])
        t.expect(r"Admitted[\s\S]*Eve Practice[\s\S]*Decided offline[\s\S]*OFFLINE · 1 queued",
                 timeout=30)
        SERVER.start()
        for _ in range(20):  # the channel may take a moment to reconnect
            t.type("/s")
            shown = ANSI.sub(b"", t.expect(r"Synchronized with the server|Could not synchronize"))
            if b"Synchronized" in shown:
                break
            time.sleep(1)
        t.expect(r"online · 0 queued", timeout=60)
        self.assertEqual(t.quit(), 0)
        searched = SERVER.ctl("search", DOOR["event"], "Eve")
        self.assertRegex(searched.stdout, r"confirmed\s+yes\s", "the offline scan counted")


class ScanJsonTest(unittest.TestCase):
    def test_json_lines_for_an_image_argument_and_piped_lines(self):
        piped = ("%s\n\n%s\n  %s  \n" % (DOOR["Carla"][1], "Z" * 10240, DOOR["Fay"][1])).encode()
        done = subprocess.run(scan_command("--json", DOOR["carla_png"], state="state-json"),
                              input=piped, capture_output=True, env=environment(), timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertNotIn(b"\x1b", done.stdout)
        lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
        self.assertEqual([l["kind"] for l in lines], ["scan", "scan", "error", "error", "scan"])
        self.assertEqual(lines[0]["file"], DOOR["carla_png"])
        self.assertEqual(lines[0]["display_name"], "Carla Practice")
        self.assertIn(lines[0]["status"], ("ADMITTED", "ALREADY_CHECKED_IN"))
        self.assertEqual(lines[1]["status"], "ALREADY_CHECKED_IN")
        self.assertTrue(lines[1]["first_entry_time"])
        self.assertFalse(lines[1]["offline"])
        self.assertTrue(lines[1]["client_scan_id"])
        self.assertEqual(lines[2]["error"], "empty_line")
        self.assertEqual(lines[3]["error"], "line_too_long")
        self.assertEqual(lines[4]["display_name"], "Fay Practice")
        self.assertEqual(lines[4]["status"], "ADMITTED")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args, rest = parser.parse_known_args()
    BUILD_DIR = os.path.abspath(args.build_dir)
    if not os.path.exists(os.path.join(BUILD_DIR, "tools/turnout-scan")):
        sys.exit("scan_e2e_test: %s/tools/turnout-scan is not built (it needs the DoorEngine "
                 "implementation)" % BUILD_DIR)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
