/// The state store's tables: runs, stage runs, and per-instance stage states with checkpoints.
/// Versioned through `MigrationRunner` as the family `state`.
enum StateSchema {
    static let family = "state"

    static let migrations = [
        Migration(version: 1, name: "runs, stage runs and stage states") { _ in
            """
            CREATE TABLE pipeline_runs (
                id TEXT PRIMARY KEY,
                identity TEXT NOT NULL,
                instance TEXT NOT NULL,
                pipeline TEXT NOT NULL,
                file TEXT NOT NULL,
                params TEXT NOT NULL,
                status TEXT NOT NULL,
                resumed_from TEXT,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                heartbeat_at TEXT NOT NULL,
                pid INTEGER NOT NULL,
                host TEXT NOT NULL,
                error TEXT
            );
            CREATE INDEX pipeline_runs_by_identity ON pipeline_runs (identity, started_at);
            CREATE TABLE pipeline_stage_runs (
                run_id TEXT NOT NULL REFERENCES pipeline_runs (id),
                stage_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                milliseconds INTEGER,
                read_rows INTEGER NOT NULL DEFAULT 0,
                written_rows INTEGER NOT NULL DEFAULT 0,
                rejected_rows INTEGER NOT NULL DEFAULT 0,
                skipped_rows INTEGER NOT NULL DEFAULT 0,
                error TEXT,
                PRIMARY KEY (run_id, stage_id)
            );
            CREATE TABLE pipeline_stage_states (
                instance TEXT NOT NULL,
                stage_id TEXT NOT NULL,
                status TEXT NOT NULL,
                checkpoint TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (instance, stage_id)
            );
            """
        }
    ]
}
