#!/usr/bin/env python3
"""An HTTP server on loopback serving photos for the photo extraction tests.

    asset_server.py --root DIR --log FILE

Prints its port on the first line of stdout, then serves until killed. GET /MODE/NAME serves DIR/NAME,
misbehaving first according to MODE (per path, counting requests):
  ok         200 every time
  flaky      500 on the first request, then 200
  ratelimit  429 with Retry-After: 1 on the first request, then 200
  slow       the first request waits 3 seconds before answering, then 200 at once
  truncated  the first answer announces the whole length and sends half, then 200
  missing    404 every time
  down       503 every time
  big        200 with the file repeated to over 2 MB
Every request is appended to --log as JSON lines: {"path": ..., "arrived": N} as it comes in, then
{"path": ..., "status": ...} as it is answered.
"""
import argparse
import http.server
import json
import os
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--root", required=True)
parser.add_argument("--log", required=True)
args = parser.parse_args()
lock = threading.Lock()
seen = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = self.path.strip("/").split("/", 1)
        mode, name = (parts + [""])[:2]
        with lock:
            count = seen.get(self.path, 0) + 1
            seen[self.path] = count
        with lock, open(args.log, "a") as log:
            log.write(json.dumps({"path": self.path, "arrived": count}) + "\n")
        path = os.path.join(args.root, os.path.basename(name))
        body = open(path, "rb").read() if os.path.isfile(path) else b""
        status, headers, send = 200, {}, body
        if mode == "flaky" and count == 1 or mode == "down":
            status, send = (500 if mode == "flaky" else 503), b"try later"
        elif mode == "ratelimit" and count == 1:
            status, headers, send = 429, {"Retry-After": "1"}, b"slow down"
        elif mode == "slow" and count == 1:
            time.sleep(3)
        elif mode == "missing" or not body:
            status, send = 404, b"not found"
        elif mode == "big":
            send = body * (2_100_000 // len(body) + 1)
        with lock, open(args.log, "a") as log:
            log.write(json.dumps({"path": self.path, "status": status}) + "\n")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "image/jpeg" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(send)))
        self.end_headers()
        try:
            if mode == "truncated" and count == 1:
                self.wfile.write(send[: len(send) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(send)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *arguments):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
