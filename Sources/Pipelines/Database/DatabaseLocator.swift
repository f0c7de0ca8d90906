import Foundation

/// Which database a pipeline talks to: `sqlite:PATH` (the embedded default) or `postgres://...`.
/// Its description never contains a password.
public enum DatabaseLocator: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// Parses `sqlite:PATH` (relative paths against `base`), `postgres://` or `postgresql://` URLs.
    public static func parse(_ text: String, relativeTo base: String) throws(PipelineError) -> DatabaseLocator {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite:///abs/path
            guard !path.isEmpty else { throw PipelineError(.config, "sqlite: needs a path, e.g. sqlite:var/store.db") }
            return .sqlite(path: ParameterContext(baseDirectory: base).resolve(path))
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return .postgres(url: text)
        }
        throw PipelineError(
            .config, "unknown database '\(redact(text))': use sqlite:PATH or postgres://user@host/dbname")
    }

    public var dialect: SQLDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// The locator with any password replaced by `***`.
    public var redacted: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redact(url)
        }
    }

    public var description: String { redacted }

    /// Hides the password of `scheme://user:password@host` and the values of secret query parameters.
    public static func redact(_ text: String) -> String { SecretMask.url(text) }
}
