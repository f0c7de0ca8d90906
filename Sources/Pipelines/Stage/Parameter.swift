/// One parameter of a stage kind, declared once: its name, type, whether it is required, its default
/// (read from the stage's default config) and a one-line doc. The same declaration validates pipeline
/// files, prints `pipeline stages` help and fills the typed config the stage receives.
public struct Parameter<Config: Sendable>: Sendable {
    public let name: String
    public let typeName: String
    public let doc: String
    public let isRequired: Bool
    let assign: @Sendable (inout Config, YAMLNode, ParameterContext) throws(ParameterProblem) -> Void
    let display: @Sendable (Config) -> String

    public static func required<T: ParameterValue>(
        _ name: String, _ keyPath: WritableKeyPath<Config, T> & Sendable, doc: String
    ) -> Parameter {
        make(name, keyPath, doc: doc, isRequired: true)
    }

    /// Optional: when absent, the value in the stage's default config stands.
    public static func optional<T: ParameterValue>(
        _ name: String, _ keyPath: WritableKeyPath<Config, T> & Sendable, doc: String
    ) -> Parameter {
        make(name, keyPath, doc: doc, isRequired: false)
    }

    private static func make<T: ParameterValue>(
        _ name: String, _ keyPath: WritableKeyPath<Config, T> & Sendable, doc: String, isRequired: Bool
    ) -> Parameter {
        Parameter(
            name: name, typeName: T.typeName, doc: doc, isRequired: isRequired,
            assign: { (config: inout Config, node: YAMLNode, context: ParameterContext) throws(ParameterProblem) in
                config[keyPath: keyPath] = try T.decode(node, in: context)
            },
            display: { $0[keyPath: keyPath].parameterDisplay })
    }
}

/// What `pipeline stages` prints for one parameter.
public struct ParameterHelp: Sendable {
    public var name: String
    public var typeName: String
    public var isRequired: Bool
    public var defaultValue: String?
    public var doc: String
}

/// A cross-parameter problem found after binding, e.g. "give either table or query".
public struct ConfigIssue: Sendable {
    /// The parameter to point at; nil points at the stage's `with`.
    public var parameter: String?
    public var message: String

    public init(_ message: String, parameter: String? = nil) {
        self.parameter = parameter
        self.message = message
    }
}

/// The parameters of one stage kind and the config they fill.
public struct ParameterSet<Config: Sendable>: Sendable {
    public let defaults: Config
    public let parameters: [Parameter<Config>]

    public init(defaults: Config, _ parameters: [Parameter<Config>]) {
        self.defaults = defaults
        self.parameters = parameters
    }

    public var help: [ParameterHelp] {
        parameters.map {
            ParameterHelp(
                name: $0.name, typeName: $0.typeName, isRequired: $0.isRequired,
                defaultValue: $0.isRequired ? nil : $0.display(defaults), doc: $0.doc)
        }
    }

    /// The resolved value of every parameter, for `--dry-run`.
    public func display(_ config: Config) -> [(name: String, value: String)] {
        parameters.map { ($0.name, $0.display(config)) }
    }

    /// Reads a stage's `with:` mapping. All problems are returned, not just the first.
    /// `with` is nil when the stage has none; `stageLocation` is where missing parameters are reported.
    public func bind(
        _ with: YAMLNode?, kind: String, context: ParameterContext, stageLocation: SourceLocation
    ) -> (config: Config?, diagnostics: [Diagnostic]) {
        var config = defaults
        var diagnostics: [Diagnostic] = []
        var seen: Set<String> = []
        var entries: [(key: YAMLNode, value: YAMLNode)] = []
        if let with, !with.isNull {
            guard case .mapping(let pairs) = with.value else {
                return (nil, [Diagnostic(with.location, "'with' must be a mapping, found \(with.kindDescription)")])
            }
            entries = pairs
        }
        let byName = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (key, value) in entries {
            guard let name = key.scalarText else {
                diagnostics.append(Diagnostic(key.location, "parameter names must be scalars"))
                continue
            }
            guard seen.insert(name).inserted else { continue }  // the loader reports duplicate keys
            guard let parameter = byName[name] else {
                diagnostics.append(
                    Diagnostic(
                        key.location,
                        "unknown parameter '\(name)' for \(kind)" + Suggestion.hint(for: name, among: parameters.map(\.name))))
                continue
            }
            do {
                try parameter.assign(&config, value, context)
            } catch {
                diagnostics.append(Diagnostic(value.location, "parameter '\(name)': \(error.message)"))
            }
        }
        let location = with?.location ?? stageLocation
        for parameter in parameters where parameter.isRequired && !seen.contains(parameter.name) {
            diagnostics.append(Diagnostic(location, "missing required parameter '\(parameter.name)' for \(kind)"))
        }
        return diagnostics.isEmpty ? (config, []) : (nil, diagnostics)
    }

    /// The location of a parameter's value in `with`, for issues found after binding.
    public static func location(of parameter: String?, in with: YAMLNode?, default fallback: SourceLocation)
        -> SourceLocation
    {
        guard let parameter, let with, case .mapping(let pairs) = with.value,
            let pair = pairs.first(where: { $0.key.scalarText == parameter })
        else { return with?.location ?? fallback }
        return pair.value.location
    }
}
