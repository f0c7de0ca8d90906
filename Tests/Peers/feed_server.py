#!/usr/bin/env python3
"""An HTTP server on loopback serving a paginated inventory feed for the feed fetcher tests.

    feed_server.py --data FILE.csv --log FILE [--token TOKEN] [--page-size N] [--generated-at TIME]

--data is a CSV with the header sku,on_hand,reserved and optionally a location column. Quantities are
served as JSON integers when they are integers, null when empty, otherwise as the raw string, so tests
can serve bad values. Prints its port on the first line of stdout, then serves until killed.

GET /SHAPE/MODE[?page=N] serves the data in the shape of one warehouse system (pages are 1-based,
--page-size records each, default 2):
  veracore     {"Items": [{"SKU", "OnHandQuantity", "AvailableQuantity", "ReservedQuantity"
               [, "Location"]}], "GeneratedAt": ..., "NextPage": "/veracore/MODE?page=N+1" or null};
               with relative=1 in the query NextPage is the relative "MODE?page=N+1&relative=1"
  shipstation  {"inventory": [{"sku", "on_hand", "allocated", "available"}], "page": N};
               a page past the end has an empty inventory
  shipbob      [{"sku", "total_on_hand_quantity", "total_committed_quantity",
               "total_fulfillable_quantity"}], with Link: <http://HOST/shipbob/MODE?page=N+1>; rel="next"
               on every page but the last
  csv          the whole data as text/csv (sku,on_hand,reserved[,location]), one page
  jsonl        one {"sku", "on_hand", "reserved"} object a line, one page
Available quantities are on_hand - reserved, or null when either is not an integer.

MODE misbehaves on the first request of page 2 (page 1 for csv and jsonl), counting requests per
(SHAPE, MODE, page); later requests are answered normally:
  ok         200 every time
  ratelimit  429 with Retry-After: 1
  flaky      500
  down       503 on every request of every page
  slow       waits 3 seconds, then answers normally
  truncated  announces the whole Content-Length, sends half the body and closes the connection
  empty      every page is empty (no records, no next page), every time
With --token every request needs Authorization: Bearer TOKEN, else 401 {"error":"unauthorized"}
(such requests are not counted). Unknown shapes, modes and bad page numbers get 404/400.
Every request is appended to --log as a JSON line:
  {"path": ..., "page": N, "count": K (nth request for its key, null if refused), "status": S,
   "auth": true|false (Authorization matched --token) or null without --token}
The token is never written anywhere.
"""
import argparse
import csv
import http.server
import io
import json
import re
import socket
import threading
import time
import urllib.parse

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--token")
parser.add_argument("--page-size", type=int, default=2)
parser.add_argument("--generated-at", default="2026-12-06T02:00:00Z")
args = parser.parse_args()

with open(args.data, newline="") as data:
    reader = csv.DictReader(data)
    has_location = "location" in (reader.fieldnames or [])
    rows = list(reader)
columns = ["sku", "on_hand", "reserved"] + (["location"] if has_location else [])
lock = threading.Lock()
seen = {}
SHAPES = {"veracore", "shipstation", "shipbob", "csv", "jsonl"}
MODES = {"ok", "ratelimit", "flaky", "down", "slow", "truncated", "empty"}


def quantity(text):
    """An integer when the text is one, null when empty, otherwise the raw string."""
    text = text or ""
    return int(text) if re.fullmatch(r"-?\d+", text) else (None if text == "" else text)


def record(row):
    on_hand, reserved = quantity(row.get("on_hand")), quantity(row.get("reserved"))
    both = isinstance(on_hand, int) and isinstance(reserved, int)
    return {"sku": row.get("sku") or "", "on_hand": on_hand, "reserved": reserved,
            "available": on_hand - reserved if both else None, "location": row.get("location") or ""}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        shape, mode = (url.path.strip("/").split("/", 1) + [""])[:2]
        try:
            page = int(query.get("page", ["1"])[0]) if shape not in ("csv", "jsonl") else 1
        except ValueError:
            page = 0
        auth = None
        if args.token is not None:
            auth = self.headers.get("Authorization") == "Bearer " + args.token
        count = None
        if auth is False:
            return self.answer(401, page, count, auth, b'{"error":"unauthorized"}', "application/json")
        if shape not in SHAPES or mode not in MODES:
            return self.answer(404, page, count, auth, b"not found")
        if page < 1:
            return self.answer(400, page, count, auth, b"bad page")
        with lock:
            count = seen.get((shape, mode, page), 0) + 1
            seen[(shape, mode, page)] = count
        first = count == 1 and page == (1 if shape in ("csv", "jsonl") else 2)
        if mode == "down":
            return self.answer(503, page, count, auth, b"try later")
        if mode == "flaky" and first:
            return self.answer(500, page, count, auth, b"try later")
        if mode == "ratelimit" and first:
            return self.answer(429, page, count, auth, b"slow down", headers={"Retry-After": "1"})
        records = [] if mode == "empty" else [record(row) for row in rows]
        size = max(args.page_size, 1)
        chunk = records[(page - 1) * size:page * size]
        more = page * size < len(records)
        headers, kind = {}, "application/json"
        if shape == "veracore":
            items = [{"SKU": r["sku"], "OnHandQuantity": r["on_hand"], "AvailableQuantity": r["available"],
                      "ReservedQuantity": r["reserved"], **({"Location": r["location"]} if has_location else {})}
                     for r in chunk]
            relative = query.get("relative") == ["1"]
            next_page = (f"{mode}?page={page + 1}&relative=1" if relative else f"/veracore/{mode}?page={page + 1}")
            body = {"Items": items, "GeneratedAt": args.generated_at, "NextPage": next_page if more else None}
        elif shape == "shipstation":
            body = {"inventory": [{"sku": r["sku"], "on_hand": r["on_hand"], "allocated": r["reserved"],
                                   "available": r["available"]} for r in chunk], "page": page}
        elif shape == "shipbob":
            body = [{"sku": r["sku"], "total_on_hand_quantity": r["on_hand"], "total_committed_quantity": r["reserved"],
                     "total_fulfillable_quantity": r["available"]} for r in chunk]
            if more:
                host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
                headers["Link"] = f'<http://{host}/shipbob/{mode}?page={page + 1}>; rel="next"'
        elif shape == "csv":
            kind = "text/csv"
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([] if mode == "empty" else [[row.get(c) or "" for c in columns] for row in rows])
            body = out.getvalue()
        else:
            kind = "application/x-ndjson"
            body = "".join(json.dumps({k: r[k] for k in ("sku", "on_hand", "reserved")}) + "\n" for r in records)
        if not isinstance(body, str):
            body = json.dumps(body)
        if mode == "slow" and first:
            self.log_request_line(page, count, 200, auth)  # logged before the wait, so it shows on time
            time.sleep(3)
            return self.answer(200, page, count, auth, body.encode(), kind, headers, logged=True)
        self.answer(200, page, count, auth, body.encode(), kind, headers, truncate=mode == "truncated" and first)

    def log_request_line(self, page, count, status, auth):
        line = {"path": self.path, "page": page, "count": count, "status": status, "auth": auth}
        with lock, open(args.log, "a") as log:
            log.write(json.dumps(line) + "\n")

    def answer(self, status, page, count, auth, body, kind="text/plain", headers=None, truncate=False, logged=False):
        if not logged:
            self.log_request_line(page, count, status, auth)
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if truncate:
                # The whole length was announced: send half of it and hang up.
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_WR)
                return
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *arguments):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
