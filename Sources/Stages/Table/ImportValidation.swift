import Foundation
import Pipelines

/// Reads the whole input once, on its own thread, while the first chunk loads: every bad row goes to the
/// rejects file, and the loader commits nothing until this check has passed. Past `max_rejects` the
/// import fails and the table is left exactly as it was.
final class ImportValidation: Sendable {
    private let worker = WorkerThread<Void>()

    private init() {}

    /// Starts checking `file` in the background.
    static func start(
        file: FilePath, format: DataFormat, maxRejects: Int, rejectsPath: String,
        describe: @escaping @Sendable (Int64, RowError) -> PipelineError
    ) -> ImportValidation {
        let validation = ImportValidation()
        validation.worker.start {
            do {
                try check(file: file, format: format, maxRejects: maxRejects, rejectsPath: rejectsPath, describe: describe)
            } catch {
                throw PipelineError.wrapping(error)
            }
        }
        return validation
    }

    /// True once the check has finished, whatever its verdict.
    var isFinished: Bool { worker.condition.withLock { worker.outcome != nil } }

    /// Waits for the check; throws its failure.
    func requirePassed() throws { try worker.result() }

    private static func check(
        file: FilePath, format: DataFormat, maxRejects: Int, rejectsPath: String,
        describe: (Int64, RowError) -> PipelineError
    ) throws {
        let source = try RecordSource.open(file, format: format)
        defer { source.close() }
        let expected = try source.columns().count
        let record = RecordBuffer()
        let rejects = RejectsFile(path: rejectsPath)
        var rejected: Int64 = 0
        var last: RowError?
        while let status = try source.next(into: record) {
            guard let problem = status.error ?? source.checkFieldCount(record, expected: expected, line: status.line) else {
                continue
            }
            rejected += 1
            last = problem
            try rejects.add(problem)
        }
        try rejects.finish()
        if rejected > Int64(maxRejects), let last { throw describe(rejected, last) }
    }
}
