import Foundation

/// A background thread whose outcome, and the cancel flag its work checks, live under `condition`; the
/// owner keeps the state it shares with the thread under the same condition.
public final class WorkerThread<Value>: @unchecked Sendable {
    public let condition = NSCondition()
    /// Under `condition`: the work's result once it has ended.
    public private(set) var outcome: Result<Value, any Error>?
    /// Under `condition`: set by `cancelAndWait`; the work checks it and stops early.
    public private(set) var isCancelled = false
    private var started = false
    private let exited = DispatchSemaphore(value: 0)

    public init() {}

    /// Runs `work` on a new thread; call once.
    public func start(_ work: @escaping () throws -> Value) {
        let handoff = ThreadHandoff(work)
        condition.withLock { started = true }
        Thread { [self] in
            let result = Result { try handoff.value() }
            condition.withLock {
                outcome = result
                condition.broadcast()
            }
            exited.signal()
        }.start()
    }

    /// The work's result, waiting for it to end; throws what it threw.
    public func result() throws -> Value {
        try condition.withLock {
            while outcome == nil { condition.wait() }
            guard let outcome else { throw PipelineError(.internal, "a background thread ended without a result") }
            return try outcome.get()
        }
    }

    /// The work's result if it has ended, without waiting; throws what it threw.
    public func resultIfDone() throws -> Value? {
        try condition.withLock { try outcome?.get() }
    }

    /// Marks the work cancelled, wakes every waiter and waits until the thread has exited.
    public func cancelAndWait() {
        let wasStarted = condition.withLock {
            isCancelled = true
            condition.broadcast()
            return started
        }
        guard wasStarted else { return }
        exited.wait()
        exited.signal()
    }
}

/// Hands a value that is not `Sendable` to the one thread that uses it from then on.
public struct ThreadHandoff<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
