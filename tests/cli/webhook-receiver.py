#!/usr/bin/env python3
"""A loopback webhook receiver for the notification tests (t0830).

webhook-receiver.py PORTFILE LOG [PLAN...]: listens on 127.0.0.1 (a free
port, written to PORTFILE) and answers each POST by the next word of PLAN,
then 200 once PLAN is used up:
  ok     200
  500    HTTP 500
  stall  waits past the sender's timeout (3 s), then 200 to nobody
  close  closes the connection without an answer
Every request is appended to LOG as one JSON line: path, answer, event id,
signature header, whether the signature verifies with the key in
$SLUICE_WEBHOOK_KEY (null when the request is unsigned), the body.
"""
import hashlib
import hmac
import json
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOG = sys.argv[1], sys.argv[2]
PLAN = list(sys.argv[3:])
KEY = os.environ.get("SLUICE_WEBHOOK_KEY", "").encode()
lock = threading.Lock()


def verify(header, body):
    """The check docs/notifications.md shows a receiver."""
    if not header:
        return None
    fields = dict(p.split("=", 1) for p in header.split(","))
    mac = hmac.new(KEY, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, fields.get("v1", ""))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            answer = PLAN.pop(0) if PLAN else "ok"
            sig = self.headers.get("X-Sluice-Signature")
            rec = {
                "path": self.path,
                "answer": answer,
                "event_id": self.headers.get("X-Sluice-Event-Id"),
                "content_type": self.headers.get("Content-Type"),
                "signature": sig,
                "signature_ok": verify(sig, body),
                "body": json.loads(body),
            }
            with open(LOG, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        if answer == "close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if answer == "stall":
            time.sleep(3)
        code = 500 if answer == "500" else 200
        try:
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True


socketserver.TCPServer.allow_reuse_address = True
srv = Server(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
# never outlive a test that forgot to stop it
threading.Timer(900, lambda: os._exit(0)).start()
srv.serve_forever()
