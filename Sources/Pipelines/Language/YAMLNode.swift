/// A YAML document as the loader sees it: scalars keep their source text and style, so the
/// declared parameter type (not YAML 1.1 guessing) decides what `yes` or `010` means.
public struct YAMLNode: Sendable {
    public enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public enum Value: Sendable {
        case scalar(text: String, style: ScalarStyle, tag: String?)
        case mapping([(key: YAMLNode, value: YAMLNode)])
        case sequence([YAMLNode])
    }

    public var value: Value
    public var location: SourceLocation
    /// For a scalar whose text stands unchanged on one source line (no escapes, no folding), the column
    /// where that text starts; lets messages point inside the scalar, e.g. at a `${`.
    public var verbatimColumn: Int? = nil
    /// Set by the loader on a scalar holding a `${stages.ID.outputs.NAME}` reference, which is resolved
    /// only when the stage runs.
    public var hasDeferredReference = false
    /// Set by the loader on a scalar whose `${...}` could not be substituted: its problem is reported once,
    /// and the value is not read as well.
    public var hasSubstitutionProblem = false

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// The scalar's text, or nil for mappings and sequences.
    public var scalarText: String? {
        if case .scalar(let text, _, _) = value { return text }
        return nil
    }

    /// A plain `~`, `null`, `Null`, `NULL` or empty plain scalar.
    public var isNull: Bool {
        if case .scalar(let text, .plain, _) = value { return ["", "~", "null", "Null", "NULL"].contains(text) }
        return false
    }

    public var kindDescription: String {
        switch value {
        case .scalar: "a scalar"
        case .mapping: "a mapping"
        case .sequence: "a sequence"
        }
    }
}
