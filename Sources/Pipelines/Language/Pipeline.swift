import Foundation

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
    /// The extra databases named under `databases:`.
    public var databases: [String: DatabaseLocator]
    /// Where runs, stage runs and checkpoints are kept.
    public var state: DatabaseLocator
    /// Params that do not make a run a different run (declared with `identifying: false`).
    public var nonIdentifyingParams: Set<String>
    /// When timers run the pipeline, and the slot this load is for (set exactly when `schedule` is).
    public var schedule: Schedule?
    public var slot: Date?
    /// In topological order; among stages that are ready at the same time, file order decides.
    public var stages: [PipelineStage]
    /// The `notify:` rules of the file and of its stages.
    public var notify: [NotifyRule] = []
    /// `metrics: { textfile: DIR }`: where each run's Prometheus textfile goes.
    public var metricsDirectory: String?
    /// `traces: { endpoint }`: the OTLP/HTTP URL the run's trace goes to.
    public var tracesEndpoint: WebURL?

    public init(
        name: String, description: String?, file: String, baseDirectory: String,
        params: [(name: String, value: String)], database: DatabaseLocator, databases: [String: DatabaseLocator] = [:],
        state: DatabaseLocator, nonIdentifyingParams: Set<String> = [], schedule: Schedule? = nil, slot: Date? = nil,
        stages: [PipelineStage]
    ) {
        self.schedule = schedule
        self.slot = slot
        self.name = name
        self.description = description
        self.file = file
        self.baseDirectory = baseDirectory
        self.params = params
        self.database = database
        self.databases = databases
        self.state = state
        self.nonIdentifyingParams = nonIdentifyingParams
        self.stages = stages
    }

    public func stage(id: String) -> PipelineStage? { stages.first { $0.id == id } }

    /// Every secret the file's locators hold (database passwords, also those spliced in from a param):
    /// hidden wherever the run shows or records text.
    public var secrets: [String] {
        ([database, state] + databases.values).flatMap(\.secrets)
    }

    /// The params as they may be shown and recorded: those whose values went into a secret are `***`.
    public var displayedParams: [(name: String, value: String)] {
        let masked = SecretMask.params(Dictionary(params.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }), hiding: secrets)
        return params.map { ($0.name, masked[$0.name] ?? $0.value) }
    }

    public var workspace: Workspace {
        Workspace(
            database: database, databases: databases, baseDirectory: baseDirectory,
            workDirectory: Self.workDirectory(of: baseDirectory))
    }

    static func workDirectory(of baseDirectory: String) -> String {
        baseDirectory == "/" ? "/var" : baseDirectory + "/var"
    }
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
    public var descriptor: StageDescriptor
    public var binding: Binding
    /// Each parameter's value for `--dry-run`; a deferred one shows its `${stages...}` reference.
    public var resolvedParameters: [(name: String, value: String)]
    /// Where each parameter's value stands in the file, for runtime errors about it.
    public var parameterLocations: [String: SourceLocation]
    /// The earlier stages whose outputs this one reads.
    public var references: [StageOutputReference]

    /// A stage is ready when the file says everything, or waits for earlier stages' outputs.
    public enum Binding: Sendable {
        case ready(any BoundStage)
        case deferred(DeferredStage)
    }

    public init(
        id: String, kind: String, description: String? = nil, needs: [String], location: SourceLocation,
        settings: StageSettings = StageSettings(), descriptor: StageDescriptor, binding: Binding,
        resolvedParameters: [(name: String, value: String)] = [], parameterLocations: [String: SourceLocation] = [:],
        references: [StageOutputReference] = []
    ) {
        self.parameterLocations = parameterLocations
        self.id = id
        self.kind = kind
        self.description = description
        self.needs = needs
        self.location = location
        self.settings = settings
        self.descriptor = descriptor
        self.binding = binding
        self.resolvedParameters = resolvedParameters
        self.references = references
    }

    /// The kinds of parameter a runtime error names by value: files, tables, databases, URLs.
    static let locatedTypes: Set<String> = ["path", "sql-name", "database", "database-url", "url"]

    /// Where in the file the parameter comes from that `message` is about: `'file' at p.yaml:12:17`, or
    /// nil. The message names the parameter's value (a missing file, an unknown table) or, for a path, a
    /// folder on its way below `baseDirectory` (a folder that cannot be created).
    public func parameterPlace(mentionedIn message: String, baseDirectory: String) -> String? {
        let located = Dictionary(
            descriptor.parameters.filter { Self.locatedTypes.contains($0.typeName) }.map { ($0.name, $0.typeName) },
            uniquingKeysWith: { first, _ in first })
        func mentions(_ value: String, type: String) -> Int? {
            if value.count >= 2 && message.contains(value) { return value.count }
            guard type == "path" else { return nil }
            var folder = FileSupport.parentDirectory(of: value)
            while folder.count > baseDirectory.count && folder.hasPrefix(baseDirectory + "/") {
                if message.contains(folder + ":") || message.hasSuffix(folder) { return folder.count }
                folder = FileSupport.parentDirectory(of: folder)
            }
            return nil
        }
        let mentioned = resolvedParameters.compactMap { parameter in
            located[parameter.name].flatMap { mentions(parameter.value, type: $0) }.map { (parameter.name, $0) }
        }
        guard let name = mentioned.max(by: { $0.1 < $1.1 })?.0, let location = parameterLocations[name] else { return nil }
        return "'\(name)' at \(location)"
    }

    /// Rows (or other units) per committed chunk; 0 for no checkpoints.
    public var chunkSize: Int { settings.chunkSize(for: descriptor.execution) }

    /// The stage, ready to run: a deferred one is bound now with the outputs recorded so far.
    public func resolve(outputs: [String: StageOutputs]) throws(DiagnosticList) -> any BoundStage {
        switch binding {
        case .ready(let stage): return stage
        case .deferred(let deferred): return try deferred.resolve(outputs: outputs)
        }
    }
}

/// A stage whose parameters reference earlier stages' outputs: it keeps its `with:` as written and is
/// bound, with every check, when those outputs are known.
public struct DeferredStage: Sendable {
    let descriptor: StageDescriptor
    let with: YAMLNode?
    let interpolator: Interpolator
    let context: BindingContext

    public func resolve(outputs: [String: StageOutputs]) throws(DiagnosticList) -> any BoundStage {
        var diagnostics: [Diagnostic] = []
        let node = with.map { written -> YAMLNode in
            let substitution = interpolator.with(stageOutputs: .resolved(outputs)).substitute(written)
            diagnostics += substitution.diagnostics
            return substitution.node
        }
        guard diagnostics.isEmpty else { throw DiagnosticList(diagnostics, code: .config) }
        let binding = descriptor.bind(node, context: context)
        guard let stage = binding.stage else {
            throw DiagnosticList(binding.diagnostics.isEmpty ? diagnostics : binding.diagnostics, code: .config)
        }
        return stage
    }
}
