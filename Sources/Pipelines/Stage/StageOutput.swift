/// What kind of value a stage output is.
public enum OutputType: String, Sendable, Codable, CaseIterable {
    /// A file or folder path.
    case path
    /// A file with its SHA-256 and size.
    case file
    /// A whole number.
    case number
    /// A small JSON value (at most 64 KiB as text).
    case json
}

/// A value a stage can hand to later stages.
public protocol OutputValue: Sendable {
    static var outputType: OutputType { get }
    var recorded: RecordedOutput { get }
    init?(recorded: RecordedOutput)
}

/// One named output of a stage kind, declared once beside its parameters and counters:
///
/// ```swift
/// static let file = Output<FileDigest>("file", doc: "the written file with its SHA-256")
/// ...
/// return StageOutcome(counts: [...], outputs: [file.value(digest)])
/// ```
///
/// The engine records the values with the stage's completion and hands them to later stages that
/// reference them as `${stages.ID.outputs.NAME}` or through a stage-reference parameter, also when a
/// resumed run skips the completed stage.
public struct Output<Value: OutputValue>: Sendable {
    public let name: String
    public let doc: String

    public init(_ name: String, doc: String) {
        self.name = name
        self.doc = doc
    }

    public var declaration: OutputDeclaration { OutputDeclaration(name: name, type: Value.outputType, doc: doc) }

    public func value(_ value: Value) -> StageOutputValue { StageOutputValue(name: name, value: value.recorded) }
}

/// An output with its type erased, as a kind declares it.
public struct OutputDeclaration: Sendable, Equatable {
    public var name: String
    public var type: OutputType
    public var doc: String
}

/// What a parameter of type stage reference needs the referenced stage to declare.
public struct OutputRequirement: Sendable, Equatable {
    public var name: String
    /// Nil: any type (a `${stages...}` reference takes the output's text).
    public var type: OutputType?

    public init(_ name: String, _ type: OutputType?) {
        self.name = name
        self.type = type
    }
}

/// One output value a stage produced.
public struct StageOutputValue: Sendable, Equatable {
    public var name: String
    public var value: RecordedOutput
}

/// An output value as the state store keeps it.
public struct RecordedOutput: Sendable, Codable, Equatable {
    public var type: OutputType
    /// The path, the number in decimal, or the JSON text: what `${stages.ID.outputs.NAME}` becomes.
    public var text: String
    /// For `file`: the file's SHA-256 in hex and its size.
    public var sha256: String?
    public var bytes: Int64?

    public static let maximumJSONBytes = 64 * 1024

    public init(type: OutputType, text: String, sha256: String? = nil, bytes: Int64? = nil) {
        self.type = type
        self.text = text
        self.sha256 = sha256
        self.bytes = bytes
    }
}

/// The outputs one stage produced, by name.
public struct StageOutputs: Sendable, Equatable {
    public private(set) var values: [String: RecordedOutput] = [:]

    public init() {}
    public init(_ values: [String: RecordedOutput]) { self.values = values }

    public subscript<Value: OutputValue>(output: Output<Value>) -> Value? {
        values[output.name].flatMap(Value.init(recorded:))
    }

    public subscript(name: String) -> RecordedOutput? { values[name] }

    public var isEmpty: Bool { values.isEmpty }
    public var sorted: [(name: String, value: RecordedOutput)] {
        values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

/// A file a stage wrote, with its SHA-256 and size.
public struct FileDigest: OutputValue, Hashable {
    public var path: String
    public var sha256: String
    public var bytes: Int64

    public init(path: String, sha256: String, bytes: Int64) {
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
    }

    public static var outputType: OutputType { .file }
    public var recorded: RecordedOutput { RecordedOutput(type: .file, text: path, sha256: sha256, bytes: bytes) }
    public init?(recorded: RecordedOutput) {
        guard recorded.type == .file, let sha256 = recorded.sha256, let bytes = recorded.bytes else { return nil }
        self.init(path: recorded.text, sha256: sha256, bytes: bytes)
    }
}

extension FilePath: OutputValue {
    public static var outputType: OutputType { .path }
    public var recorded: RecordedOutput { RecordedOutput(type: .path, text: path) }
    public init?(recorded: RecordedOutput) {
        guard recorded.type == .path || recorded.type == .file else { return nil }
        self.init(recorded.text)
    }
}

extension Int64: OutputValue {
    public static var outputType: OutputType { .number }
    public var recorded: RecordedOutput { RecordedOutput(type: .number, text: String(self)) }
    public init?(recorded: RecordedOutput) {
        guard recorded.type == .number, let value = Int64(recorded.text) else { return nil }
        self = value
    }
}

extension JSONValue: OutputValue {
    public static var outputType: OutputType { .json }
    public var recorded: RecordedOutput { RecordedOutput(type: .json, text: serialized) }
    public init?(recorded: RecordedOutput) {
        guard recorded.type == .json, let value = try? JSONValue.parse(recorded.text) else { return nil }
        self = value
    }
}
