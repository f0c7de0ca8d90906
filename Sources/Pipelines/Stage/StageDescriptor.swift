/// A stage kind with its type erased, so the loader can hold all kinds in one catalog.
public struct StageDescriptor: Sendable {
    public let name: String
    public let summary: String
    public let parameters: [AnyParameter]
    public let counters: [Counter]
    public let outputs: [OutputDeclaration]
    public let events: [StageEvent]
    public let execution: StageExecution
    /// The schema family the kind's stages need in the pipeline's database; set by its `StageFamily`.
    public internal(set) var schema: SchemaFamily?
    /// The family the kind belongs to; set by its `StageFamily`.
    public internal(set) var family: String?
    private let bindStage: @Sendable (YAMLNode?, BindingContext) -> StageBinding

    public init<Kind: StageKind>(_ kind: Kind.Type) {
        name = Kind.name
        summary = Kind.summary
        parameters = Kind.parameters.parameters
        counters = Kind.counters
        outputs = Kind.outputs
        events = Kind.events
        execution = Kind.execution
        bindStage = { with, context in
            let binding = Kind.parameters.bind(
                with, kind: Kind.name, context: context.parameters, stageLocation: context.stageLocation)
            var result = StageBinding(
                diagnostics: binding.diagnostics, display: binding.display, deferred: binding.deferred,
                stageReferences: binding.stageReferences)
            guard let config = binding.config else { return result }
            for issue in Kind.check(config, in: context.workspace) {
                let location: SourceLocation =
                    switch issue.place {
                    case .parameter(let name): binding.locations[name] ?? with?.location ?? context.stageLocation
                    case .with: with?.location ?? context.stageLocation
                    case .uses: context.usesLocation
                    }
                result.diagnostics.append(Diagnostic(location, issue.message))
            }
            guard result.diagnostics.isEmpty else { return result }
            result.stage = Bound<Kind>(config: config, resolvedParameters: result.display)
            return result
        }
    }

    /// Reads a stage's `with:` (its `${...}` already substituted) into a ready-to-run stage, or returns
    /// every problem found; parameters that wait for earlier stages' outputs are listed as deferred.
    public func bind(_ with: YAMLNode?, context: BindingContext) -> StageBinding {
        bindStage(with, context)
    }

    /// The declared output named `name`.
    public func output(named name: String) -> OutputDeclaration? { outputs.first { $0.name == name } }
}

/// What binding a stage needs to know about the file around it.
public struct BindingContext: Sendable {
    public var parameters: ParameterContext
    public var workspace: Workspace
    /// Where the stage's mapping starts, for missing parameters.
    public var stageLocation: SourceLocation
    /// Where its `uses:` value stands, for problems of the kind as a whole.
    public var usesLocation: SourceLocation

    public init(parameters: ParameterContext, workspace: Workspace, stageLocation: SourceLocation, usesLocation: SourceLocation) {
        self.parameters = parameters
        self.workspace = workspace
        self.stageLocation = stageLocation
        self.usesLocation = usesLocation
    }
}

/// The result of binding one stage.
public struct StageBinding: Sendable {
    /// Nil when anything is wrong, or a parameter is deferred.
    public var stage: (any BoundStage)?
    public var diagnostics: [Diagnostic]
    public var display: [(name: String, value: String)]
    public var deferred: [String]
    public var stageReferences: [StageOutputReference]
}

/// A reference from one stage to another's outputs: `${stages.ID.outputs.NAME}` in a parameter, or a
/// parameter of type stage reference.
public struct StageOutputReference: Sendable, Equatable {
    public var stage: String
    public var outputs: [OutputRequirement]
    public var location: SourceLocation
    /// Set for a stage-reference parameter; nil for an interpolated reference.
    public var parameter: String?

    public init(stage: String, outputs: [OutputRequirement], location: SourceLocation, parameter: String? = nil) {
        self.stage = stage
        self.outputs = outputs
        self.location = location
        self.parameter = parameter
    }
}

/// A stage kind with its config read and checked.
public protocol BoundStage: Sendable {
    var resolvedParameters: [(name: String, value: String)] { get }
    func effects(in workspace: Workspace) -> StageEffects
    func preview(in context: PreviewContext) throws -> [String]
    func run(in context: StageContext) throws -> StageOutcome
}

struct Bound<Kind: StageKind>: BoundStage {
    let config: Kind.Config
    let resolvedParameters: [(name: String, value: String)]

    func effects(in workspace: Workspace) -> StageEffects { Kind.effects(of: config, in: workspace) }
    func preview(in context: PreviewContext) throws -> [String] { try Kind.preview(config, in: context) }
    func run(in context: StageContext) throws -> StageOutcome { try Kind.run(config, in: context) }
}
