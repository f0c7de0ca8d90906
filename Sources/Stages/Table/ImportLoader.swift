import Pipelines

/// The work of `table.import` on one file and one table: checking the table, checking the whole file,
/// and loading chunks of rows.
final class ImportLoader {
    private let config: TableImport.Config
    private let format: DataFormat
    private let database: any DatabaseConnection
    private let context: StageContext
    private let source: RecordSource
    private let record = RecordBuffer()
    private var tableExists = false
    private var fileColumns: [String]?

    init(config: TableImport.Config, format: DataFormat, database: any DatabaseConnection, context: StageContext) throws {
        self.config = config
        self.format = format
        self.database = database
        self.context = context
        source = try RecordSource.open(config.file, format: format)
    }

    func close() { source.close() }

    func columns() throws -> [String] {
        if let fileColumns { return fileColumns }
        let columns = try source.columns()
        fileColumns = columns
        return columns
    }

    var position: ReaderPosition { source.position }

    func resume(at position: ReaderPosition, columns: [String]) throws {
        fileColumns = columns
        try source.resume(at: position, columns: columns)
        tableExists = true
    }

    /// Checks that the table exists with the file's columns, or may be created.
    func checkTable() throws {
        let columns = try columns()
        guard let tableColumns = try database.tableColumns(config.table) else {
            guard config.create else {
                throw PipelineError(.config, "table \(config.table) does not exist (set create: true to create it)")
            }
            return
        }
        tableExists = true
        let missing = columns.filter { !tableColumns.contains($0) }
        guard missing.isEmpty else {
            throw PipelineError(
                .data,
                "\(config.file.path): column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")) not in table \(config.table) (it has \(tableColumns.joined(separator: ", ")))")
        }
    }

    /// Creates the table with a TEXT column per file column, inside the first chunk's transaction.
    func createTableIfNeeded() throws {
        guard !tableExists else { return }
        let definitions = try columns().map { "\(SQLName.quote($0)) TEXT" }.joined(separator: ", ")
        try database.executeScript("CREATE TABLE \(config.table.quoted) (\(definitions))")
        tableExists = true
    }

    /// Starts checking the whole file in the background (see `ImportValidation`).
    func startValidation(rejectsPath: String) -> ImportValidation {
        let config = config
        return ImportValidation.start(
            file: config.file, format: format, maxRejects: config.maxRejects, rejectsPath: rejectsPath,
            describe: { count, last in Self.tooManyRejects(config, count, last: last, rejectsPath: rejectsPath) })
    }

    /// Loads up to `rows` rows in the caller's transaction, advancing the checkpoint; sets `finished` at
    /// the end of the file. Without `rejects` (checked by a validation) bad rows are only counted and
    /// skipped. While `until` is given and not finished, the chunk goes on past `rows`.
    func loadChunk(
        rows: Int, into checkpoint: inout TableImport.Checkpoint, rejects: RejectsFile?, until validation: ImportValidation? = nil
    ) throws {
        let columns = try columns()
        let inserter = try database.bulkInsert(into: config.table, columns: columns)
        var loaded = 0
        while true {
            if loaded >= rows {
                guard let validation else { break }
                if loaded % 4096 == 0, validation.isFinished { break }
            }
            guard let status = try source.next(into: record) else {
                checkpoint.finished = true
                break
            }
            loaded += 1
            checkpoint.read += 1
            if let problem = status.error ?? source.checkFieldCount(record, expected: columns.count, line: status.line) {
                checkpoint.rejected += 1
                if let rejects {
                    try rejects.add(problem)
                    if checkpoint.rejected > Int64(config.maxRejects) {
                        throw Self.tooManyRejects(config, checkpoint.rejected, last: problem, rejectsPath: rejects.path)
                    }
                }
                continue
            }
            try inserter.insert(record)
            checkpoint.written += 1
            if checkpoint.read % 65_536 == 0 {
                context.progress(unit: "rows", count: checkpoint.read, done: source.bytesRead, total: source.totalBytes)
            }
        }
        try inserter.finish()
        checkpoint.position = source.position
    }

    static func tooManyRejects(_ config: TableImport.Config, _ count: Int64, last: RowError, rejectsPath: String)
        -> PipelineError
    {
        PipelineError(
            .data,
            "\(count) rejected rows, more than max_rejects \(config.maxRejects) (last: \(last.located(in: config.file.path))); "
                + "nothing was written to \(config.table); rejects are listed in \(rejectsPath)")
    }
}
