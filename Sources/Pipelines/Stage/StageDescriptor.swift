/// A stage kind with its type erased, so the loader can hold all kinds in one catalog.
public struct StageDescriptor: Sendable {
    public let name: String
    public let summary: String
    public let parameters: [ParameterHelp]
    let bindStage:
        @Sendable (YAMLNode?, ParameterContext, SourceLocation) -> (stage: (any BoundStage)?, diagnostics: [Diagnostic])

    public init<Kind: StageKind>(_ kind: Kind.Type) {
        name = Kind.name
        summary = Kind.summary
        parameters = Kind.parameters.help
        bindStage = { with, context, location in
            let (config, diagnostics) = Kind.parameters.bind(
                with, kind: Kind.name, context: context, stageLocation: location)
            guard let config else { return (nil, diagnostics) }
            let issues = Kind.check(config).map {
                Diagnostic(ParameterSet<Kind.Config>.location(of: $0.parameter, in: with, default: location), $0.message)
            }
            guard issues.isEmpty else { return (nil, issues) }
            return (Bound<Kind>(config: config), [])
        }
    }

    /// Reads a stage's `with:` into a ready-to-run stage, or returns every problem found.
    public func bind(_ with: YAMLNode?, context: ParameterContext, stageLocation: SourceLocation)
        -> (stage: (any BoundStage)?, diagnostics: [Diagnostic])
    {
        bindStage(with, context, stageLocation)
    }
}

/// A stage kind with its config read and checked.
public protocol BoundStage: Sendable {
    var kindName: String { get }
    var resolvedParameters: [(name: String, value: String)] { get }
    func effects(in workspace: Workspace) -> StageEffects
    func run(in context: StageContext) throws -> StageOutcome
}

struct Bound<Kind: StageKind>: BoundStage {
    let config: Kind.Config

    var kindName: String { Kind.name }
    var resolvedParameters: [(name: String, value: String)] { Kind.parameters.display(config) }
    func effects(in workspace: Workspace) -> StageEffects { Kind.effects(of: config, in: workspace) }
    func run(in context: StageContext) throws -> StageOutcome { try Kind.run(config, in: context) }
}
