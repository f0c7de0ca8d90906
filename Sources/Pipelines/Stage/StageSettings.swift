/// Settings every stage has, whatever its kind, written beside `uses:` in the pipeline file:
///
/// ```yaml
/// - id: load
///   uses: table.import
///   chunk_size: 10000               # rows per committed chunk; 0 = one chunk, no checkpoints
///   retries: { count: 3, backoff: 2s }
/// ```
public struct StageSettings: Sendable, Equatable {
    /// Nil: the stage kind's default.
    public var chunkSize: Int?
    public var retries = RetryPolicy()

    public init(chunkSize: Int? = nil, retries: RetryPolicy = RetryPolicy()) {
        self.chunkSize = chunkSize
        self.retries = retries
    }

    public static let keys = help.map(\.name)

    /// What `pipeline stages` prints for the settings.
    public static let help = [
        ParameterHelp(
            name: "chunk_size", typeName: "int", isRequired: false, defaultValue: String(defaultChunkSize),
            doc: "rows per committed chunk and checkpoint; 0 = one chunk, no checkpoints"),
        ParameterHelp(
            name: "retries", typeName: RetryPolicy.typeName, isRequired: false,
            defaultValue: RetryPolicy().parameterDisplay,
            doc: "retry transient failures (lost connection, deadlock, busy database) from the last checkpoint"),
    ]

    /// The default number of rows per chunk for stages that work in rows.
    public static let defaultChunkSize = 20_000

    mutating func assign(_ key: String, _ node: YAMLNode, context: ParameterContext) throws(ParameterProblem) {
        switch key {
        case "chunk_size":
            let size = try Int.decode(node, in: context)
            guard size >= 0 else { throw ParameterProblem("expected 0 (no checkpoints) or a positive number of rows, found \(size)") }
            chunkSize = size
        case "retries":
            retries = try RetryPolicy.decode(node, in: context)
        default:
            throw ParameterProblem("unknown stage setting '\(key)'")
        }
    }
}

/// How often and how patiently a stage is retried after a transient failure (a lost connection,
/// a serialization failure or deadlock, a busy database). Bad data is never retried.
public struct RetryPolicy: ParameterValue, Equatable {
    public var count = 0
    /// The wait before the first retry; each further retry waits twice as long, with jitter.
    public var backoff = Duration.seconds(1)

    public init(count: Int = 0, backoff: Duration = .seconds(1)) {
        self.count = count
        self.backoff = backoff
    }

    public static var typeName: String { "{count, backoff}" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> RetryPolicy {
        guard case .mapping(let pairs) = node.value else {
            throw ParameterProblem("expected { count: N, backoff: 1s }, found \(node.kindDescription)")
        }
        var policy = RetryPolicy()
        for (key, value) in pairs {
            switch key.scalarText {
            case "count":
                policy.count = try Int.decode(value, in: context)
                guard (0...100).contains(policy.count) else { throw ParameterProblem("count must be between 0 and 100") }
            case "backoff":
                policy.backoff = try Duration.parse(value.scalar(expecting: "a duration").text)
            default:
                throw ParameterProblem("unknown key '\(key.scalarText ?? "?")' in retries (use count and backoff)")
            }
        }
        return policy
    }

    public var parameterDisplay: String { "{count: \(count), backoff: \(backoff.text)}" }

    /// The wait before retry number `attempt` (1-based): backoff × 2^(attempt-1), scaled by a random
    /// factor between 0.5 and 1.5 so that many runs failing together do not retry in step.
    public func delay(beforeRetry attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 16)
        let base = backoff * (1 << exponent)
        return base * Double.random(in: 0.5...1.5)
    }
}

extension Duration {
    /// `250ms`, `2s`, `1m`, `1h`, or a plain number of seconds.
    static func parse(_ text: String) throws(ParameterProblem) -> Duration {
        let units: [(suffix: String, scale: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let amount = Int64(text.dropLast(suffix.count)), amount >= 0 {
                return .milliseconds(amount * scale)
            }
        }
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        throw ParameterProblem("expected a duration such as 500ms, 2s or 1m, found '\(text)'")
    }

    var text: String {
        let milliseconds = components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
