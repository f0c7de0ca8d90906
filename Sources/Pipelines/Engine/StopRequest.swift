import Synchronization

/// Set when the process is asked to stop (SIGINT, SIGTERM): stages finish and checkpoint their current
/// chunk, then stop. The executable wires signals to it; the library only reads it.
public final class StopRequest: Sendable {
    private let signal = Atomic<Int32>(0)

    public init() {}

    /// Records the signal; returns false when a stop had already been requested.
    @discardableResult
    public func request(signal number: Int32) -> Bool {
        signal.compareExchange(expected: 0, desired: number, ordering: .sequentiallyConsistent).exchanged
    }

    /// The signal that asked for the stop, if any.
    public var signalNumber: Int32? {
        let value = signal.load(ordering: .sequentiallyConsistent)
        return value == 0 ? nil : value
    }
}
