import Foundation

/// One span of a run's trace, as OTLP describes it.
struct TraceSpan {
    enum Status: Int {
        case unset = 0, ok = 1, error = 2
    }

    var spanID: String
    var parentID: String?
    var name: String
    var start: Date
    var end: Date
    var attributes: [(String, JSONValue)]
    var status: Status = .unset
    var message: String? = nil
}

/// Collects a run's spans (the run, each stage, each committed chunk) and sends them as one trace over
/// OTLP/HTTP with JSON encoding when the run ends. The W3C `TRACEPARENT` of the environment makes the run
/// a child of the caller's trace. Sending is bounded in time, and a collector that is down is logged, never
/// fatal.
final class Tracer {
    /// Chunk spans kept per run; beyond, they are counted on their stage's span instead.
    static let maximumChunkSpans = 2000
    static let exportTimeout: Duration = .seconds(5)

    let traceID: String
    let runSpanID: String
    private let parentSpanID: String?
    private let endpoint: TraceEndpoint
    private var spans: [TraceSpan] = []
    private var openStages: [String: (spanID: String, start: Date)] = [:]
    private var droppedChunks: [String: Int] = [:]
    private var chunkSpans = 0
    private let start = Date()

    init(endpoint: TraceEndpoint, traceParent: String?) {
        self.endpoint = endpoint
        if let parent = traceParent.flatMap(Self.parseTraceParent) {
            traceID = parent.traceID
            parentSpanID = parent.spanID
        } else {
            traceID = Self.randomHex(bytes: 16)
            parentSpanID = nil
        }
        runSpanID = Self.randomHex(bytes: 8)
    }

    /// `00-TRACEID-SPANID-FLAGS`, all lower-case hex, neither id all zeros.
    static func parseTraceParent(_ text: String) -> (traceID: String, spanID: String)? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-").map(String.init)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
            parts[3].count == 2, parts.allSatisfy({ $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16)
        else { return nil }
        return (parts[1], parts[2])
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        repeat {
            text = (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        } while text.allSatisfy { $0 == "0" }
        return text
    }

    func stageStarted(_ stageID: String) {
        openStages[stageID] = (Self.randomHex(bytes: 8), Date())
    }

    func chunk(of stageID: String, started: Date, attributes: [(String, JSONValue)]) {
        guard let stage = openStages[stageID] else { return }
        guard chunkSpans < Self.maximumChunkSpans else {
            droppedChunks[stageID, default: 0] += 1
            return
        }
        chunkSpans += 1
        spans.append(
            TraceSpan(
                spanID: Self.randomHex(bytes: 8), parentID: stage.spanID, name: "chunk", start: started, end: Date(),
                attributes: attributes))
    }

    func stageEnded(_ stageID: String, kind: String, counts: [(String, Int64)], error: String?) {
        guard let stage = openStages.removeValue(forKey: stageID) else { return }
        var attributes: [(String, JSONValue)] = [("pipeline.stage", .string(stageID)), ("pipeline.stage.kind", .string(kind))]
        attributes += counts.map { ("pipeline.count.\($0.0)", .number(String($0.1))) }
        if let dropped = droppedChunks[stageID] { attributes.append(("pipeline.chunk_spans_dropped", .number(String(dropped)))) }
        spans.append(
            TraceSpan(
                spanID: stage.spanID, parentID: runSpanID, name: "stage \(stageID)", start: stage.start, end: Date(),
                attributes: attributes, status: error == nil ? .ok : .error, message: error))
    }

    /// Ends the run's span and sends the trace; failures are logged.
    func finish(pipeline: Pipeline, runID: String, status: RunStatus, error: String?, logger: Logger) {
        spans.append(
            TraceSpan(
                spanID: runSpanID, parentID: parentSpanID, name: "pipeline run \(pipeline.name)", start: start, end: Date(),
                attributes: [
                    ("pipeline.name", .string(pipeline.name)), ("pipeline.run_id", .string(runID)),
                    ("pipeline.status", .string(status.rawValue)),
                ],
                status: error == nil ? .ok : .error, message: error))
        let body = Array(OTLPTraces.request(traceID: traceID, spans: spans).serialized.utf8)
        do {
            let response = try Transfer.post(
                url: endpoint.url, headers: ["Content-Type: application/json"] + endpoint.headers, body: body,
                timeout: Self.exportTimeout)
            if response.isSuccess {
                logger.debug("trace.exported", "trace \(traceID) (\(spans.count) spans) sent to \(Transfer.peer(of: endpoint.url))")
            } else {
                logger.warning("trace.not-exported", "the trace collector at \(Transfer.peer(of: endpoint.url)) answered HTTP \(response.status)")
            }
        } catch {
            logger.warning("trace.not-exported", "could not send the trace: \(error)")
        }
    }
}

/// Where traces go: `traces: { endpoint }` in the file, else the OpenTelemetry environment variables
/// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`), with
/// `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,...`, often a token: never printed).
public struct TraceEndpoint: Sendable, Equatable {
    public var url: String
    public var headers: [String]

    static func resolve(file: WebURL?, environment: [String: String]) -> TraceEndpoint? {
        let headers = (environment["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] ?? environment["OTEL_EXPORTER_OTLP_HEADERS"] ?? "")
            .split(separator: ",").compactMap { pair -> String? in
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
                let value = (pair[pair.index(after: equals)...].removingPercentEncoding ?? "").trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, !(name + value).contains(where: { $0.isNewline }) else { return nil }
                return "\(name): \(value)"
            }
        if let file { return TraceEndpoint(url: file.text, headers: headers) }
        if let full = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], let url = WebURL(full) {
            return TraceEndpoint(url: url.text, headers: headers)
        }
        if let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"], let url = WebURL(base) {
            let text = url.text.hasSuffix("/") ? String(url.text.dropLast()) : url.text
            return TraceEndpoint(url: text + "/v1/traces", headers: headers)
        }
        return nil
    }
}

/// An `ExportTraceServiceRequest` in OTLP's JSON encoding: ids in hex, times as decimal strings of
/// nanoseconds, enums as numbers.
enum OTLPTraces {
    static func request(traceID: String, spans: [TraceSpan]) -> JSONValue {
        .object([
            (
                "resourceSpans",
                .array([
                    .object([
                        ("resource", .object([("attributes", attributes([("service.name", .string("pipeline"))]))])),
                        (
                            "scopeSpans",
                            .array([
                                .object([
                                    ("scope", .object([("name", .string("pipeline")), ("version", .string(ToolVersion.current))])),
                                    ("spans", .array(spans.map { span(traceID: traceID, $0) })),
                                ])
                            ])
                        ),
                    ])
                ])
            )
        ])
    }

    private static func span(traceID: String, _ span: TraceSpan) -> JSONValue {
        var members: [(String, JSONValue)] = [("traceId", .string(traceID)), ("spanId", .string(span.spanID))]
        if let parent = span.parentID { members.append(("parentSpanId", .string(parent))) }
        members += [
            ("name", .string(span.name)), ("kind", .number("1")),
            ("startTimeUnixNano", .string(nanoseconds(span.start))), ("endTimeUnixNano", .string(nanoseconds(span.end))),
            ("attributes", attributes(span.attributes)),
        ]
        var status: [(String, JSONValue)] = [("code", .number(String(span.status.rawValue)))]
        if let message = span.message { status.append(("message", .string(message))) }
        members.append(("status", .object(status)))
        return .object(members)
    }

    private static func attributes(_ pairs: [(String, JSONValue)]) -> JSONValue {
        .array(
            pairs.map { key, value in
                let typed: (String, JSONValue) =
                    switch value {
                    case .number(let text): ("intValue", .string(text))
                    case .bool(let flag): ("boolValue", .bool(flag))
                    default: ("stringValue", value)
                    }
                return .object([("key", .string(key)), ("value", .object([typed]))])
            })
    }

    private static func nanoseconds(_ date: Date) -> String {
        let value = date.timeIntervalSince1970
        let seconds = Int64(value)
        let nanos = Int64(((value - Double(seconds)) * 1_000_000_000).rounded())
        return String(seconds) + String(format: "%09lld", min(nanos, 999_999_999))
    }
}
