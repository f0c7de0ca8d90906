import Foundation
import Pipelines

/// Whether a child past its retention still gets writes: PostgreSQL's cumulative write counters
/// (`pg_stat_user_tables`) of each such child, kept between runs in `pipeline_partition_activity` in the
/// same database. A child is quiet when a run finds the same count the run before it recorded.
struct PartitionActivity {
    let database: any DatabaseConnection

    func prepare() throws {
        guard try database.tableColumns(SQLName(validating: "pipeline_partition_activity")) == nil else { return }
        try database.executeScript(
            """
            CREATE TABLE pipeline_partition_activity (
                child TEXT PRIMARY KEY, writes BIGINT NOT NULL, seen_at TIMESTAMPTZ NOT NULL DEFAULT now())
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

    func forget(key: String) throws {
        try database.execute("DELETE FROM pipeline_partition_activity WHERE child = CAST($1 AS TEXT)", [.text(key)])
    }
}
