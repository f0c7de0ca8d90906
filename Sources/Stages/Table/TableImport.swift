import Foundation
import Pipelines

/// `table.import`: streams a CSV or JSONL file into a table in chunks, each committed with its checkpoint.
/// The whole file is checked (on a second thread, while the first chunk loads) before anything commits,
/// so that past `max_rejects` nothing at all is written.
public enum TableImport: StageKind {
    public struct Config: Sendable {
        var file = FilePath("")
        var table = SQLName.unset
        var format: DataFormat?
        var create = false
        var maxRejects = 0
        var rejects: FilePath?
    }

    public static let name = "table.import"
    public static let summary = "Stream a CSV or JSONL file into a table; bad rows go to a rejects file"

    public static var parameters: ParameterSet<Config> {
        ParameterSet(
            defaults: Config(),
            [
                .required("file", \.file, doc: "the CSV or JSONL file to read"),
                .required("table", \.table, doc: "the table to load (name or schema.name)"),
                .optional("format", \.format, doc: "csv or jsonl; by default from the file's extension"),
                .optional("create", \.create, doc: "create the table (TEXT columns from the header) when missing"),
                .optional("max_rejects", \.maxRejects, doc: "bad rows tolerated before the stage fails with 65"),
                .optional("rejects", \.rejects, doc: "where bad rows are listed; default var/<table>.rejects.csv"),
            ])
    }

    public static func check(_ config: Config) -> [ConfigIssue] {
        var issues = DataFormat.check(config.format, for: config.file)
        if config.maxRejects < 0 { issues.append(ConfigIssue("max_rejects must be 0 or more", parameter: "max_rejects")) }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["file \(config.file.path)"],
            writes: ["table \(config.table) in \(workspace.database)", "rejects file \(rejectsPath(config, in: workspace))"])
    }

    static func rejectsPath(_ config: Config, in workspace: Workspace) -> String {
        config.rejects?.path ?? "\(workspace.workDirectory)/\(config.table.name).rejects.csv"
    }

    /// Where an import stands: committed with each chunk in the target database.
    struct Checkpoint: Codable {
        var columns: [String]
        var position: ReaderPosition
        var read: Int64 = 0
        var written: Int64 = 0
        var rejected: Int64 = 0
        var input: InputFingerprint
        var finished = false

        var outcome: StageOutcome { StageOutcome(read: read, written: written, rejected: rejected) }
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let format = DataFormat.resolve(config.format, for: config.file)
        let database = try context.database()
        let checkpoints = context.checkpoints
        let fingerprint = try InputFingerprint(of: config.file.path)
        let saved = try checkpoints.resume(Checkpoint.self, from: database)
        if let saved {
            try saved.input.requireSame(as: fingerprint, path: config.file.path)
            if saved.finished { return saved.outcome }
            context.logger.info("import.resumed", "resuming at line \(saved.position.line) after \(saved.written) rows")
        }
        let rejectsPath = rejectsPath(config, in: context.workspace)
        let loader = try ImportLoader(config: config, format: format, database: database, context: context)
        defer { loader.close() }
        var validation: ImportValidation?
        if saved == nil {
            try loader.checkTable()
            if checkpoints.isEnabled { validation = loader.startValidation(rejectsPath: rejectsPath) }
        }
        var checkpoint = try saved ?? Checkpoint(columns: loader.columns(), position: loader.position, input: fingerprint)
        if let saved { try loader.resume(at: saved.position, columns: saved.columns) }
        // Without checkpoints the one transaction holds everything; rejects are listed as they come.
        let rejects = checkpoints.isEnabled ? nil : RejectsFile(path: rejectsPath)
        var isFirstChunk = saved == nil
        while !checkpoint.finished {
            try database.begin()
            do {
                if isFirstChunk { try loader.createTableIfNeeded() }
                try loader.loadChunk(
                    rows: checkpoints.isEnabled ? checkpoints.chunkSize : Int.max, into: &checkpoint, rejects: rejects,
                    until: validation)
                // Nothing commits before the whole file has passed its check.
                try validation?.requirePassed()
                validation = nil
                if checkpoints.isEnabled { try checkpoints.record(checkpoint, in: database) }
                try database.commit()
            } catch {
                try? database.rollback()
                try? rejects?.finish()
                throw error
            }
            isFirstChunk = false
            context.progress(
                unit: "rows", count: checkpoint.read, done: checkpoint.position.offset, total: fingerprint.size,
                finished: checkpoint.finished)
            if !checkpoint.finished { try checkpoints.stopIfRequested() }
        }
        try rejects?.finish()
        context.logger.info(
            "import.done",
            "imported \(checkpoint.written) rows from \(config.file.lastComponent) into \(config.table)"
                + (checkpoint.rejected > 0 ? "; \(checkpoint.rejected) rejected, see \(rejectsPath)" : ""))
        return checkpoint.outcome
    }
}

/// Size and modification time of an input, to notice a file that changed under an interrupted run.
struct InputFingerprint: Codable, Equatable {
    var size: Int64
    var modified: Int64

    init(of path: String) throws {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { throw PipelineError(.noInput, "no such file: \(path)") }
            throw PipelineError(.io, "cannot read \(path)", cause: error)
        }
        size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        modified = Int64(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0) * 1000)
    }

    /// Refuses to resume on an input that is not the one the interrupted run was reading.
    func requireSame(as current: InputFingerprint, path: String) throws {
        guard self == current else {
            throw PipelineError(
                .data, "\(path) changed since the interrupted run read it; put the original back or run with --restart")
        }
    }
}
