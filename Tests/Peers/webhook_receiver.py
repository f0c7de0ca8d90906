#!/usr/bin/env python3
"""A webhook receiver on loopback for the notification tests.

Prints its port on the first line of stdout, then serves until killed. Every request is appended to
--log as one JSON line: the event id and type, whether the signature checked out under --secret, whether
its timestamp was fresh (within --tolerance seconds of this receiver's clock, which runs --skew seconds
ahead), and the status answered; a line {"arrived": ID} is written first, as the request comes in. Answers follow --script,
a comma list consumed one per request (200, 500, 429, 401, hang:SECONDS); after it, 200. A request whose
signature is missing, wrong or stale is answered 400, as a receiver that checks signatures would.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--secret", default="")
parser.add_argument("--script", default="")
parser.add_argument("--log", required=True)
parser.add_argument("--tolerance", type=int, default=300)
parser.add_argument("--skew", type=int, default=0, help="seconds this receiver's clock is ahead")
parser.add_argument("--port", type=int, default=0)
args = parser.parse_args()
script = [step for step in args.script.split(",") if step]
lock = threading.Lock()


def check_signature(header, body):
    if not args.secret:
        return True, True
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    expected = hmac.new(args.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    verified = bool(signature) and hmac.compare_digest(expected, signature)
    fresh = timestamp.isdigit() and abs(time.time() + args.skew - int(timestamp)) <= args.tolerance
    return verified, fresh


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            step = script.pop(0) if script else "200"
        verified, fresh = check_signature(self.headers.get("Pipeline-Signature"), body)
        with lock, open(args.log, "a") as log:
            log.write(json.dumps({"arrived": self.headers.get("Pipeline-Event-Id")}) + "\n")
        if step.startswith("hang:"):
            time.sleep(float(step[5:]))
            status = 200
        else:
            status = int(step)
        if not (verified and fresh):
            status = 400
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        record = {
            "id": event.get("id"), "type": event.get("type"), "header_id": self.headers.get("Pipeline-Event-Id"),
            "signature": self.headers.get("Pipeline-Signature"), "verified": verified, "fresh": fresh,
            "status": status, "step": step, "body": body.decode("utf-8", "replace"),
        }
        with lock, open(args.log, "a") as log:
            log.write(json.dumps(record) + "\n")
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass


http.server.ThreadingHTTPServer.allow_reuse_address = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
