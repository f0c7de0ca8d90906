import Foundation

/// GET with retries: a timeout per request, and on 429, 5xx, a timeout or a broken connection another try
/// after an exponential backoff with full jitter (or the peer's `Retry-After`, up to `maximumWait`). Any
/// other answer is returned as it is, for the caller to judge. Credentials go in `headers` and are never
/// part of a message: failures name the peer only (`scheme://host:port`).
public struct HTTPFetch: Sendable {
    public var headers: [String]
    public var timeout: Duration
    /// Tries after the first.
    public var retries: Int
    public var maxBytes: Int
    public var firstBackoff: Duration = .milliseconds(250)
    public var maximumWait: Duration = .seconds(60)

    public init(headers: [String] = [], timeout: Duration, retries: Int, maxBytes: Int) {
        self.headers = headers
        self.timeout = timeout
        self.retries = retries
        self.maxBytes = maxBytes
    }

    /// Why a fetch came to nothing after its retries; `isRetryable` tells a peer that may answer later
    /// (the run should fail and be resumed) from one that said no for this resource.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var isRetryable: Bool
        /// The transfer's failure, when the last try failed below HTTP (`.tooLarge`: over `maxBytes`).
        public var code: TransferError.Code?
        public var description: String { message }
    }

    /// The answer (2xx or another status the peer gave for good), or a `Failure`. `stop` cuts a backoff
    /// short and ends the retries.
    public func get(_ url: String, stop: (() -> Bool)? = nil) throws(Failure) -> HTTPResponse {
        try send(url, stop: stop) { () throws(TransferError) in
            try Transfer.get(url: url, headers: headers, timeout: timeout, maxBytes: maxBytes)
        }
    }

    /// Uploads `files` as multipart/form-data, with the same retries as `get`.
    public func postForm(_ url: String, files: [Transfer.FormFile], stop: (() -> Bool)? = nil) throws(Failure) -> HTTPResponse {
        try send(url, stop: stop) { () throws(TransferError) in
            try Transfer.postForm(url: url, headers: headers, files: files, timeout: timeout)
        }
    }

    private func send(_ url: String, stop: (() -> Bool)?, _ request: () throws(TransferError) -> HTTPResponse) throws(Failure)
        -> HTTPResponse
    {
        var attempt = 0
        while true {
            let wait: Duration?
            let reason: String
            do {
                let response = try request()
                guard response.status == 429 || response.status >= 500 else { return response }
                reason = "HTTP \(response.status)"
                wait = response.headers["retry-after"].flatMap(Self.retryAfter)
            } catch {
                guard error.isRetryable else {
                    let isFinal = error.code == .tooLarge || error.code == .invalidRequest
                    throw Failure(message: error.description, isRetryable: !isFinal, code: error.code)
                }
                reason = error.description
                wait = nil
            }
            attempt += 1
            guard attempt <= retries, stop?() != true else {
                let tries = attempt == 1 ? "1 try" : "\(attempt) tries"
                throw Failure(message: "\(Transfer.peer(of: url)): \(reason) (after \(tries))", isRetryable: true, code: nil)
            }
            Self.sleep(min(wait ?? backoff(before: attempt), maximumWait), stop: stop)
        }
    }

    /// Full jitter: a random wait between 0 and firstBackoff × 2^(attempt-1).
    func backoff(before attempt: Int) -> Duration {
        let ceiling = firstBackoff * (1 << min(attempt - 1, 16))
        let milliseconds = max(Int(min(ceiling, maximumWait).milliseconds), 1)
        return .milliseconds(Int.random(in: 0...milliseconds))
    }

    /// `Retry-After` in seconds (the HTTP-date form is read as "soon": the backoff decides).
    static func retryAfter(_ text: String) -> Duration? {
        guard let seconds = Int(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 else { return nil }
        return .seconds(min(seconds, 3600))
    }

    private static func sleep(_ duration: Duration, stop: (() -> Bool)?) {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if stop?() == true { return }
            Thread.sleep(forTimeInterval: min(0.1, Double((end - ContinuousClock.now).milliseconds) / 1000))
        }
    }
}

extension HTTPFetch {
    /// Header lines `Name: value` whose values come from environment variables (a `headers_from_env`
    /// parameter, `{ Authorization: TOKEN_VARIABLE }`). A variable that is not set is a configuration
    /// error naming the variable, never a value.
    public static func headers(fromEnvironment map: ParameterMap<String>?) throws -> [String] {
        try (map?.entries ?? []).map { header, variable in
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw PipelineError(.config, "the variable \(variable) for the header \(header) is not set")
            }
            return "\(header): \(value)"
        }
    }
}
