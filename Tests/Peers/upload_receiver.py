#!/usr/bin/env python3
"""A model upload endpoint on loopback for the publish tests.

    upload_receiver.py --log FILE [--script 503,200]

Prints its port on the first line of stdout, then serves until killed. Every POST is parsed as
multipart/form-data and appended to --log as one JSON line: the status answered, the Authorization
header, and per part its field name, file name, content type, size and SHA-256. Answers follow
--script, one per request (then 200).
"""
import argparse
import email.parser
import email.policy
import hashlib
import http.server
import json
import threading

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--script", default="")
args = parser.parse_args()
script = [int(step) for step in args.script.split(",") if step]
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            status = script.pop(0) if script else 200
        head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        parts = []
        for part in message.iter_parts():
            data = part.get_payload(decode=True) or b""
            parts.append({
                "field": part.get_param("name", header="content-disposition"),
                "file": part.get_filename(),
                "type": part.get_content_type(),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
        with lock, open(args.log, "a") as log:
            log.write(json.dumps({"status": status, "authorization": self.headers.get("Authorization"), "parts": parts}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *arguments):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
