/// A kind of stage, e.g. `table.import`. Implementations live in the Stages module, one file each.
public protocol StageKind: SendableMetatype {
    associatedtype Config: Sendable

    /// The name used in `uses:`, e.g. `table.import`.
    static var name: String { get }
    /// One line for `pipeline stages`.
    static var summary: String { get }
    static var parameters: ParameterSet<Config> { get }

    /// Problems that involve several parameters at once; checked at validation time.
    static func check(_ config: Config) -> [ConfigIssue]
    /// What the stage reads and writes, for `--dry-run` and `pipeline plan`.
    static func effects(of config: Config, in workspace: Workspace) -> StageEffects
    static func run(_ config: Config, in context: StageContext) throws -> StageOutcome
}

extension StageKind {
    public static func check(_ config: Config) -> [ConfigIssue] { [] }
}

/// Where a pipeline runs: its database and folders.
public struct Workspace: Sendable {
    public var database: DatabaseLocator
    /// The pipeline file's folder.
    public var baseDirectory: String
    /// Where run by-products (rejects files, run state) go: `var/` beside the pipeline file.
    public var workDirectory: String

    public init(database: DatabaseLocator, baseDirectory: String, workDirectory: String) {
        self.database = database
        self.baseDirectory = baseDirectory
        self.workDirectory = workDirectory
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

/// What a stage did, for logs and run records.
public struct StageOutcome: Sendable, Equatable {
    public var read: Int64
    public var written: Int64
    public var rejected: Int64
    public var skipped: Int64

    public init(read: Int64 = 0, written: Int64 = 0, rejected: Int64 = 0, skipped: Int64 = 0) {
        self.read = read
        self.written = written
        self.rejected = rejected
        self.skipped = skipped
    }

    public var counts: [(String, Int64)] {
        [("read", read), ("written", written), ("rejected", rejected), ("skipped", skipped)]
    }
}
