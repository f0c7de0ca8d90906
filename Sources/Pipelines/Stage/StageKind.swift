/// A kind of stage, e.g. `table.import`. Implementations live in the Stages module, one file each, and
/// reach the `pipeline` command through their family (`StageFamily`).
///
/// A kind declares once what it takes and gives: its parameters, the counters it reports, the outputs it
/// hands to later stages and the events it raises. Those declarations drive validation, `pipeline stages`,
/// the typed config, run records, logs and plans.
public protocol StageKind: SendableMetatype {
    associatedtype Config: Sendable

    /// The name used in `uses:`, e.g. `table.import`.
    static var name: String { get }
    /// One line for `pipeline stages`.
    static var summary: String { get }
    static var parameters: ParameterSet<Config> { get }
    static var counters: [Counter] { get }
    static var outputs: [OutputDeclaration] { get }
    static var events: [StageEvent] { get }
    /// Whether the kind works in chunks and may be retried.
    static var execution: StageExecution { get }

    /// Problems that involve several parameters, or the workspace (a kind that needs PostgreSQL refuses
    /// SQLite here); checked at validation time with the place of the parameter or of `uses:`.
    static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue]
    /// What the stage reads and writes, for `--dry-run` and `pipeline plan`.
    static func effects(of config: Config, in workspace: Workspace) -> StageEffects
    /// For `--dry-run` of kinds whose work depends on what the database holds: what the stage would do
    /// now, read from the database without writing anything (e.g. the exact DDL). Empty by default.
    static func preview(_ config: Config, in context: PreviewContext) throws -> [String]
    static func run(_ config: Config, in context: StageContext) throws -> StageOutcome
}

extension StageKind {
    public static var outputs: [OutputDeclaration] { [] }
    public static var events: [StageEvent] { [] }
    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] { [] }
    public static func preview(_ config: Config, in context: PreviewContext) throws -> [String] { [] }
}

/// Where a pipeline runs: its databases and folders.
public struct Workspace: Sendable {
    /// The pipeline's own database (`database:`), where the store lives.
    public var database: DatabaseLocator
    /// The extra databases the file names under `databases:`.
    public var databases: [String: DatabaseLocator]
    /// The pipeline file's folder.
    public var baseDirectory: String
    /// Where run by-products (rejects files, run records) go: `var/` beside the pipeline file.
    public var workDirectory: String

    public init(
        database: DatabaseLocator, databases: [String: DatabaseLocator] = [:], baseDirectory: String,
        workDirectory: String
    ) {
        self.database = database
        self.databases = databases
        self.baseDirectory = baseDirectory
        self.workDirectory = workDirectory
    }

    /// The named database, or the pipeline's own when `name` is nil.
    public func locator(for name: DatabaseName?) -> DatabaseLocator {
        name.flatMap { databases[$0.name] } ?? database
    }

    /// How a stage names the database it works on in messages: `the pipeline's database` or `database 'x'`.
    public func describe(_ name: DatabaseName?) -> String {
        guard let name else { return "the pipeline's database (\(database))" }
        return "database '\(name.name)' (\(locator(for: name)))"
    }
}

public struct StageEffects: Sendable {
    public var reads: [String]
    public var writes: [String]

    public init(reads: [String] = [], writes: [String] = []) {
        self.reads = reads
        self.writes = writes
    }
}

/// What a stage did: its counters and the outputs it hands on.
public struct StageOutcome: Sendable {
    public var counts: StageCounts
    public var outputs: [StageOutputValue]

    public init(counts: StageCounts = StageCounts(), outputs: [StageOutputValue] = []) {
        self.counts = counts
        self.outputs = outputs
    }
}
