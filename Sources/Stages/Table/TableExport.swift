import Pipelines

/// `table.export`: streams a table or a query's rows to a CSV or JSONL file that appears only when complete.
public enum TableExport: StageKind {
    public struct Config: Sendable {
        var table: SQLName?
        var query: String?
        var file = FilePath("")
        var format: DataFormat?
    }

    public static let name = "table.export"
    public static let summary = "Stream a table or a query's rows to a CSV or JSONL file, renamed into place when complete"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .optional("table", \.table, doc: "the table to export (or give query)"),
                .optional("query", \.query, doc: "a SELECT whose rows to export (or give table)"),
                .required("file", \.file, doc: "the file to write"),
                .optional("format", \.format, doc: "csv or jsonl; by default from the file's extension"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        var issues = DataFormat.check(config.format, for: config.file)
        switch (config.table, config.query) {
        case (nil, nil): issues.append(ConfigIssue("table.export needs either 'table' or 'query'"))
        case (.some, .some): issues.append(ConfigIssue("give either 'table' or 'query', not both", parameter: "query"))
        default: break
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        let source = config.table.map { "table \($0) in \(workspace.database)" } ?? "query on \(workspace.database)"
        return StageEffects(reads: [source], writes: ["file \(config.file.path)"])
    }

    static func sql(for config: Config) -> String {
        config.table.map { "SELECT * FROM \($0.quoted)" } ?? config.query ?? ""
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let database = try context.database()
        let output = try AtomicOutputFile(path: config.file.path)
        var sink: RowSink?
        var count: Int64 = 0
        do {
            try database.export(
                sql(for: config),
                columns: { columns in
                    sink = try RowSink(format: DataFormat.resolve(config.format, for: config.file), output: output, columns: columns)
                },
                row: { row in
                    try sink?.write(row)
                    count += 1
                    if count % 50_000 == 0 { context.progress(unit: "rows", count: count, done: count, total: nil) }
                })
            try sink?.flush()
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        context.progress(unit: "rows", count: count, done: count, total: nil, finished: true)
        context.logger.info("export.done", "exported \(count) rows to \(config.file.path)")
        return StageOutcome(read: count, written: count)
    }
}

/// Writes rows in the chosen format.
enum RowSink {
    case csv(CSVWriter)
    case jsonl(JSONLWriter)

    init(format: DataFormat, output: OutputFile, columns: [ColumnInfo]) throws {
        switch format {
        case .csv:
            let writer = CSVWriter(output: output)
            try writer.writeHeader(columns.map(\.name))
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
