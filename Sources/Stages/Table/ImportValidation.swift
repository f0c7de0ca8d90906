import Foundation
import Pipelines
import Synchronization

/// Reads the whole input once, on its own thread, while the first chunk loads: every bad row goes to the
/// rejects file, and the loader commits nothing until this check has passed. Past `max_rejects` the
/// import fails and the table is left exactly as it was.
final class ImportValidation: Sendable {
    enum Verdict: Sendable {
        case passed(rejected: Int64)
        case failed(PipelineError)
    }

    private let verdict = Mutex<Verdict?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    private init() {}

    /// Starts checking `file` in the background.
    static func start(
        file: FilePath, format: DataFormat, maxRejects: Int, rejectsPath: String,
        describe: @escaping @Sendable (Int64, RowError) -> PipelineError
    ) -> ImportValidation {
        let validation = ImportValidation()
        Thread {
            let result: Verdict
            do {
                result = try check(file: file, format: format, maxRejects: maxRejects, rejectsPath: rejectsPath, describe: describe)
            } catch {
                result = .failed(PipelineError.wrapping(error))
            }
            validation.verdict.withLock { $0 = result }
            validation.finished.signal()
        }.start()
        return validation
    }

    /// True once the check has finished, whatever its verdict.
    var isFinished: Bool { verdict.withLock { $0 != nil } }

    /// Waits for the check; throws its failure.
    func requirePassed() throws {
        finished.wait()
        finished.signal()
        switch verdict.withLock({ $0 }) {
        case .failed(let error): throw error
        case .passed, nil: return
        }
    }

    private static func check(
        file: FilePath, format: DataFormat, maxRejects: Int, rejectsPath: String,
        describe: (Int64, RowError) -> PipelineError
    ) throws -> Verdict {
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
        if rejected > Int64(maxRejects), let last { return .failed(describe(rejected, last)) }
        return .passed(rejected: rejected)
    }
}
