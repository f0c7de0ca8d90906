import Foundation

/// A table or column name from a pipeline file: checked against a strict pattern and always quoted
/// when it reaches SQL, never pasted in as written.
public struct SQLName: Hashable, Sendable, CustomStringConvertible {
    /// `schema.table` splits into two parts; a plain name has one.
    public let parts: [String]

    public static let maximumLength = 63

    /// Stands in for a required name before a pipeline file's value is bound.
    public static let unset = SQLName(parts: ["unset"])

    private init(parts: [String]) { self.parts = parts }

    /// A name written in this code base, not taken from a pipeline file.
    init(trusted name: String) { parts = [name] }

    public init(validating text: String) throws(SQLNameError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else { throw SQLNameError(text: text, reason: "use name or schema.name") }
        for part in parts {
            guard let first = part.unicodeScalars.first else {
                throw SQLNameError(text: text, reason: "empty name")
            }
            guard part.utf8.count <= Self.maximumLength else {
                throw SQLNameError(text: text, reason: "longer than \(Self.maximumLength) bytes")
            }
            guard first == "_" || (first.isASCII && first.properties.isAlphabetic),
                part.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) })
            else {
                throw SQLNameError(text: text, reason: "only letters, digits and _ are allowed, starting with a letter or _")
            }
        }
        self.parts = parts
    }

    /// The name as a quoted SQL identifier, valid in SQLite and PostgreSQL.
    public var quoted: String { parts.map { "\"\($0)\"" }.joined(separator: ".") }

    /// A table beside this one, in the same schema: its name with `suffix`, shortened to fit the
    /// 63-byte limit.
    public func sibling(suffix: String) -> SQLName {
        let base = String(decoding: name.utf8.prefix(Self.maximumLength - suffix.utf8.count), as: UTF8.self)
        return SQLName(parts: parts.dropLast() + [base + suffix])
    }

    /// The last part: the table's own name.
    public var name: String { parts[parts.count - 1] }

    public var description: String { parts.joined(separator: ".") }

    /// Quotes an identifier that comes from data (a CSV header, a database catalogue) rather than from the
    /// pipeline file: any text is allowed, embedded quotes are doubled.
    public static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

public struct SQLNameError: Error, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "invalid SQL name '\(text)': \(reason)" }
}
