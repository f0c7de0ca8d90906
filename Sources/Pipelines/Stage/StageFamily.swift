/// One family of stages, registered once: its stage kinds, the tables it keeps in the pipeline's
/// database (a schema family with its migrations, run by `pipeline db migrate` and before its stages
/// run), and its own subcommands (`pipeline FAMILY VERB ...`). The `pipeline` command iterates the
/// families and names none of them.
public struct StageFamily: Sendable {
    public let name: String
    public let summary: String
    public let kinds: [StageDescriptor]
    public let schema: SchemaFamily?
    public let commands: [FamilyCommand]

    public init(
        name: String, summary: String, kinds: [StageDescriptor], schema: SchemaFamily? = nil,
        commands: [FamilyCommand] = []
    ) {
        self.name = name
        self.summary = summary
        self.kinds = kinds.map { kind in
            var kind = kind
            kind.schema = schema
            kind.family = name
            return kind
        }
        self.schema = schema
        self.commands = commands
    }

    public func command(named verb: String) -> FamilyCommand? { commands.first { $0.verb == verb } }
}

/// A versioned set of tables: the `schema_migrations` family name and its migrations in version order.
public struct SchemaFamily: Sendable {
    public let name: String
    public let migrations: [Migration]

    public init(name: String, migrations: [Migration]) {
        self.name = name
        self.migrations = migrations
    }

    /// Brings `connection` up to the newest version this binary knows; returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: any DatabaseConnection, logger: Logger) throws -> [Int] {
        try MigrationRunner(connection: connection, logger: logger).migrate(family: name, migrations: migrations)
    }

    public func currentVersion(_ connection: any DatabaseConnection, logger: Logger) throws -> Int {
        try MigrationRunner(connection: connection, logger: logger).currentVersion(family: name)
    }
}

/// A subcommand a family adds: `pipeline FAMILY VERB [ARGUMENTS] [--database URL]`.
public struct FamilyCommand: Sendable {
    public let verb: String
    /// The arguments after `pipeline FAMILY VERB`, for usage lines: `[--database URL]`.
    public let usage: String
    public let summary: String
    /// How many positional arguments it takes.
    public let arguments: ClosedRange<Int>
    public let run: @Sendable (FamilyCommandInput) throws -> String

    public init(
        verb: String, usage: String, summary: String, arguments: ClosedRange<Int> = 0...0,
        run: @escaping @Sendable (FamilyCommandInput) throws -> String
    ) {
        self.verb = verb
        self.usage = usage
        self.summary = summary
        self.arguments = arguments
        self.run = run
    }
}

/// What a family command gets from the command line. It returns what goes to standard output and throws
/// `PipelineError`s; the executable decides the exit status.
public struct FamilyCommandInput: Sendable {
    public var arguments: [String]
    /// `--database`, else `$DATABASE_URL`, else `sqlite:var/store.db` in the current folder.
    public var database: DatabaseLocator
    public var logger: Logger

    public init(arguments: [String], database: DatabaseLocator, logger: Logger) {
        self.arguments = arguments
        self.database = database
        self.logger = logger
    }
}
