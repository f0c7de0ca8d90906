import Foundation
import Testing

@testable import Pipelines

@Suite(.timeLimit(.minutes(1))) struct DatabaseSQLiteCheckpointTests {
    typealias Support = DatabaseTestSupport

    func withConnection(_ body: (SQLiteConnection, String) throws -> Void) throws {
        let (directory, path) = Support.temporarySQLitePath(nested: "checkpoints")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let connection = try SQLiteConnection(path: path, logger: Support.silentLogger)
        defer { connection.close() }
        try body(connection, path)
    }

    func setting(_ connection: SQLiteConnection) throws -> String? {
        try Support.query(connection, "PRAGMA wal_autocheckpoint").values.first?.first ?? nil
    }

    /// Commits of a page each: the thread copies them into the database as they come, the writer lets the
    /// WAL start again from its beginning once it is past the limit, and nothing is lost.
    @Test func theThreadCopiesCommitsAndTheWALStaysSmall() throws {
        try withConnection { connection, path in
            try connection.executeScript("CREATE TABLE t (id INTEGER PRIMARY KEY, filler BLOB)")
            #expect(try setting(connection) == "1000")
            try connection.startBackgroundCheckpoints(pages: 8, limit: 32)
            let checkpointer = try #require(connection.backgroundCheckpointer)
            // The automatic checkpoint is off while the thread does its work.
            #expect(try setting(connection) == "0")
            for row in 0..<400 {
                try connection.inTransaction {
                    try connection.execute("INSERT INTO t VALUES ($1, zeroblob(3000))", [.integer(Int64(row))])
                }
            }
            // The commits woke the thread; wait for it (bounded), however the scheduler treats it.
            let deadline = Date().addingTimeInterval(20)
            while checkpointer.checkpoints == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            #expect(checkpointer.checkpoints > 0)
            let walBytes = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
            // Without a restart the WAL would hold all 400 commits, a page or more each. It goes past the
            // limit by what is committed while the thread is checkpointing (the writer's own checkpoint
            // is then busy), so the bound here is loose.
            #expect(walBytes < 300 * (4_096 + 24))
            try connection.endBackgroundCheckpoints(checkpoint: true)
            #expect(connection.backgroundCheckpointer == nil)
            #expect(try setting(connection) == "1000")
            let left = try #require(try connection.checkpoint())
            #expect(left.walPages == left.copied)
            #expect(try Support.query(connection, "SELECT count(*) FROM t").values == [["400"]])
        }
    }

    /// Ended without a checkpoint (the work failed) or by closing the connection, the setting comes
    /// back all the same; a second start while on changes nothing.
    @Test func endingPutsTheSettingBack() throws {
        try withConnection { connection, _ in
            try connection.executeScript("PRAGMA wal_autocheckpoint = 500")
            try connection.startBackgroundCheckpoints()
            let first = connection.backgroundCheckpointer
            try connection.startBackgroundCheckpoints()
            #expect(connection.backgroundCheckpointer === first)
            try connection.endBackgroundCheckpoints(checkpoint: false)
            #expect(try setting(connection) == "500")
            try connection.endBackgroundCheckpoints(checkpoint: true)
            try connection.startBackgroundCheckpoints()
            connection.close()
            #expect(connection.backgroundCheckpointer == nil)
        }
    }

    /// A database in another journal mode has no WAL to checkpoint: nothing starts.
    @Test func nothingStartsWithoutAWAL() throws {
        try withConnection { connection, _ in
            try connection.executeScript("PRAGMA journal_mode = DELETE")
            try connection.startBackgroundCheckpoints()
            #expect(connection.backgroundCheckpointer == nil)
            #expect(try setting(connection) == "1000")
        }
    }
}
