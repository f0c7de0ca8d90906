import Foundation
import Synchronization

/// Set when the process is asked to stop (SIGINT, SIGTERM): stages finish and checkpoint their current
/// chunk, then stop. The executable wires signals to it; the library only reads it.
public final class StopRequest: Sendable {
    private let signal = Atomic<Int32>(0)
    private let cancellers = Mutex<[StatementCanceller]>([])
    private let watching = Atomic<Bool>(false)

    public init() {}

    /// Records the signal; returns false when a stop had already been requested.
    @discardableResult
    public func request(signal number: Int32) -> Bool {
        signal.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent).exchanged
    }

    /// Cancels `canceller`'s running statement when a stop is requested, so that a long query does not
    /// hold the stop back. A thread of its own watches for the request (a signal handler may not take
    /// locks); it starts with the first registration.
    public func cancelsOnStop(_ canceller: StatementCanceller) {
        cancellers.withLock { list in
            list.removeAll { $0.isClosed }
            list.append(canceller)
        }
        guard watching.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else {
            return
        }
        let watcher = Thread { [self] in
            while signalNumber == nil { Thread.sleep(forTimeInterval: 0.05) }
            for canceller in cancellers.withLock({ $0 }) { canceller.cancel() }
        }
        watcher.name = "pipeline stop watcher"
        watcher.start()
    }

    /// The signal that asked for the stop, if any.
    public var signalNumber: Int32? {
        let value = signal.load(ordering: .sequentiallyConsistent)
        return value == 0 ? nil : value
    }
}
