/// Settings the engine reads beside `uses:`, for the kinds they apply to:
///
/// ```yaml
/// - id: load
///   uses: table.import
///   chunk_size: 10000               # kinds that work in chunks; 0 = one chunk, no checkpoints
///   retries: { count: 3, backoff: 2s }   # kinds that may be retried
/// ```
public struct StageSettings: Sendable, Equatable {
    /// Nil: the kind's default.
    public var chunkSize: Int?
    public var retries = RetryPolicy()

    public init(chunkSize: Int? = nil, retries: RetryPolicy = RetryPolicy()) {
        self.chunkSize = chunkSize
        self.retries = retries
    }

    public static let keys = ["chunk_size", "retries"]

    /// Units per committed chunk for a kind with `execution`; 0 for a kind without chunks.
    public func chunkSize(for execution: StageExecution) -> Int {
        chunkSize ?? execution.defaultChunkSize ?? 0
    }

    /// What `pipeline stages` prints for the settings a kind takes.
    public static func help(for execution: StageExecution) -> [AnyParameter] {
        var help: [AnyParameter] = []
        if let size = execution.defaultChunkSize {
            help.append(
                AnyParameter(
                    name: "chunk_size", doc: "\(execution.chunkUnit) per committed chunk and checkpoint; 0 = one chunk, no checkpoints",
                    typeName: "int", typeDescription: "an integer", isRequired: false, defaultDisplay: String(size),
                    rules: ["0 or more"], requiredOutputs: []))
        }
        if execution.retryable {
            help.append(
                AnyParameter(
                    name: "retries",
                    doc: "retry transient failures (lost connection, deadlock, busy database) from the last checkpoint",
                    typeName: RetryPolicy.typeName, typeDescription: RetryPolicy.typeDescription, isRequired: false,
                    defaultDisplay: RetryPolicy().parameterDisplay, rules: [], requiredOutputs: []))
        }
        return help
    }

    /// Why `key` does not apply to a kind with `execution`, if it does not.
    static func inapplicable(_ key: String, kind: String, execution: StageExecution) -> String? {
        switch key {
        case "chunk_size" where !execution.isChunked:
            "'chunk_size' does not apply to \(kind): it does its work whole, without chunks"
        case "retries" where !execution.retryable:
            "'retries' does not apply to \(kind): it cannot be retried safely"
        default: nil
        }
    }

    mutating func assign(_ key: String, _ node: YAMLNode, execution: StageExecution, context: ParameterContext)
        throws(ParameterProblem)
    {
        switch key {
        case "chunk_size":
            let size = try Int.decode(node, in: context)
            guard size >= 0 else {
                throw ParameterProblem("expected 0 (no checkpoints) or a positive number of \(execution.chunkUnit), found \(size)")
            }
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
    /// The wait before the first retry; each further retry waits twice as long, with jitter, up to `longestWait`.
    public var backoff = Duration.seconds(1)

    public static let maximumCount = 100
    public static let longestWait = Duration.seconds(3600)

    public init(count: Int = 0, backoff: Duration = .seconds(1)) {
        self.count = count
        self.backoff = backoff
    }

    public static var typeName: String { "{count, backoff}" }
    public static var typeDescription: String {
        "{ count: N, backoff: DURATION }: up to N retries (0 to \(maximumCount)), the first after backoff (at most 1h)"
    }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> RetryPolicy {
        guard case .mapping(let pairs) = node.value else {
            throw ParameterProblem("expected { count: N, backoff: 1s }, found \(node.kindDescription)")
        }
        var policy = RetryPolicy()
        for (key, value) in pairs {
            switch key.scalarText {
            case "count":
                policy.count = try Int.decode(value, in: context)
                guard (0...maximumCount).contains(policy.count) else {
                    throw ParameterProblem("count must be between 0 and \(maximumCount), found \(policy.count)", at: value.location)
                }
            case "backoff":
                policy.backoff = try Duration.decode(value, in: context)
                guard policy.backoff <= longestWait else {
                    throw ParameterProblem("backoff must be at most 1h, found \(policy.backoff.text)", at: value.location)
                }
            default:
                throw ParameterProblem(
                    "unknown key '\(key.scalarText ?? "?")' in retries (use count and backoff)", at: key.location)
            }
        }
        return policy
    }

    public var parameterDisplay: String { "{count: \(count), backoff: \(backoff.text)}" }

    /// The wait before retry number `attempt` (1-based): backoff × 2^(attempt-1), at most `longestWait`,
    /// scaled by a random factor between 0.5 and 1.5 so that many runs failing together do not retry in step.
    public func delay(beforeRetry attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 16)
        let base = min(backoff * (1 << exponent), Self.longestWait)
        return base * Double.random(in: 0.5...1.5)
    }
}
