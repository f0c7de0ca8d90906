import Foundation

/// Statements that each keep one core of the database busy, run on two connections side by side: a
/// connection takes the next job when it is done with one, so the larger jobs should come first.
enum SideBySide {
    /// Runs `body` for every job on `connection` and, on a thread of its own, on `second` (when there is
    /// one; it is not closed). Returns the jobs' results in the order of `jobs`, whichever connection ran
    /// them. The first failure stops both connections from taking more jobs, and is thrown.
    static func run<Job: Sendable, Output: Sendable>(
        _ jobs: [Job], on connection: any DatabaseConnection, _ second: (any DatabaseConnection)?,
        _ body: @escaping @Sendable (Job, any DatabaseConnection) throws -> Output
    ) throws -> [Output] {
        guard !jobs.isEmpty else { return [] }
        let queue = JobQueue<Job, Output>(jobs)
        let worker = WorkerThread<Void>()
        if let second {
            let handoff = ThreadHandoff(second)
            worker.start { try queue.work(on: handoff.value, body) }
        }
        let own = Result { try queue.work(on: connection, body) }
        let other = second == nil ? .success(()) : Result { try worker.result() }
        try own.get()
        try other.get()
        return try queue.outputs()
    }

    /// Jobs taken one at a time by the connections that run them, and their outputs.
    private final class JobQueue<Job: Sendable, Output: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private let jobs: [Job]
        private var next = 0
        private var stopped = false
        private var done: [Int: Output] = [:]

        init(_ jobs: [Job]) { self.jobs = jobs }

        func work(on connection: any DatabaseConnection, _ body: (Job, any DatabaseConnection) throws -> Output) throws {
            while let index = take() {
                do {
                    let output = try body(jobs[index], connection)
                    lock.withLock { done[index] = output }
                } catch {
                    lock.withLock { stopped = true }
                    throw error
                }
            }
        }

        private func take() -> Int? {
            lock.withLock {
                guard !stopped, next < jobs.count else { return nil }
                defer { next += 1 }
                return next
            }
        }

        func outputs() throws -> [Output] {
            try lock.withLock {
                try jobs.indices.map { index in
                    guard let output = done[index] else { throw PipelineError(.internal, "a job run side by side gave no result") }
                    return output
                }
            }
        }
    }
}
