import Foundation
import Pipelines

/// What maintenance remembers between runs about children past their retention, in
/// `pipeline_partition_activity` in the tables' database:
/// - their cumulative write counts (`pg_stat_user_tables`): a child is quiet when a run finds the same
///   count the run before it recorded, and only a quiet child is removed;
/// - a child being removed (`expiring`), recorded before it is detached, so that a run killed between
///   the detach and the archive or drop finishes the job on the next run.
struct PartitionActivity {
    let database: any DatabaseConnection

    func prepare() throws {
        guard try database.tableColumns(SQLName(validating: "pipeline_partition_activity")) == nil else { return }
        try database.executeScript(
            """
            CREATE TABLE pipeline_partition_activity (
                child TEXT PRIMARY KEY, writes BIGINT NOT NULL, expiring BOOLEAN NOT NULL DEFAULT false,
                seen_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """)
    }

    /// Records the child's write count; true when it equals the one recorded before.
    func isQuiet(_ qualified: String, key: String) throws -> Bool {
        var writes: Int64 = 0
        try database.query(
            """
            SELECT COALESCE(n_tup_ins + n_tup_upd + n_tup_del, 0) FROM pg_stat_user_tables WHERE relid = to_regclass(CAST($1 AS TEXT))
            """, [.text(qualified)], columns: { _ in }
        ) { writes = $0.int64(0) ?? 0 }
        var recorded: Int64?
        try database.query("SELECT writes FROM pipeline_partition_activity WHERE child = CAST($1 AS TEXT)", [.text(key)], columns: { _ in }) {
            recorded = $0.int64(0)
        }
        if recorded == writes { return true }
        try database.execute(
            """
            INSERT INTO pipeline_partition_activity (child, writes) VALUES (CAST($1 AS TEXT), CAST($2 AS BIGINT))
            ON CONFLICT (child) DO UPDATE SET writes = excluded.writes, seen_at = now()
            """, [.text(key), .integer(writes)])
        return false
    }

    func markExpiring(key: String) throws {
        try database.execute("UPDATE pipeline_partition_activity SET expiring = true, seen_at = now() WHERE child = CAST($1 AS TEXT)", [.text(key)])
    }

    /// The children of `table` (keys `TABLE CHILD`) a killed run left half removed.
    func expiring(table: String) throws -> [String] {
        var children: [String] = []
        try database.query(
            "SELECT child FROM pipeline_partition_activity WHERE expiring AND child LIKE CAST($1 AS TEXT) ORDER BY child",
            [.text(table.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + " %")],
            columns: { _ in }
        ) { row in
            if let key = row.string(0) { children.append(String(key.dropFirst(table.count + 1))) }
        }
        return children
    }

    func forget(key: String) throws {
        try database.execute("DELETE FROM pipeline_partition_activity WHERE child = CAST($1 AS TEXT)", [.text(key)])
    }
}
