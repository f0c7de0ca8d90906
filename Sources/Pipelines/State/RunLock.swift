#if canImport(Glibc)
    import Glibc
#endif
import Foundation

/// Keeps two runs of the same identity from overlapping. The lock dies with its process, which is how a
/// dead run is told from a live one: `flock` on a file beside a SQLite state store, a session advisory
/// lock on a PostgreSQL one.
final class RunLock {
    private enum Held {
        case file(Int32)
        case advisory(any DatabaseConnection, Int64)
    }

    private var held: Held?

    private init(held: Held) { self.held = held }

    deinit { release() }

    /// Takes the lock for `identity`, or returns nil at once when another process holds it.
    static func acquire(identity: RunIdentity, store: StateStore) throws -> RunLock? {
        switch store.locator {
        case .sqlite(let path):
            let folder = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("locks")
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw PipelineError(.io, "cannot create the lock folder \(folder)", cause: error)
            }
            let lockPath = (folder as NSString).appendingPathComponent("\(identity.key).lock")
            let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw PipelineError(.io, "cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
            }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                let failure = errno
                close(descriptor)
                if failure == EWOULDBLOCK { return nil }
                throw PipelineError(.io, "cannot lock \(lockPath): \(String(cString: strerror(failure)))")
            }
            return RunLock(held: .file(descriptor))
        case .postgres:
            let key = advisoryKey(identity)
            var granted = false
            try store.connection.query("SELECT pg_try_advisory_lock($1::bigint)", [.integer(key)], columns: { _ in }) {
                granted = $0.string(0) == "true"
            }
            return granted ? RunLock(held: .advisory(store.connection, key)) : nil
        }
    }

    func release() {
        switch held {
        case .file(let descriptor):
            flock(descriptor, LOCK_UN)
            close(descriptor)
        case .advisory(let connection, let key):
            _ = try? connection.execute("SELECT pg_advisory_unlock($1::bigint)", [.integer(key)])
        case nil:
            break
        }
        held = nil
    }

    /// The first 60 bits of the identity's digest, as a positive bigint.
    private static func advisoryKey(_ identity: RunIdentity) -> Int64 {
        Int64(identity.key.prefix(15), radix: 16) ?? 0
    }
}
