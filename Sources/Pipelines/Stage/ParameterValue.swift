import Foundation

/// Where a stage's parameter values are read: paths resolve against the pipeline file's folder, database
/// names against the file's `databases:`.
public struct ParameterContext: Sendable {
    public var baseDirectory: String
    /// The names declared under `databases:`.
    public var databaseNames: [String]

    public init(baseDirectory: String, databaseNames: [String] = []) {
        self.baseDirectory = baseDirectory
        self.databaseNames = databaseNames
    }

    public func resolve(_ path: String) -> String {
        let url =
            path.hasPrefix("/")
            ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
        return url.standardizedFileURL.path
    }
}

/// Why a value does not fit its declared type. The loader adds the place: the value's own, unless the
/// problem names a place inside it (an item of a list, a value of a map).
public struct ParameterProblem: Error, Sendable {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
}

/// A type a stage parameter can have. `decode` reads a YAML node whose `${...}` references are already
/// substituted; a value outside the type's range is a problem, never a trap.
public protocol ParameterValue: Sendable {
    /// A word or two for compact listings: `duration`, `list of path`.
    static var typeName: String { get }
    /// The type in words, with an example, for `pipeline stages KIND`.
    static var typeDescription: String { get }
    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Self
    /// How the value shows in `--dry-run`, `plan` and as a default in help; never a secret.
    var parameterDisplay: String { get }
}

extension ParameterValue {
    public static var typeDescription: String { typeName }
}

extension YAMLNode {
    /// The scalar text, or a problem naming what was found instead.
    public func scalar(expecting typeName: String) throws(ParameterProblem) -> (text: String, style: ScalarStyle) {
        guard case .scalar(let text, let style, _) = value else {
            throw ParameterProblem("expected \(typeName), found \(kindDescription)")
        }
        return (text, style)
    }
}

extension String: ParameterValue {
    public static var typeName: String { "string" }
    public static var typeDescription: String { "text" }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> String {
        try node.scalar(expecting: "a string").text
    }
    public var parameterDisplay: String {
        guard isEmpty || contains(where: { $0 == " " || $0.isNewline || $0 == "\"" }) else { return self }
        let escaped = replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}

extension Int: ParameterValue {
    public static var typeName: String { "int" }
    public static var typeDescription: String { "an integer" }
    /// Decimal digits with an optional sign; a number beyond 64 bits is refused, not wrapped.
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Int {
        let text = try node.scalar(expecting: "an integer").text
        guard let value = Int(text) else {
            let digits = text.drop { $0 == "-" || $0 == "+" }
            if !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) {
                throw ParameterProblem("the number '\(text)' is too large (the most is \(Int.max))")
            }
            throw ParameterProblem("expected an integer, found '\(text)'")
        }
        return value
    }
    public var parameterDisplay: String { String(self) }
}

extension Character {
    public var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Bool: ParameterValue {
    public static var typeName: String { "bool" }
    public static var typeDescription: String { "true or false" }
    /// Only `true` and `false`: YAML 1.1's `yes`, `no`, `on`, `off` are refused rather than guessed.
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Bool {
        let text = try node.scalar(expecting: "true or false").text
        switch text {
        case "true": return true
        case "false": return false
        default: throw ParameterProblem("expected true or false, found '\(text)'")
        }
    }
    public var parameterDisplay: String { self ? "true" : "false" }
}

extension Optional: ParameterValue where Wrapped: ParameterValue {
    public static var typeName: String { Wrapped.typeName }
    public static var typeDescription: String { Wrapped.typeDescription }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Wrapped? {
        if node.isNull { return nil }
        return try Wrapped.decode(node, in: context)
    }
    public var parameterDisplay: String { self?.parameterDisplay ?? "-" }
}

/// A file or directory path, resolved against the pipeline file's folder.
public struct FilePath: ParameterValue, Hashable, Codable {
    /// Absolute and normalised.
    public var path: String

    public init(_ path: String) { self.path = path }

    public static var typeName: String { "path" }
    public static var typeDescription: String { "a file or folder path, relative to the pipeline file's folder" }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> FilePath {
        let text = try node.scalar(expecting: "a path").text
        guard !text.isEmpty else { throw ParameterProblem("expected a path, found an empty string") }
        return FilePath(context.resolve(text))
    }
    public var parameterDisplay: String { path }
    public var lastComponent: String { (path as NSString).lastPathComponent }
    public var pathExtension: String { (path as NSString).pathExtension.lowercased() }
}

extension SQLName: ParameterValue {
    public static var typeName: String { "sql-name" }
    public static var typeDescription: String { "a table name, name or schema.name (letters, digits and _)" }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> SQLName {
        let text = try node.scalar(expecting: "a table name").text
        do { return try SQLName(validating: text) } catch { throw ParameterProblem(error.description) }
    }
    public var parameterDisplay: String { description }
}

/// Enumerations written as one of a fixed set of words, e.g. `format: csv|jsonl`; a misspelt word gets
/// a did-you-mean.
public protocol ParameterChoice: ParameterValue, CaseIterable, RawRepresentable<String> {}

extension ParameterChoice {
    public static var typeName: String { allCases.map(\.rawValue).joined(separator: "|") }
    public static var typeDescription: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Self {
        let text = try node.scalar(expecting: "one of \(typeName)").text
        guard let value = Self(rawValue: text) else {
            throw ParameterProblem(
                "expected one of \(allCases.map(\.rawValue).joined(separator: ", ")), found '\(text)'"
                    + Suggestion.hint(for: text, among: allCases.map(\.rawValue)))
        }
        return value
    }
    public var parameterDisplay: String { rawValue }
}
