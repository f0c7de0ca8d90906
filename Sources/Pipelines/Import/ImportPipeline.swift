import Foundation

/// The import machinery every importer shares: source → whole-file check → rejects → chunked,
/// checkpointed commits with fingerprinted resume.
///
/// - A first run starts `ImportCheck` on a second thread, which reads the whole input, lists every bad
///   row in the rejects file and fails past `max_rejects`. Until it has passed, every chunk goes into the
///   first transaction, so a failed check leaves the target exactly as it was.
/// - After that, each chunk of `chunk_size` rows commits together with its checkpoint in the target
///   database; with `chunk_size: 0` the whole input is one transaction.
/// - A resumed run refuses an input whose size or modification time changed, skips the items the check
///   rejected (their lines are in the checkpoint) and continues after the last committed chunk.
///
/// The importer brings the format and the target: how to read items, how to load a chunk of them.
public protocol ChunkImporter: AnyObject {
    /// The importer's part of the checkpoint: its counts and whatever else it needs to resume. Its keys
    /// sit beside the pipeline's own (`position`, `input`, `rejectedLines`, `finished`).
    associatedtype Progress: Codable

    /// Where the input's first item starts (after a header).
    var startPosition: ReaderPosition { get }
    /// A new run's progress, before anything is loaded.
    func initialProgress() throws -> Progress
    /// A second reader of the whole input, for the check on its own thread (which owns it).
    func makeCheckSource() throws -> any ImportCheckSource
    /// Called once before the first chunk: `resumingAt` is nil for a first run (the check is running),
    /// else the position to continue at, with the progress recorded there.
    func begin(resumingAt position: ReaderPosition?, progress: Progress, rejections: ImportRejections) throws
    /// Inside the first transaction of a first run, before any item is loaded: e.g. create the table.
    func prepareTarget() throws
    /// Loads items into the open transaction until `rows` rows are loaded or the input ends.
    func loadChunk(rows: Int, progress: inout Progress) throws -> ChunkEnd
    /// The check's verdict arrived: fold what it found into the progress.
    func absorb(_ verdict: ImportVerdict, into progress: inout Progress)
    /// The stage's counters from the progress.
    func counts(of progress: Progress) -> StageCounts
}

extension ChunkImporter {
    public func prepareTarget() throws {}
    public func absorb(_ verdict: ImportVerdict, into progress: inout Progress) {}
}

/// Where a chunk ended.
public struct ChunkEnd: Sendable {
    /// Where the item after the chunk starts.
    public var position: ReaderPosition
    public var reachedEnd: Bool

    public init(position: ReaderPosition, reachedEnd: Bool) {
        self.position = position
        self.reachedEnd = reachedEnd
    }
}

/// Which items of the input the whole-file check rejected: asked of the running check in a first run, or
/// read from the checkpoint in a resumed one.
public enum ImportRejections: Sendable {
    case check(ImportCheck)
    case lines(Set<Int>)

    public func isRejected(line: Int) throws -> Bool {
        switch self {
        case .check(let check): try check.isRejected(line: line)
        case .lines(let lines): lines.contains(line)
        }
    }
}

/// The counters importers share; an importer declares those it reports, and its own.
public enum ImportCounters {
    public static let read = Counter("read", unit: "rows", doc: "rows read from the input, rejected ones included")
    public static let written = Counter("written", unit: "rows", doc: "rows written to the target")
    public static let rejected = Counter("rejected", unit: "rows", doc: "rows rejected and listed in the rejects file")
}

/// The events importers raise; an importer declares them.
public enum ImportEvents {
    public static let rejects = StageEvent(
        "import.rejects", doc: "the import rejected rows: { file, rejected, rejects_file }, once per run of the stage")
}

/// The parameters importers share.
public enum ImportParameters {
    public static let maxRejects = Parameter<Int>.optional(
        "max_rejects", default: 0, doc: "bad rows tolerated before the stage fails with 65 and writes nothing"
    ).atLeast(0)

    /// Where a file importer lists its rejects: `rejects` when given, else `WORK/<first part of the
    /// input's name>.rejects.csv` (`fallback` when the name has none).
    public static func rejectsPath(_ rejects: FilePath?, input: FilePath, workDirectory: String, fallback: String) -> String {
        if let rejects { return rejects.path }
        let stem = input.lastComponent.split(separator: ".").first.map(String.init) ?? fallback
        return "\(workDirectory)/\(stem).rejects.csv"
    }

    /// A `rejects` path that names the input (also through a link or a second name) would overwrite it.
    public static func checkRejects(_ rejects: FilePath?, input: FilePath) -> [ConfigIssue] {
        guard let rejects, FileSupport.isSameFile(rejects.path, input.path) else { return [] }
        return [ConfigIssue("'rejects' is the input file \(input.path): the rejects would overwrite it", parameter: "rejects")]
    }
}

public enum ImportPipeline {
    /// What is imported from where, for checks, messages and the rejects file.
    public struct Input: Sendable {
        public var file: FilePath
        /// What a failed check says was left untouched: `items`, `the product store`.
        public var target: String
        public var maxRejects: Int
        public var rejectsPath: String

        public init(file: FilePath, target: String, maxRejects: Int, rejectsPath: String) {
            self.file = file
            self.target = target
            self.maxRejects = maxRejects
            self.rejectsPath = rejectsPath
        }
    }

    /// Runs the import to its end (or to a stop request between chunks) and returns the final progress.
    public static func run<Importer: ChunkImporter>(
        _ importer: Importer, input: Input, into database: any DatabaseConnection, context: StageContext
    ) throws -> Importer.Progress {
        let checkpoints = context.checkpoints
        let fingerprint = try InputFingerprint(of: input.file.path)
        // Checked again here: a link may have appeared since the file was loaded.
        if FileSupport.isSameFile(input.rejectsPath, input.file.path) {
            throw PipelineError(
                .config,
                "the rejects file \(input.rejectsPath) is the input file \(input.file.path): it would overwrite the input; "
                    + "give 'rejects' another path")
        }
        let saved = try checkpoints.resume(ImportCheckpoint<Importer.Progress>.self, from: database)
        if let saved {
            try saved.input.requireSame(as: fingerprint, path: input.file.path)
            if saved.finished { return try finish(importer, saved.progress, input: input, context: context) }
            context.logger.info("import.resumed", "resuming at line \(saved.position.line)")
        }
        var check: ImportCheck?
        if saved == nil {
            check = ImportCheck(
                source: try importer.makeCheckSource(),
                target: ImportCheck.Target(
                    file: input.file.path, description: input.target, maxRejects: input.maxRejects,
                    rejectsPath: input.rejectsPath, owner: checkpoints.key))
        }
        defer { check?.close() }
        var checkpoint =
            try saved
            ?? ImportCheckpoint(
                position: importer.startPosition, input: fingerprint, progress: importer.initialProgress())
        try importer.begin(
            resumingAt: saved?.position, progress: checkpoint.progress,
            rejections: check.map(ImportRejections.check) ?? .lines(Set(checkpoint.rejectedLines)))
        let chunkRows = checkpoints.isEnabled ? checkpoints.chunkSize : Int.max
        var checked = check == nil
        var isFirstChunk = saved == nil
        while !checkpoint.finished {
            let chunkStarted = Date()
            let readBefore = importer.counts(of: checkpoint.progress)[ImportCounters.read]
            try database.inTransaction {
                if isFirstChunk { try importer.prepareTarget() }
                repeat {
                    let end = try importer.loadChunk(rows: chunkRows, progress: &checkpoint.progress)
                    checkpoint.position = end.position
                    checkpoint.finished = end.reachedEnd
                    // Nothing commits before the whole file has passed its check.
                    if !checked, let check, let verdict = try end.reachedEnd ? check.verdict() : check.verdictIfDone() {
                        importer.absorb(verdict, into: &checkpoint.progress)
                        checkpoint.rejectedLines = verdict.rejectedLines
                        checked = true
                    }
                } while !checked
                checkpoint.rejectedLines.removeAll { $0 < checkpoint.position.line }
                if checkpoints.isEnabled { try checkpoints.record(checkpoint, in: database) }
            }
            isFirstChunk = false
            let counts = importer.counts(of: checkpoint.progress)
            context.chunkCommitted(
                started: chunkStarted, rows: counts[ImportCounters.read] - readBefore, endOffset: checkpoint.position.offset)
            context.report(counts)
            context.progress(
                unit: "rows", count: counts[ImportCounters.read], done: checkpoint.position.offset,
                total: fingerprint.size, finished: checkpoint.finished)
            if !checkpoint.finished { try checkpoints.stopIfRequested() }
        }
        return try finish(importer, checkpoint.progress, input: input, context: context)
    }

    /// Raises `import.rejects` when rows were rejected (again after a resume: it is recorded once).
    private static func finish<Importer: ChunkImporter>(
        _ importer: Importer, _ progress: Importer.Progress, input: Input, context: StageContext
    ) throws -> Importer.Progress {
        let rejected = importer.counts(of: progress)[ImportCounters.rejected]
        context.report(importer.counts(of: progress))
        try raiseRejects(rejected, file: input.file, rejectsPath: input.rejectsPath, context: context)
        return progress
    }

    /// `import.rejects`, when anything was rejected: for importers that do not run through `run`.
    public static func raiseRejects(_ rejected: Int64, file: FilePath, rejectsPath: String, context: StageContext) throws {
        guard rejected > 0 else { return }
        try context.raise(
            ImportEvents.rejects,
            payload: .object([
                ("file", .string(file.path)), ("rejected", .number(String(rejected))), ("rejects_file", .string(rejectsPath)),
            ]))
    }
}

/// Where an import stands, committed with each chunk in the target database. Encoded flat, the
/// importer's progress beside the pipeline's keys, as the importers' checkpoints were before they shared it.
struct ImportCheckpoint<Progress: Codable>: Codable {
    /// Where the next item starts.
    var position: ReaderPosition
    var input: InputFingerprint
    /// First lines of the items the check rejected, from `position` on.
    var rejectedLines: [Int] = []
    var finished = false
    var progress: Progress

    init(position: ReaderPosition, input: InputFingerprint, progress: Progress) {
        self.position = position
        self.input = input
        self.progress = progress
    }

    private enum CodingKeys: String, CodingKey {
        case position, input, rejectedLines, finished
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        position = try container.decode(ReaderPosition.self, forKey: .position)
        input = try container.decode(InputFingerprint.self, forKey: .input)
        rejectedLines = try container.decodeIfPresent([Int].self, forKey: .rejectedLines) ?? []
        finished = try container.decodeIfPresent(Bool.self, forKey: .finished) ?? false
        progress = try Progress(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(position, forKey: .position)
        try container.encode(input, forKey: .input)
        try container.encode(rejectedLines, forKey: .rejectedLines)
        try container.encode(finished, forKey: .finished)
        try progress.encode(to: encoder)
    }
}
