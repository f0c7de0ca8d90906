/// A pipeline file, read and checked: every stage is bound to its kind and the stages are in run order.
public struct Pipeline: Sendable {
    public var name: String
    public var description: String?
    /// The path as the user gave it, as it appears in messages.
    public var file: String
    /// The absolute folder of the file; relative paths in the file resolve against it.
    public var baseDirectory: String
    /// In declared order, with `--param` overrides applied and `${...}` substituted.
    public var params: [(name: String, value: String)]
    public var database: DatabaseLocator
    /// Where runs, stage runs and checkpoints are kept.
    public var state: DatabaseLocator
    /// Params that do not make a run a different run (declared with `identifying: false`).
    public var nonIdentifyingParams: Set<String>
    /// In topological order; among stages that are ready at the same time, file order decides.
    public var stages: [PipelineStage]

    public init(
        name: String, description: String?, file: String, baseDirectory: String,
        params: [(name: String, value: String)], database: DatabaseLocator, state: DatabaseLocator,
        nonIdentifyingParams: Set<String> = [], stages: [PipelineStage]
    ) {
        self.name = name
        self.description = description
        self.file = file
        self.baseDirectory = baseDirectory
        self.params = params
        self.database = database
        self.state = state
        self.nonIdentifyingParams = nonIdentifyingParams
        self.stages = stages
    }

    public func stage(id: String) -> PipelineStage? { stages.first { $0.id == id } }
}

/// One stage of a loaded pipeline.
public struct PipelineStage: Sendable {
    public var id: String
    /// The stage kind's name, as in `uses:`.
    public var kind: String
    public var description: String?
    /// The ids of the stages that must finish first, explicit or the default (the stage before it).
    public var needs: [String]
    /// Where the stage's mapping starts in the file.
    public var location: SourceLocation
    public var settings: StageSettings
    public var stage: any BoundStage

    public init(
        id: String, kind: String, description: String? = nil, needs: [String], location: SourceLocation,
        settings: StageSettings = StageSettings(), stage: any BoundStage
    ) {
        self.id = id
        self.kind = kind
        self.description = description
        self.needs = needs
        self.location = location
        self.settings = settings
        self.stage = stage
    }
}
