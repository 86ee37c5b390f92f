"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): typical inputs each
target starts from. Ticket codes are signed with the fuzz_ticket_code keys (Ed25519 from the seeds
0x11.., 0x22.., and 0x33.. for a key the ring does not know); requests are serialized with Python
protobuf, preceded by the byte that picks the request type in fuzz_request.cc.

    /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import base64
import os
import struct
import subprocess
import sys
import tempfile

import nacl.signing

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = tempfile.mkdtemp(prefix="turnout-seeds-")
subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.join(ROOT, "proto"),
                "--python_out", GEN] +
               [os.path.join(ROOT, "proto/turnout/v1", f)
                for f in sorted(os.listdir(os.path.join(ROOT, "proto/turnout/v1")))
                if f.endswith(".proto")], check=True)
sys.path.insert(0, GEN)
from google.protobuf import timestamp_pb2  # noqa: E402
from turnout.v1 import checkin_service_pb2 as chk  # noqa: E402
from turnout.v1 import event_service_pb2 as ev  # noqa: E402
from turnout.v1 import registration_service_pb2 as reg  # noqa: E402
from turnout.v1 import resources_pb2 as res  # noqa: E402

root = os.path.join(HERE, "corpus")
def put(target, name, data):
    d = os.path.join(root, target); os.makedirs(d, exist_ok=True)
    if isinstance(data, str): data = data.encode()
    open(os.path.join(d, name), "wb").write(data)

def code(seed_fill, key_id, event_id, ticket, not_after):
    key = nacl.signing.SigningKey(bytes([seed_fill]) * 32)
    payload = bytes([1]) + struct.pack(">HI", key_id, event_id) + ticket + struct.pack(">I", not_after)
    sig = key.sign(payload).signature
    return base64.b32encode(payload + sig).decode().rstrip("=")

t = bytes(range(1, 13))
put("fuzz_ticket_code", "valid", code(0x11, 1, 7, t, 1445000000))
put("fuzz_ticket_code", "valid_scanner_newline", code(0x11, 1, 1, bytes(12), 1445299999).lower() + "\r\n")
put("fuzz_ticket_code", "revoked_key", code(0x22, 2, 7, t, 1445000000))
put("fuzz_ticket_code", "unknown_key", code(0x33, 3, 7, t, 1445000000))
put("fuzz_ticket_code", "claims", struct.pack(">I", 7) + t + struct.pack(">I", 1445000000) + b"\x05\x09")
put("fuzz_ticket_code", "ticket_id_hex", "0102030405060708090a0b0C")

put("fuzz_base32", "foobar", "MZXW6YTBOI")
put("fuzz_base32", "lower", "mzxw6ytb")
put("fuzz_base32", "padding", "MY======")
put("fuzz_base32", "bytes", bytes(range(0, 40)))

put("fuzz_csv", "roster", "\ufeffdisplay_name,email,phone,preferred_language,attention_flags,sessions,request_id\r\n"
    "\"López, María\",maria@example.org,+1 510 555 0100,es,spanish_interpretation;childcare,events/1/sessions/2;events/1/sessions/5,row-1\r\n"
    "Ana,,,,,,\r\n\r\n")
put("fuzz_csv", "quoted", "Display Name,Sessions\n\"two\r\nlines\",\"say \"\"hola\"\"\"\n  \"spaced\"  ,x\rlast")
put("fuzz_csv", "report", "events/1/registrations/7\x1eAna Flores\x1e=SUM(A1)\x1e\"quoted, cell\"\x1e-1\x1e")

put("fuzz_names", "event", "events/1")
put("fuzz_names", "session", "events/12/sessions/345")
put("fuzz_names", "registration", "events/2/registrations/9")
put("fuzz_names", "token", "tokens/7")
put("fuzz_names", "page_token", base64.urlsafe_b64encode(b"events/3/sessions|1445000000000000|5").decode())
put("fuzz_names", "page_key", bytes([0, 0, 0, 0, 0, 0, 0, 42, 0, 5, 32, 0, 0, 0, 0, 0]))

for name, value in [("name", "Ana García"), ("email", "ana@example.org"), ("phone", "+1 (510) 555-0100"),
                    ("language", "zh-Hant-TW"), ("zone", "America/Los_Angeles"), ("vietnamese", "Nguyễn Thị Lan"),
                    ("polish", "Łódź ß ﬁ ΣΑΣ"), ("arabic", "مُحَمَّد"), ("bad_utf8", b"\xed\xa0\x80\xc0\xaf")]:
    put("fuzz_validation", name, value)

def ts(s): return timestamp_pb2.Timestamp(seconds=s)
r = reg.RegisterRequest(parent="events/1", request_id="0f8c2b6e-6c1e-4d8e-9a57-5a0e1c2d3b4f",
    registration=res.Registration(display_name="Ana García", email="ana@example.org", preferred_language="es",
        attention_flags=[1, 4], session_choices=[res.SessionChoice(session="events/1/sessions/2")]))
put("fuzz_request", "register", b"\x00" + r.SerializeToString())
row = reg.ImportRegistrationsRequest(parent="events/1", line=2, request_id="row-2",
    registration=res.Registration(display_name="Lupe", phone="+1 213 555 0100"))
put("fuzz_request", "import_row", b"\x01" + row.SerializeToString())
s = chk.ScanRequest(event="events/1", checkpoint="events/1/checkpoints/1", code=code(0x11, 1, 1, t, 1445000000),
    client_scan_id="scan-1", scan_time=ts(1444923000), language="es")
put("fuzz_request", "scan", b"\x02" + s.SerializeToString())
u = ev.UpdateEventRequest(event=res.Event(name="events/1", title="Oakland", time_zone="America/Los_Angeles",
    doors_open_time=ts(1444921200)))
u.update_mask.paths.extend(["title", "doors_open_time", "end_time"])
put("fuzz_request", "update_event", b"\x03" + u.SerializeToString())
l = reg.ListRegistrationsRequest(parent="events/1", page_size=20, name_prefix="Nguyễn",
    page_token=base64.urlsafe_b64encode(b"events/1/registrations|0|5").decode())
put("fuzz_request", "list_registrations", b"\x04" + l.SerializeToString())
