import Pipelines

/// `table.import`'s part of the shared import pipeline: one file into one table, rows checked by
/// themselves (bad UTF-8, wrong field counts, broken quoting) and loaded through the driver's bulk path.
final class TableImporter: ChunkImporter {
    struct Progress: Codable {
        var columns: [String]
        var read: Int64 = 0
        var written: Int64 = 0
        var rejected: Int64 = 0
    }

    private let config: TableImport.Config
    private let format: DataFormat
    private let database: any DatabaseConnection
    private let context: StageContext
    private let source: RecordSource
    private let record = RecordBuffer()
    private var columns: [String]
    private var tableExists = false
    /// For `mode: replace`: where the chunks go, swapped into the table by the last chunk.
    private let staging: SQLName?
    /// What the target's typed columns can hold; none for a table to be created.
    private var typedColumns: TypedColumns
    let startPosition: ReaderPosition

    init(config: TableImport.Config, format: DataFormat, database: any DatabaseConnection, context: StageContext) throws {
        self.config = config
        self.format = format
        self.database = database
        self.context = context
        source = try RecordSource.open(config.file, format: format)
        do {
            columns = try source.columns()
        } catch {
            source.close()
            throw error
        }
        startPosition = source.position
        staging = config.mode == .replace ? config.table.sibling(suffix: "__pipeline_replace") : nil
        typedColumns = TypedColumns(
            columns: columns, types: try database.columnTypes(of: config.table), dialect: database.dialect)
    }

    func close() { source.close() }

    func initialProgress() -> Progress { Progress(columns: columns) }

    func makeCheckSource() throws -> any ImportCheckSource {
        try RecordCheckSource(file: config.file, format: format, typedColumns: typedColumns)
    }

    func begin(resumingAt position: ReaderPosition?, progress: Progress, rejections: ImportRejections) throws {
        guard let position else {
            try checkTable()
            // What a replace that failed or was started over left behind.
            if let staging, try database.tableColumns(staging) != nil {
                try database.executeScript("DROP TABLE \(staging.quoted)")
            }
            return
        }
        columns = progress.columns
        try source.resume(at: position, columns: progress.columns)
        tableExists = true
    }

    /// Checks that the table exists with the file's columns, or may be created, and that an upsert's key
    /// is among the columns and has a unique index.
    private func checkTable() throws {
        if let key = config.key {
            let missing = key.filter { !columns.contains($0) }
            guard missing.isEmpty else {
                throw PipelineError(
                    .config,
                    "key column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")) not in \(config.file.path) (it has \(columns.joined(separator: ", ")))")
            }
        }
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
        if let key = config.key, !(try database.uniqueKeys(of: config.table)).contains(where: { Set($0) == Set(key) }) {
            let list = key.joined(separator: ", ")
            throw PipelineError(
                .config,
                "table \(config.table) has no primary key or unique index on (\(list)), which mode: upsert needs; e.g. CREATE UNIQUE INDEX ON \(config.table) (\(list))")
        }
    }

    /// Inside the first chunk's transaction: creates a missing table with a TEXT column per file column
    /// (and an upsert's key as its primary key); for a replace, the table the chunks go to, with the
    /// table's column types.
    func prepareTarget() throws {
        if !tableExists {
            var definitions = columns.map { "\(SQLName.quote($0)) TEXT" }
            if let key = config.key { definitions.append("PRIMARY KEY (\(key.map(SQLName.quote).joined(separator: ", ")))") }
            try database.executeScript("CREATE TABLE \(config.table.quoted) (\(definitions.joined(separator: ", ")))")
            tableExists = true
        }
        if let staging {
            let empty = database.dialect == .postgres ? "WITH NO DATA" : "WHERE 0"
            try database.executeScript(
                "CREATE TABLE \(staging.quoted) AS SELECT \(quotedColumns) FROM \(config.table.quoted) \(empty)")
        }
    }

    private var quotedColumns: String { columns.map(SQLName.quote).joined(separator: ", ") }

    /// The last chunk of a replace: the table's rows become the file's, in this chunk's transaction.
    private func swapInStaging(_ staging: SQLName) throws {
        try database.executeScript(
            "DELETE FROM \(config.table.quoted);\n"
                + "INSERT INTO \(config.table.quoted) (\(quotedColumns)) SELECT \(quotedColumns) FROM \(staging.quoted);\n"
                + "DROP TABLE \(staging.quoted)")
    }

    /// Bad rows are only counted and skipped: the check lists them.
    func loadChunk(rows: Int, progress: inout Progress) throws -> ChunkEnd {
        let inserter =
            if let key = config.key {
                try database.bulkUpsert(into: config.table, columns: columns, key: key)
            } else {
                try database.bulkInsert(into: staging ?? config.table, columns: columns)
            }
        var loaded = 0
        var reachedEnd = false
        while loaded < rows {
            guard let status = try source.next(into: record) else {
                reachedEnd = true
                break
            }
            loaded += 1
            progress.read += 1
            if status.error != nil || source.checkFieldCount(record, expected: columns.count, line: status.line) != nil
                || typedColumns.problem(in: record, line: status.line) != nil
            {
                progress.rejected += 1
                continue
            }
            try inserter.insert(record)
            progress.written += 1
            if progress.read % 65_536 == 0 {
                context.progress(unit: "rows", count: progress.read, done: source.bytesRead, total: source.totalBytes)
            }
        }
        try inserter.finish()
        if reachedEnd, let staging { try swapInStaging(staging) }
        return ChunkEnd(position: source.position, reachedEnd: reachedEnd)
    }

    func counts(of progress: Progress) -> StageCounts {
        [ImportCounters.read: progress.read, ImportCounters.written: progress.written, ImportCounters.rejected: progress.rejected]
    }
}

/// The file read row by row for the whole-file check.
private final class RecordCheckSource: ImportCheckSource {
    private let source: RecordSource
    private let record = RecordBuffer()
    private let expected: Int
    private let typedColumns: TypedColumns

    init(file: FilePath, format: DataFormat, typedColumns: TypedColumns) throws {
        self.typedColumns = typedColumns
        source = try RecordSource.open(file, format: format)
        do {
            expected = try source.columns().count
        } catch {
            source.close()
            throw error
        }
    }

    func nextChecked() throws -> CheckedItem? {
        guard let status = try source.next(into: record) else { return nil }
        let problem =
            status.error ?? source.checkFieldCount(record, expected: expected, line: status.line)
            ?? typedColumns.problem(in: record, line: status.line)
        guard let problem else { return CheckedItem(line: status.line) }
        return CheckedItem(line: status.line, rejectedRows: [problem], records: [source.lastRecordText()])
    }

    var position: ReaderPosition { source.position }

    func close() { source.close() }
}
