import CSQLite
import Foundation

/// Checkpoints a SQLite database's WAL on a connection and thread of its own while another connection
/// writes (`SQLiteConnection.startBackgroundCheckpoints`).
///
/// SQLite's automatic checkpoint runs on the writer's thread right after a commit: it copies the commit's
/// pages into the database file and syncs twice while the writer waits. Here the writer's commit only
/// wakes this thread, which copies and syncs while the writer goes on; a PASSIVE checkpoint never takes
/// the write lock.
final class SQLiteCheckpointer: @unchecked Sendable {
    /// WAL pages not yet copied that start a checkpoint.
    let pages: Int
    /// The WAL size at which the writer checkpoints itself after a commit, as SQLite's own automatic
    /// checkpoint does: the WAL starts again from its beginning only when a transaction starts with
    /// every page copied, which a thread a commit behind may never let happen.
    let limit: Int
    /// The automatic-checkpoint setting to put back at the end.
    let restoring: Int32
    private let worker = WorkerThread<Void>()
    private var condition: NSCondition { worker.condition }
    /// Under `condition`: a commit left `pages` pages to copy.
    private var isDue = false
    /// Under `condition`: the WAL pages copied into the database, as far as this thread knows.
    private var copied = 0
    /// Under `condition`: this thread is checkpointing.
    private var isCheckpointing = false
    /// Under `condition`: checkpoints this thread has run.
    private var checkpointsRun = 0
    var checkpoints: Int { condition.withLock { checkpointsRun } }

    init(path: String, pages: Int, limit: Int, restoring: Int32, logger: Logger) throws {
        self.pages = max(pages, 1)
        self.limit = max(limit, self.pages)
        self.restoring = restoring
        let connection = ThreadHandoff(try SQLiteConnection(path: path, logger: logger))
        worker.start { [self] in
            defer { connection.value.close() }
            while waitUntilDue() {
                let done = Result { try connection.value.checkpoint() }
                try condition.withLock {
                    isCheckpointing = false
                    condition.broadcast()
                    guard let done = try done.get() else { return }
                    copied = done.copied
                    checkpointsRun += 1
                }
            }
        }
    }

    /// Waits for a checkpoint to be due; false once stopped.
    private func waitUntilDue() -> Bool {
        condition.withLock {
            while !isDue && !worker.isCancelled { condition.wait() }
            isDue = false
            isCheckpointing = !worker.isCancelled
            return isCheckpointing
        }
    }

    /// Called on the writer's thread after each commit with the pages in the WAL; true when the writer
    /// checkpoints itself now (see `limit`): most of the pages are usually copied by then.
    func committed(walPages: Int) -> Bool {
        condition.withLock {
            // The WAL started again from its beginning.
            if walPages < copied { copied = 0 }
            let uncopied = walPages - copied
            if walPages >= limit { return true }
            if uncopied >= pages {
                isDue = true
                condition.signal()
            }
            return false
        }
    }

    /// Waits while this thread is checkpointing: the writer's own checkpoint at `limit` found it busy.
    func waitWhileCheckpointing() {
        condition.withLock {
            while isCheckpointing { condition.wait() }
        }
    }

    /// Stops the thread, waiting for a checkpoint under way; throws what made a checkpoint fail.
    func stop() throws {
        worker.cancelAndWait()
        _ = try worker.resultIfDone()
    }
}

extension SQLiteConnection {
    /// Hands this connection's automatic checkpoints to a thread and connection of their own
    /// (`SQLiteCheckpointer`) until `endBackgroundCheckpoints`: one starts once a commit leaves `pages`
    /// WAL pages uncopied. Nothing happens for a database not in WAL mode, or when they are already on.
    public func startBackgroundCheckpoints(pages: Int = 1_000, limit: Int = 32_768) throws {
        guard backgroundCheckpointer == nil, case .sqlite(let path) = locator else { return }
        var journalMode = ""
        var setting: Int64 = 1_000
        try query("PRAGMA journal_mode", [], columns: { _ in }) { journalMode = $0.string(0) ?? "" }
        guard journalMode.lowercased() == "wal" else { return }
        try query("PRAGMA wal_autocheckpoint", [], columns: { _ in }) { setting = $0.int64(0) ?? setting }
        let database = try openDatabase(for: "PRAGMA wal_checkpoint")
        let checkpointer = try SQLiteCheckpointer(
            path: path, pages: pages, limit: limit, restoring: Int32(clamping: setting), logger: logger)
        backgroundCheckpointer = checkpointer
        // Replaces the automatic checkpoint, itself a WAL hook.
        sqlite3_wal_hook(database, walCommitted, Unmanaged.passUnretained(checkpointer).toOpaque())
    }

    /// Puts the automatic checkpoints back and stops the thread; `checkpoint`: then checkpoints whatever
    /// the WAL still holds (the work ended well). Throws what made a background checkpoint fail.
    public func endBackgroundCheckpoints(checkpoint: Bool) throws {
        guard let checkpointer = backgroundCheckpointer else { return }
        backgroundCheckpointer = nil
        if let database = try? openDatabase(for: "PRAGMA wal_autocheckpoint") {
            sqlite3_wal_autocheckpoint(database, checkpointer.restoring)
        }
        try checkpointer.stop()
        logger.debug("database.checkpoints", "\(checkpointer.checkpoints) checkpoints ran in the background")
        if checkpoint { _ = try self.checkpoint() }
    }

    /// A PASSIVE checkpoint of the main database: copies what it can of the WAL without waiting for a
    /// lock. Returns the pages in the WAL and those copied so far; nil when another connection was
    /// checkpointing (it copies the same pages).
    @discardableResult
    public func checkpoint() throws -> (walPages: Int, copied: Int)? {
        let database = try openDatabase(for: "PRAGMA wal_checkpoint")
        var walPages: Int32 = 0
        var copied: Int32 = 0
        let status = sqlite3_wal_checkpoint_v2(database, "main", SQLITE_CHECKPOINT_PASSIVE, &walPages, &copied)
        if status == SQLITE_BUSY { return nil }
        guard status == SQLITE_OK else { throw Self.error(database, status, statement: "PRAGMA wal_checkpoint(PASSIVE)") }
        return (Int(walPages), Int(copied))
    }
}

/// The WAL hook of a connection with background checkpoints: runs on the writer's thread after each commit.
private func walCommitted(
    context: UnsafeMutableRawPointer?, database: OpaquePointer?, name: UnsafePointer<CChar>?, walPages: Int32
) -> Int32 {
    guard let context, let database, let name, strcmp(name, "main") == 0 else { return SQLITE_OK }
    let checkpointer = Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue()
    guard checkpointer.committed(walPages: Int(walPages)) else { return SQLITE_OK }
    // As SQLite's own hook does; busy while the thread is checkpointing, then once more after it. Still
    // busy (another process), the next commit tries again; a failure shows at the next checkpoint.
    if sqlite3_wal_checkpoint_v2(database, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_BUSY {
        checkpointer.waitWhileCheckpointing()
        _ = sqlite3_wal_checkpoint_v2(database, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
    return SQLITE_OK
}
