import Foundation

/// One entry of a `notify:` block: which events go to which channel.
public struct NotifyRule: Sendable {
    public var events: [String]
    public var channel: NotifyChannel
    /// Set for a rule in a stage's own `notify:`: only that stage's events.
    public var stageID: String?
    public var location: SourceLocation

    public init(events: [String], channel: NotifyChannel, stageID: String? = nil, location: SourceLocation) {
        self.events = events
        self.channel = channel
        self.stageID = stageID
        self.location = location
    }

    func matches(event: String, stageID: String?) -> Bool {
        events.contains(event) && (self.stageID == nil || self.stageID == stageID)
    }
}

/// Where notifications go. Secrets are never part of it: only the names of the environment variables
/// that hold them, read when a notification is sent.
public enum NotifyChannel: Sendable, Equatable {
    case webhook(Webhook)
    case email(Email)
    case command(Command)

    public struct Webhook: Sendable, Equatable {
        public var url: WebURL
        /// The environment variable holding the HMAC-SHA256 signing secret; unsigned when nil.
        public var secretEnv: String?
        public var timeout: Duration
        public var retries: Int
    }

    public struct Email: Sendable, Equatable {
        public var to: [String]
        public var from: String
        /// `smtp://host:port` (STARTTLS when offered) or `smtps://host:port`.
        public var server: String
        public var usernameEnv: String?
        public var passwordEnv: String?
        public var timeout: Duration
        public var retries: Int
    }

    public struct Command: Sendable, Equatable {
        public var arguments: [String]
        /// The pipeline file's folder, where the program runs (relative paths in it mean what they mean in the file).
        public var directory: String
        public var timeout: Duration
        public var retries: Int
    }

    /// How the channel is named in logs, records and `runs show`: never a URL's path or query, which
    /// often carry a token.
    public var display: String {
        switch self {
        case .webhook(let hook): "webhook \(Transfer.peer(of: hook.url.text))"
        case .email(let mail): "email to \(mail.to.joined(separator: ", ")) via \(Transfer.peer(of: mail.server))"
        case .command(let command): "command \(command.arguments.first ?? "")"
        }
    }

    /// Identifies the channel in the outbox across runs, as long as the file names the same destination.
    var key: String {
        let destination: String =
            switch self {
            case .webhook(let hook): "webhook\n\(hook.url.text)"
            case .email(let mail): "email\n\(mail.server)\n\(mail.to.joined(separator: "\n"))"
            case .command(let command): "command\n\(command.arguments.joined(separator: "\n"))"
            }
        return String((try? SHA256.hex(of: destination))?.prefix(16) ?? "")
    }

    var timeout: Duration {
        switch self {
        case .webhook(let hook): hook.timeout
        case .email(let mail): mail.timeout
        case .command(let command): command.timeout
        }
    }

    var retries: Int {
        switch self {
        case .webhook(let hook): hook.retries
        case .email(let mail): mail.retries
        case .command(let command): command.retries
        }
    }
}

/// The events the engine itself raises; stage kinds add theirs (`import.rejects`, ...).
public enum RunEvents {
    public static let started = "run.started"
    public static let completed = "run.completed"
    public static let failed = "run.failed"
    public static let stageCompleted = "stage.completed"
    /// A stage finished having rejected rows (its `rejected` counter is above zero).
    public static let stageRejects = "stage.rejects"
    /// Sent by `pipeline notify test`.
    public static let test = "notify.test"

    public static let runLevel = [started, completed, failed]
    public static let stageLevel = [stageCompleted, stageRejects]
}
