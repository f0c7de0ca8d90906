/// One parameter of a stage kind, declared once: its name, type, whether it is required, its default and
/// a one-line doc. The same declaration validates pipeline files, prints `pipeline stages` help and
/// fills the typed config the stage receives. A required parameter has no default at all: there is no
/// stand-in value to forget about.
///
/// ```swift
/// static let file = Parameter<FilePath>.required("file", doc: "the CSV file to read")
/// static let maxRejects = Parameter<Int>.optional("max_rejects", default: 0, doc: "...").atLeast(0)
/// ```
public struct Parameter<Value: ParameterValue>: Sendable {
    public let name: String
    public let doc: String
    /// Nil for a required parameter.
    let defaultValue: Value?
    let rules: [ParameterRule<Value>]
    /// For a parameter that names another stage: the outputs that stage must declare.
    let requiredOutputs: [OutputRequirement]

    public var isRequired: Bool { defaultValue == nil }

    public static func required(_ name: String, doc: String) -> Parameter {
        Parameter(name: name, doc: doc, defaultValue: nil, rules: [], requiredOutputs: [])
    }

    /// When absent, `default` stands.
    public static func optional(_ name: String, default value: Value, doc: String) -> Parameter {
        Parameter(name: name, doc: doc, defaultValue: value, rules: [], requiredOutputs: [])
    }

    /// An extra condition on the value, e.g. a range; `description` shows in help ("0 or more").
    public func checked(_ description: String, _ problem: @escaping @Sendable (Value) -> String?) -> Parameter {
        Parameter(
            name: name, doc: doc, defaultValue: defaultValue,
            rules: rules + [ParameterRule(description: description, problem: problem)], requiredOutputs: requiredOutputs)
    }

    /// Decodes and checks a value written in a pipeline file.
    func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Value {
        let value = try Value.decode(node, in: context)
        for rule in rules {
            if let message = rule.problem(value) { throw ParameterProblem(message) }
        }
        return value
    }

    var erased: AnyParameter {
        AnyParameter(
            name: name, doc: doc, typeName: Value.typeName, typeDescription: Value.typeDescription,
            isRequired: isRequired, defaultDisplay: defaultValue?.parameterDisplay,
            rules: rules.map(\.description), requiredOutputs: requiredOutputs)
    }
}

extension Parameter {
    /// Optional, absent by default.
    public static func optional<Wrapped>(_ name: String, doc: String) -> Parameter where Value == Wrapped? {
        Parameter(name: name, doc: doc, defaultValue: .some(nil), rules: [], requiredOutputs: [])
    }
}

extension Parameter where Value: Comparable & Sendable {
    /// The value must be at least `minimum`.
    public func atLeast(_ minimum: Value) -> Parameter {
        checked("\(minimum.parameterDisplay) or more") { value in
            value < minimum ? "must be \(minimum.parameterDisplay) or more, found \(value.parameterDisplay)" : nil
        }
    }

    /// The value must lie in `range`.
    public func within(_ range: ClosedRange<Value>) -> Parameter {
        checked("\(range.lowerBound.parameterDisplay) to \(range.upperBound.parameterDisplay)") { value in
            range.contains(value)
                ? nil
                : "must be between \(range.lowerBound.parameterDisplay) and \(range.upperBound.parameterDisplay), found \(value.parameterDisplay)"
        }
    }
}

extension Parameter where Value == StageReference {
    /// A parameter naming an earlier stage whose outputs this stage reads, e.g. `feed: fetch`. The loader
    /// checks that the stage exists, runs before this one and declares `outputs`.
    public static func stage(_ name: String, outputs: [OutputRequirement], doc: String) -> Parameter {
        Parameter(name: name, doc: doc, defaultValue: nil, rules: [], requiredOutputs: outputs)
    }
}

struct ParameterRule<Value>: Sendable {
    var description: String
    var problem: @Sendable (Value) -> String?
}

/// A parameter with its type erased, for help, lookups and reference checks.
public struct AnyParameter: Sendable {
    public var name: String
    public var doc: String
    public var typeName: String
    public var typeDescription: String
    public var isRequired: Bool
    /// How the default shows; nil for a required parameter.
    public var defaultDisplay: String?
    /// Extra conditions in words, e.g. "0 or more".
    public var rules: [String]
    public var requiredOutputs: [OutputRequirement]
}

/// A cross-parameter problem found after binding, e.g. "give either table or query".
public struct ConfigIssue: Sendable {
    public enum Place: Sendable, Equatable {
        /// The value of this parameter.
        case parameter(String)
        /// The stage's `with:` mapping.
        case with
        /// The stage's `uses:`: the kind itself does not fit, e.g. on this database.
        case uses
    }

    public var place: Place
    public var message: String

    public init(_ message: String, parameter: String? = nil) {
        self.place = parameter.map(Place.parameter) ?? .with
        self.message = message
    }

    public init(_ message: String, at place: Place) {
        self.place = place
        self.message = message
    }
}
