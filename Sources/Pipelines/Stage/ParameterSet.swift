/// The parameters of one stage kind and how their values make the kind's config:
///
/// ```swift
/// static let parameters = ParameterSet(file, table, maxRejects) { file, table, maxRejects in
///     Config(file: file, table: table, maxRejects: maxRejects)
/// }
/// ```
///
/// The closure gets one typed value per parameter, in declaration order, so a config is never built
/// from half-read or stand-in values.
public struct ParameterSet<Config: Sendable>: Sendable {
    public let parameters: [AnyParameter]
    private let decodeAll:
        @Sendable ([String: YAMLNode], ParameterContext, inout ParameterBinding<Config>) -> Config?

    public init<each Value: ParameterValue>(
        _ parameter: repeat Parameter<each Value>, make: @escaping @Sendable (repeat each Value) -> Config
    ) {
        var erased: [AnyParameter] = []
        for declared in repeat each parameter { erased.append(declared.erased) }
        parameters = erased
        let declarations = (repeat each parameter)
        decodeAll = { provided, context, binding in
            let values = (repeat Self.value(of: each declarations, provided, context, &binding))
            guard binding.diagnostics.isEmpty, binding.deferred.isEmpty, !binding.hasSubstitutionProblems else { return nil }
            do {
                return make(repeat try Self.unwrap(each values))
            } catch {
                return nil
            }
        }
    }

    /// Reads a stage's `with:` mapping. All problems are returned, not just the first. Parameters whose
    /// value holds a `${stages.ID.outputs.NAME}` reference are left for the run (`deferred`).
    public func bind(_ with: YAMLNode?, kind: String, context: ParameterContext, stageLocation: SourceLocation)
        -> ParameterBinding<Config>
    {
        var binding = ParameterBinding<Config>()
        var provided: [String: YAMLNode] = [:]
        if let with, !with.isNull {
            guard case .mapping(let pairs) = with.value else {
                binding.diagnostics.append(Diagnostic(with.location, "'with' must be a mapping, found \(with.kindDescription)"))
                return binding
            }
            let names = Set(parameters.map(\.name))
            for (key, value) in pairs {
                guard let name = key.scalarText else {
                    binding.diagnostics.append(Diagnostic(key.location, "parameter names must be scalars"))
                    continue
                }
                guard names.contains(name) else {
                    binding.diagnostics.append(
                        Diagnostic(
                            key.location,
                            "unknown parameter '\(name)' for \(kind)"
                                + Suggestion.hint(for: name, among: parameters.map(\.name))))
                    continue
                }
                if provided[name] == nil { provided[name] = value }  // the parser reports duplicate keys
            }
        }
        binding.missingAt = with?.location ?? stageLocation
        binding.kind = kind
        binding.config = decodeAll(provided, context, &binding)
        return binding
    }

    private static func value<Value: ParameterValue>(
        of parameter: Parameter<Value>, _ provided: [String: YAMLNode], _ context: ParameterContext,
        _ binding: inout ParameterBinding<Config>
    ) -> Value? {
        guard let node = provided[parameter.name] else {
            guard let value = parameter.defaultValue else {
                binding.diagnostics.append(
                    Diagnostic(binding.missingAt, "missing required parameter '\(parameter.name)' for \(binding.kind)"))
                return nil
            }
            binding.display.append((parameter.name, value.parameterDisplay))
            return value
        }
        if node.contains(\.hasSubstitutionProblem) {
            binding.hasSubstitutionProblems = true
            return nil
        }
        if node.contains(\.hasDeferredReference) {
            binding.deferred.append(parameter.name)
            binding.display.append((parameter.name, node.writtenText))
            return nil
        }
        do {
            let value = try parameter.decode(node, in: context)
            if let reference = value as? StageReference {
                binding.stageReferences.append(
                    StageOutputReference(
                        stage: reference.id, outputs: parameter.requiredOutputs, location: node.location,
                        parameter: parameter.name))
            }
            binding.display.append((parameter.name, value.parameterDisplay))
            binding.locations[parameter.name] = node.location
            return value
        } catch {
            binding.diagnostics.append(
                Diagnostic(error.location ?? node.location, "parameter '\(parameter.name)': \(error.message)"))
            return nil
        }
    }

    private static func unwrap<Value>(_ value: Value?) throws -> Value {
        guard let value else { throw ParameterProblem("unbound parameter") }
        return value
    }
}

/// The result of reading one stage's `with:`.
public struct ParameterBinding<Config> {
    /// Nil when anything is wrong or deferred.
    public var config: Config?
    public var diagnostics: [Diagnostic] = []
    /// Each parameter's value as shown by `--dry-run`, in declaration order.
    public var display: [(name: String, value: String)] = []
    /// Parameters whose values wait for earlier stages' outputs.
    public var deferred: [String] = []
    /// Stages named by parameters of type stage reference.
    public var stageReferences: [StageOutputReference] = []
    /// Where each parameter's value stands in the file.
    public var locations: [String: SourceLocation] = [:]
    /// A value's `${...}` failed (reported by the loader): no config, and no second problem about it.
    public var hasSubstitutionProblems = false
    var missingAt = SourceLocation(file: "", line: 1, column: 1)
    var kind = ""
}

extension YAMLNode {
    /// Whether a scalar anywhere below has the flag, e.g. a `${stages...}` reference only a run can resolve.
    func contains(_ flag: KeyPath<YAMLNode, Bool>) -> Bool {
        switch value {
        case .scalar: self[keyPath: flag]
        case .mapping(let pairs): pairs.contains { $0.value.contains(flag) }
        case .sequence(let items): items.contains { $0.contains(flag) }
        }
    }

    /// The value as written, for showing a deferred parameter.
    var writtenText: String {
        switch value {
        case .scalar(let text, _, _): text
        case .mapping(let pairs): "{" + pairs.map { "\($0.key.scalarText ?? "?"): \($0.value.writtenText)" }.joined(separator: ", ") + "}"
        case .sequence(let items): "[" + items.map(\.writtenText).joined(separator: ", ") + "]"
        }
    }
}
