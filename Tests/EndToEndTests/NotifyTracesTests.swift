import Foundation
import Pipelines
import Testing

/// Traces over OTLP/HTTP (JSON) to a real receiver on loopback that decodes them with the OpenTelemetry
/// protobuf definitions; and the run id and trace id on every JSON log line.
@Suite(.serialized, .timeLimit(.minutes(3))) struct NotifyTracesTests {
    struct Span: Decodable {
        var traceID: String
        var spanID: String
        var parentSpanID: String
        var name: String
        var status: Int
        var message: String
        var authorization: String?
        var attributes: [String: AttributeValue]

        enum CodingKeys: String, CodingKey {
            case name, status, message, authorization, attributes
            case traceID = "trace_id"
            case spanID = "span_id"
            case parentSpanID = "parent_span_id"
        }
    }

    enum AttributeValue: Decodable, Equatable {
        case text(String), number(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }
    }

    static func spans(_ scratch: Scratch) throws -> [Span] {
        try scratch.read("spans.log").split(separator: "\n").map { try JSONDecoder().decode(Span.self, from: Data($0.utf8)) }
    }

    static let parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentSpan = "00f067aa0ba902b7"
    static let token = "otlp-token-62f0"

    @Test func aRunIsOneTraceWithASpanPerStageAndPerChunkUnderTheCallersTrace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let collector = try PeerServer("otlp_receiver.py", ["--log", scratch.file("spans.log")])
        defer { collector.stop() }
        try scratch.write("a.csv", "sku,qty\nA,1\nB,2\nC,3\nD,4\nE,5\n")
        try scratch.write(
            "p.yaml",
            """
            name: traced
            stages:
              - id: load
                uses: table.import
                chunk_size: 2
                with: { file: a.csv, table: items, create: true }
              - id: dump
                uses: table.export
                chunk_size: 2
                with: { query: "SELECT sku, qty FROM items ORDER BY sku", file: out/items.csv }
              - id: report
                uses: sql.run
                with: { sql: "SELECT * FROM no_such_table" }
            """)
        let result = try PipelineProcess.run(
            ["run", "p.yaml", "--log-format", "json"], in: scratch.path,
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collector.port)",
                "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20\(Self.token)",
                "TRACEPARENT": "00-\(Self.parentTrace)-\(Self.parentSpan)-01",
            ])
        #expect(result.status == 78, "the run's own failure decides: \(result.stderr)")
        let spans = try Self.spans(scratch)
        #expect(spans.allSatisfy { $0.traceID == Self.parentTrace && $0.authorization == "Bearer \(Self.token)" })
        let root = try #require(spans.first { $0.name == "pipeline run traced" })
        #expect(root.parentSpanID == Self.parentSpan)
        #expect(root.status == 2)
        let load = try #require(spans.first { $0.name == "stage load" })
        let report = try #require(spans.first { $0.name == "stage report" })
        #expect(load.parentSpanID == root.spanID && report.parentSpanID == root.spanID)
        #expect(load.status == 1 && report.status == 2 && report.message.contains("no_such_table"))
        #expect(load.attributes["pipeline.count.read"] == .number(5) && load.attributes["pipeline.count.written"] == .number(5))
        let dump = try #require(spans.first { $0.name == "stage dump" })
        let dumped = spans.filter { $0.name == "chunk" && $0.parentSpanID == dump.spanID }
        #expect(dumped.map { $0.attributes["pipeline.chunk.rows"] } == [.number(2), .number(2)], "an export's synced chunks")
        let chunks = spans.filter { $0.name == "chunk" && $0.parentSpanID != dump.spanID }
        #expect(chunks.allSatisfy { $0.parentSpanID == load.spanID })
        // A span per committed chunk; the first commit waits for the whole-file check, so how many rows
        // each holds depends on timing, but together they hold the file.
        let rows = chunks.map { chunk -> Int in
            if case .number(let rows)? = chunk.attributes["pipeline.chunk.rows"] { return rows }
            return -1
        }
        #expect(!chunks.isEmpty && rows.reduce(0, +) == 5 && rows.allSatisfy { $0 > 0 }, "\(rows)")
        #expect(Set(spans.map(\.spanID)).count == spans.count)

        // Every log line names the run and the trace.
        let runID = try #require(root.attributes["pipeline.run_id"])
        let lines = result.stderr.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let runLines = lines.filter { $0["event"] as? String != "migration.applied" }
        #expect(!runLines.isEmpty)
        #expect(runLines.allSatisfy { .text($0["run_id"] as? String ?? "") == runID && $0["trace_id"] as? String == Self.parentTrace },
            "\(result.stderr)")
        try NotifyWebhookTests.expectNoSecret([Self.token], in: scratch, outputs: [result])
    }

    @Test func theFileNamesTheCollectorAndOneThatIsDownCostsAWarningOnly() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let collector = try PeerServer("otlp_receiver.py", ["--log", scratch.file("spans.log")])
        defer { collector.stop() }
        let pipeline = { (port: Int) in
            """
            name: traced-by-file
            stages:
              - id: work
                uses: sql.run
                with: { sql: "SELECT 1" }
            traces: { endpoint: "http://127.0.0.1:\(port)/v1/traces" }
            """
        }
        try scratch.write("p.yaml", pipeline(collector.port))
        #expect(try PipelineProcess.run(["run", "p.yaml"], in: scratch.path).status == 0)
        let spans = try Self.spans(scratch)
        #expect(spans.map(\.name).sorted() == ["pipeline run traced-by-file", "stage work"])
        #expect(spans.first { $0.name == "pipeline run traced-by-file" }?.parentSpanID == "", "a root span without TRACEPARENT")

        collector.stop()
        try scratch.write("p.yaml", pipeline(collector.port))
        let down = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
        #expect(down.status == 0)
        #expect(down.stderr.contains("could not send the trace"), "\(down.stderr)")
    }
}
