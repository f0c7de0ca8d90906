#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver on loopback for the trace tests.

Prints its port on the first line of stdout, then serves POST /v1/traces until killed. Each request's
JSON body is decoded with the OpenTelemetry protobuf definitions (opentelemetry-proto's
ExportTraceServiceRequest, through protobuf's json_format, after turning OTLP's hex ids into the base64
that the protobuf JSON mapping wants, as collectors do), and every span is appended to --log as one JSON
line: ids in hex, name, kind, times, attributes by key, status. A body that does not decode is answered 400.
"""
import argparse
import base64
import http.server
import json

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
args = parser.parse_args()


def hex_to_base64(spans):
    for span in spans:
        for key in ("traceId", "spanId", "parentSpanId"):
            if key in span:
                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            document = json.loads(body)
            for resource in document.get("resourceSpans", []):
                for scope in resource.get("scopeSpans", []):
                    hex_to_base64(scope.get("spans", []))
            request = json_format.Parse(json.dumps(document), ExportTraceServiceRequest())
        except Exception as error:  # a body the definitions refuse
            self.send_response(400)
            self.end_headers()
            with open(args.log, "a") as log:
                log.write(json.dumps({"error": str(error)}) + "\n")
            return
        with open(args.log, "a") as log:
            for resource in request.resource_spans:
                service = {a.key: value_of(a.value) for a in resource.resource.attributes}.get("service.name")
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        log.write(json.dumps({
                            "service": service, "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(), "name": span.name, "kind": span.kind,
                            "start": span.start_time_unix_nano, "end": span.end_time_unix_nano,
                            "attributes": {a.key: value_of(a.value) for a in span.attributes},
                            "status": span.status.code, "message": span.status.message,
                            "authorization": self.headers.get("Authorization"),
                        }) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
