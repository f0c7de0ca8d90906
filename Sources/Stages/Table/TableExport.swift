import Foundation
import Pipelines

/// `table.export`: streams a table or a query's rows to a CSV or JSONL file that appears only when
/// complete. After each chunk the file is synced and its length recorded; a resumed run cuts the file back
/// to that length and continues the query after the rows already written.
public enum TableExport: StageKind {
    public struct Config: Sendable {
        var table: SQLName?
        var query: String?
        var file: FilePath
        var format: DataFormat?
        var database: DatabaseName?
    }

    public static let name = "table.export"
    public static let summary = "Stream a table or a query's rows to a CSV or JSONL file, renamed into place when complete"

    static let table = Parameter<SQLName?>.optional("table", doc: "the table to export (or give query)")
    static let query = Parameter<String?>.optional(
        "query", doc: "a SELECT whose rows to export, with an ORDER BY to be resumable (or give table)")
    static let file = Parameter<FilePath>.required("file", doc: "the file to write")
    static let format = Parameter<DataFormat?>.optional("format", doc: "csv or jsonl; by default from the file's extension")
    static let database = Parameter<DatabaseName?>.optional(
        "database", doc: "a database of the pipeline's databases: to read from; default the pipeline's database")

    public static let parameters = ParameterSet(table, query, file, format, database) { table, query, file, format, database in
        Config(table: table, query: query, file: file, format: format, database: database)
    }

    static let rows = Counter("read", unit: "rows", doc: "rows read from the table or query")
    static let written = Counter("written", unit: "rows", doc: "rows written to the file")
    public static let counters = [rows, written]

    static let fileOutput = Output<FileDigest>("file", doc: "the written file, with its SHA-256 and size")
    static let rowsOutput = Output<Int64>("rows", doc: "the number of rows written")
    public static let outputs = [fileOutput.declaration, rowsOutput.declaration]

    public static let execution = StageExecution.chunked(defaultSize: 20_000)

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues = DataFormat.check(config.format, for: config.file)
        switch (config.table, config.query) {
        case (nil, nil): issues.append(ConfigIssue("table.export needs either 'table' or 'query'"))
        case (.some, .some): issues.append(ConfigIssue("give either 'table' or 'query', not both", parameter: "query"))
        default: break
        }
        if let query = config.query { issues += checkQuery(query) }
        return issues
    }

    /// One statement that reads: an export never writes (the database enforces it too, in a read-only
    /// transaction).
    static func checkQuery(_ query: String) -> [ConfigIssue] {
        let statements = SQLText.statements(query)
        guard let first = statements.first else { return [ConfigIssue("the query is empty", parameter: "query")] }
        if statements.count > 1 {
            let second = statements[1]
            return [
                ConfigIssue(
                    "the query holds \(statements.count) statements (the second at line \(second.line), column "
                        + "\(second.column)); an export runs one SELECT", parameter: "query")
            ]
        }
        guard first.readsOnly else {
            return [
                ConfigIssue(
                    "the query starts with '\(first.leadingWords.first ?? "")': an export is read-only, give a SELECT "
                        + "(or WITH, VALUES, TABLE)", parameter: "query")
            ]
        }
        return []
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        let database = workspace.locator(for: config.database)
        let source = config.table.map { "table \($0) in \(database)" } ?? "query on \(database)"
        return StageEffects(reads: [source], writes: ["file \(config.file.path)"])
    }

    /// Where an export stands: recorded in the state store once the bytes are on disk.
    struct Checkpoint: Codable {
        var temporaryPath: String
        var length: Int64
        var rows: Int64
        var finished = false
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let checkpoints = context.checkpoints
        let saved = try checkpoints.resume(Checkpoint.self)
        if let saved, saved.finished {
            // Killed between the rename into place and the stage's completion: the file is already there.
            if !AtomicOutputFile.wasCommitted(path: config.file.path, temporaryPath: saved.temporaryPath, length: saved.length) {
                try AtomicOutputFile.resume(
                    path: config.file.path, temporaryPath: saved.temporaryPath, committedLength: saved.length
                ).commit()
            }
            return try outcome(rows: saved.rows, file: config.file.path, sha256: SHA256Digest.ofFile(config.file.path))
        }
        let database = try context.database(named: config.database)
        let output =
            try saved.map {
                try AtomicOutputFile.resume(
                    path: config.file.path, temporaryPath: $0.temporaryPath, committedLength: $0.length, owner: checkpoints.key)
            } ?? AtomicOutputFile(path: config.file.path, owner: checkpoints.key)
        if checkpoints.isEnabled {
            // From here on an interrupted export is resumed, also one that stops before its first chunk.
            output.keepForResume()
            if saved == nil { try checkpoints.record(Checkpoint(temporaryPath: output.temporaryPath, length: 0, rows: 0)) }
        }
        try output.startDigest()
        var rows = saved?.rows ?? 0
        if let saved { context.logger.info("export.resumed", "resuming after \(saved.rows) rows (\(saved.length) bytes)") }
        var sink: RowSink?
        let format = DataFormat.resolve(config.format, for: config.file)
        let sql = sql(for: config, skipping: rows, dialect: database.dialect)
        var chunkStarted = Date()
        /// After each row: at a chunk's end, the bytes go to disk and the position to the state store.
        func rowWritten() throws {
            rows += 1
            guard checkpoints.isEnabled, rows % Int64(checkpoints.chunkSize) == 0 else { return }
            try sink?.flush()
            try output.sync()
            try checkpoints.record(Checkpoint(temporaryPath: output.temporaryPath, length: output.bytesWritten, rows: rows))
            context.chunkCommitted(started: chunkStarted, rows: Int64(checkpoints.chunkSize), endOffset: output.bytesWritten)
            chunkStarted = Date()
            context.progress(unit: "rows", count: rows, done: rows, total: nil)
            context.report([Self.rows: rows, written: rows])
            try checkpoints.stopIfRequested()
        }
        var sha256 = ""
        /// Inside a read-only transaction: a consistent snapshot, and a query that writes fails.
        func exportRows() throws {
            // Nothing on disk yet (also a resume from the checkpoint taken at creation): the header comes first.
            let writesHeader = (saved?.length ?? 0) == 0
            var header = writesHeader
            // CSV the database writes itself is passed through as it comes (PostgreSQL); else rows are encoded here.
            let passedThrough =
                try format == .csv
                && database.exportCSV(sql, header: header) { line in
                    try output.write(line)
                    if header {
                        header = false
                    } else {
                        try rowWritten()
                    }
                }
            if !passedThrough {
                try database.export(
                    sql,
                    columns: { columns in
                        sink = try RowSink(format: format, output: output, columns: columns, writeHeader: writesHeader)
                    },
                    row: { row in
                        try sink?.write(row)
                        try rowWritten()
                    })
            }
        }
        do {
            try database.inReadTransaction { try exportRows() }
            try sink?.flush()
            sha256 = try output.finishDigest() ?? ""
            if checkpoints.isEnabled {
                try output.sync()
                try checkpoints.record(
                    Checkpoint(temporaryPath: output.temporaryPath, length: output.bytesWritten, rows: rows, finished: true))
            }
            try output.commit()
        } catch {
            // An interrupted export keeps its temporary file for the resume; one without checkpoints drops it.
            if !checkpoints.isEnabled { output.discard() }
            if let refused = error as? DatabaseError, refused.isReadOnlyViolation {
                throw PipelineError(
                    .config, "the query writes, and an export is read-only: give a SELECT (\(refused.message))")
            }
            throw error
        }
        context.progress(unit: "rows", count: rows, done: rows, total: nil, finished: true)
        context.logger.info("export.done", "exported \(rows) rows to \(config.file.path)")
        return try outcome(rows: rows, file: config.file.path, sha256: sha256)
    }

    private static func outcome(rows: Int64, file: String, sha256: String) throws -> StageOutcome {
        StageOutcome(
            counts: [Self.rows: rows, written: rows],
            outputs: [
                fileOutput.value(FileDigest(path: file, sha256: sha256, bytes: try FileSupport.size(of: file))),
                rowsOutput.value(rows),
            ])
    }

    /// The export's query, continuing after the first `skipping` rows on a resume.
    static func sql(for config: Config, skipping rows: Int64, dialect: SQLDialect) -> String {
        let base = config.table.map { "SELECT * FROM \($0.quoted)" } ?? SQLText.withoutTrailingSemicolons(config.query ?? "")
        guard rows > 0 else { return base }
        switch dialect {
        case .sqlite: return "SELECT * FROM (\(base)) LIMIT -1 OFFSET \(rows)"
        case .postgres: return "SELECT * FROM (\(base)) AS resumed OFFSET \(rows)"
        }
    }
}

/// Writes rows in the chosen format.
enum RowSink {
    case csv(CSVWriter)
    case jsonl(JSONLWriter)

    init(format: DataFormat, output: OutputFile, columns: [ColumnInfo], writeHeader: Bool = true) throws {
        switch format {
        case .csv:
            let writer = CSVWriter(output: output)
            if writeHeader { try writer.writeHeader(columns.map(\.name)) }
            self = .csv(writer)
        case .jsonl:
            self = .jsonl(JSONLWriter(output: output, columns: columns))
        }
    }

    func write(_ row: any RowView) throws {
        switch self {
        case .csv(let writer): try writer.writeRow(row)
        case .jsonl(let writer): try writer.writeRow(row)
        }
    }

    func flush() throws {
        switch self {
        case .csv(let writer): try writer.flush()
        case .jsonl(let writer): try writer.flush()
        }
    }
}
