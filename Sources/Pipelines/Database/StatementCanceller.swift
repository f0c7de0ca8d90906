import CPostgres
import CSQLite
import Synchronization

/// Cancels the statement a connection is running, from another thread: how a stop request (SIGINT,
/// SIGTERM) reaches a query that would otherwise run on for minutes. PostgreSQL: `PQcancel` on the
/// connection's cancel object; SQLite: `sqlite3_interrupt`. The statement then fails, its transaction
/// rolls back, and the run stops resumable at its last checkpoint.
public final class StatementCanceller: Sendable {
    private enum Handle {
        case none
        case sqlite(OpaquePointer)
        case postgres(OpaquePointer)
    }

    private struct Box: @unchecked Sendable { var handle: Handle }
    private let box: Mutex<Box>

    init() { box = Mutex(Box(handle: .none)) }

    init(sqlite database: OpaquePointer) { box = Mutex(Box(handle: .sqlite(database))) }

    /// Takes the connection's cancel object (`PQgetCancel`); freed by `invalidate()`.
    init(postgres connection: OpaquePointer) {
        box = Mutex(Box(handle: PQgetCancel(connection).map { .postgres($0) } ?? .none))
    }

    /// Cancels what is running now; does nothing once the connection is closed.
    public func cancel() {
        box.withLock { box in
            switch box.handle {
            case .none: break
            case .sqlite(let database): sqlite3_interrupt(database)
            case .postgres(let cancel):
                var message = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancel, &message, Int32(message.count))
            }
        }
    }

    public var isClosed: Bool {
        box.withLock { box in
            if case .none = box.handle { return true }
            return false
        }
    }

    /// Called by the connection before it closes.
    func invalidate() {
        box.withLock { box in
            if case .postgres(let cancel) = box.handle { PQfreeCancel(cancel) }
            box.handle = .none
        }
    }
}
