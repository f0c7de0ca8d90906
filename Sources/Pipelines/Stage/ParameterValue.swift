import Foundation

/// Where a stage's parameter values are read: paths resolve against the pipeline file's folder.
public struct ParameterContext: Sendable {
    public var baseDirectory: String

    public init(baseDirectory: String) { self.baseDirectory = baseDirectory }

    public func resolve(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true))
        return url.standardizedFileURL.path
    }
}

/// Why a value does not fit its declared type; the loader adds the place.
public struct ParameterProblem: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// A type a stage parameter can have. Its `typeName` shows in `pipeline stages`; `decode` reads a YAML node
/// whose `${...}` references are already substituted.
public protocol ParameterValue: Sendable {
    static var typeName: String { get }
    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Self
    /// How the value shows in `--dry-run` and as a default in help.
    var parameterDisplay: String { get }
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
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Int {
        let text = try node.scalar(expecting: "an integer").text
        guard let value = Int(text) else { throw ParameterProblem("expected an integer, found '\(text)'") }
        return value
    }
    public var parameterDisplay: String { String(self) }
}

extension Bool: ParameterValue {
    public static var typeName: String { "bool" }
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
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Wrapped? {
        if node.isNull { return nil }
        return try Wrapped.decode(node, in: context)
    }
    public var parameterDisplay: String { self?.parameterDisplay ?? "-" }
}

/// A file or directory path, resolved against the pipeline file's folder.
public struct FilePath: ParameterValue, Hashable {
    /// Absolute and normalised.
    public var path: String

    public init(_ path: String) { self.path = path }

    public static var typeName: String { "path" }
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
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> SQLName {
        let text = try node.scalar(expecting: "a table name").text
        do { return try SQLName(validating: text) } catch { throw ParameterProblem(error.description) }
    }
    public var parameterDisplay: String { description }
}

/// Enumerations written as one of a fixed set of words, e.g. `format: csv|jsonl`.
public protocol ParameterChoice: ParameterValue, CaseIterable, RawRepresentable<String> {}

extension ParameterChoice {
    public static var typeName: String { allCases.map(\.rawValue).joined(separator: "|") }
    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Self {
        let text = try node.scalar(expecting: "one of \(typeName)").text
        guard let value = Self(rawValue: text) else {
            throw ParameterProblem(
                "expected one of \(typeName), found '\(text)'" + Suggestion.hint(for: text, among: allCases.map(\.rawValue)))
        }
        return value
    }
    public var parameterDisplay: String { rawValue }
}
