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
            // libpq's own reading decides; its complaint is not shown, as it may quote part of a password.
            guard PostgresConninfo.secrets(in: text) != nil else {
                throw PipelineError(
                    .config,
                    "libpq cannot read the database URL \(redact(text)); percent-encode special characters in the "
                        + "user name and password (/ as %2F, ? as %3F, @ as %40, # as %23, % as %25)")
            }
            return .postgres(url: text)
        }
        // libpq's key=value form, e.g. `host=db.example.com dbname=shop user=etl`.
        if text.contains("="), PostgresConninfo.secrets(in: text) != nil {
            return .postgres(url: text)
        }
        throw PipelineError(
            .config, "unknown database '\(redact(text))': use sqlite:PATH, postgres://user@host/dbname or host=... dbname=...")
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

    /// Hides the password of `scheme://user:password@host`, the values of secret query parameters and
    /// the secret values of a `key=value` string.
    public static func redact(_ text: String) -> String { SecretMask.locator(text) }

    /// The secrets the locator holds (none for SQLite), to hide wherever they might show.
    public var secrets: [String] {
        switch self {
        case .sqlite: []
        case .postgres(let url): SecretMask.secrets(ofLocator: url)
        }
    }
}
