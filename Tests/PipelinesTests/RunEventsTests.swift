import Foundation
import Testing

@testable import Pipelines

/// The pieces of run events that need no peer: trace context, OTLP encoding, the email text, the
/// metrics format, the HMAC, and where traces go.
@Suite(.timeLimit(.minutes(1))) struct RunEventsTests {
    @Test func hmacSHA256MatchesRFC4231() throws {
        // RFC 4231, test case 2.
        #expect(
            try HMACSHA256.hex(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test(arguments: [
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", false),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", false),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", false),
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", false),
        ("garbage", false),
    ])
    func traceParentIsReadAsW3CSaysOrIgnored(text: String, valid: Bool) {
        #expect((Tracer.parseTraceParent(text) != nil) == valid)
    }

    @Test func otlpJSONHasHexIdsNanosecondStringsAndTypedAttributes() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000.25)
        let span = TraceSpan(
            spanID: "00f067aa0ba902b7", parentID: nil, name: "stage load", start: start, end: start.addingTimeInterval(1),
            attributes: [("pipeline.count.read", .number("42")), ("pipeline.stage", .string("load"))], status: .error,
            message: "boom")
        let json = OTLPTraces.request(traceID: "4bf92f3577b34da6a3ce929d0e0e4736", spans: [span]).serialized
        #expect(json.contains(#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":"stage load""#))
        #expect(json.contains(#""startTimeUnixNano":"1700000000250000000","endTimeUnixNano":"1700000001250000000""#))
        #expect(json.contains(#"{"key":"pipeline.count.read","value":{"intValue":"42"}}"#))
        #expect(json.contains(#""status":{"code":2,"message":"boom"}"#))
        #expect(!json.contains("parentSpanId"), "a root span has no parent")
    }

    @Test func theTraceEndpointComesFromTheFileThenTheEnvironment() throws {
        let file = try #require(WebURL("http://collector:4318/v1/traces"))
        let environment = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318/", "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20t,x-tenant = shop ",
        ]
        #expect(TraceEndpoint.resolve(file: file, environment: environment)?.url == "http://collector:4318/v1/traces")
        let fromEnvironment = try #require(TraceEndpoint.resolve(file: nil, environment: environment))
        #expect(fromEnvironment.url == "http://other:4318/v1/traces")
        #expect(fromEnvironment.headers == ["Authorization: Bearer t", "x-tenant: shop"])
        #expect(TraceEndpoint.resolve(file: nil, environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://a/x"])?.url == "http://a/x")
        #expect(TraceEndpoint.resolve(file: nil, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "not a url"]) == nil)
    }

    @Test func anEmailsHeadersCannotBeBrokenByWhatTheEventCarries() {
        let item = OutboxItem(
            eventID: "e1", channel: "c1", channelDisplay: "email", pipeline: "p", runID: "r1", name: "run.failed",
            body: #"{"id":"e1","type":"run.failed","stage":"load\r\nBcc: evil@example.com","error":"line one\nline two\r\n.\r\nQUIT"}"#,
            status: .pending, attempts: 0, error: nil, createdAt: "2026-12-06T00:00:00.000Z")
        let text = String(decoding: MailMessage.render(item, from: "a@b.c", to: ["d@e.f"], date: Date(timeIntervalSince1970: 0)), as: UTF8.self)
        let headers = text.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(!headers.contains { $0.hasPrefix("Bcc:") })
        #expect(headers.contains("Subject: [pipeline] p stage load  Bcc: evil@example.com: run.failed"))
        #expect(headers.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000"))
        let bare = text.replacingOccurrences(of: "\r\n", with: "")
        #expect(!bare.contains("\n") && !bare.contains("\r"), "every line ends in CRLF, and only there")
    }

    @Test func metricsAreLabelledEscapedAndOnlyWhatIsKnown() {
        let started = Date(timeIntervalSince1970: 1_000)
        var run = RunRecord(
            id: "r1", identity: "i", instance: "i.1.r1", pipeline: "nightly \"x\"", file: "p.yaml", params: [:],
            status: .failed, resumedFrom: nil, startedAt: started, finishedAt: started.addingTimeInterval(2.5),
            heartbeatAt: started, pid: 1, host: "h", error: "boom")
        run.series = nil
        let stage = StageRunRecord(
            runID: "r1", stageID: "load", kind: "table.import", status: .failed, attempts: 2, startedAt: started,
            finishedAt: nil, milliseconds: 1500, counts: [RecordedCount(name: "read", unit: "rows", value: 7)],
            outputs: StageOutputs(), error: "boom")
        let text = MetricsTextfile.render(
            MetricsTextfile.Figures(pipeline: "nightly \"x\"", run: run, stages: [stage], lastSuccess: nil, runTotals: ["failed": 3]))
        #expect(text.contains(#"pipeline_last_run_duration_seconds{pipeline="nightly \"x\""} 2.500"#))
        #expect(text.contains(#"pipeline_stage_last_items{pipeline="nightly \"x\"",stage="load",kind="table.import",counter="read",unit="rows"} 7"#))
        #expect(text.contains(#"pipeline_runs_total{pipeline="nightly \"x\"",status="failed"} 3"#))
        #expect(!text.contains("pipeline_last_success_timestamp_seconds"), "no success yet: no sample, not a zero")
        #expect(MetricsTextfile.fileName(for: "nightly-stock.v2") == "pipeline_nightly_stock_v2.prom")
    }
}
