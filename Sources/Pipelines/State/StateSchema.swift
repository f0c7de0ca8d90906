/// The state store's tables: runs, stage runs with their counters, per-instance stage states with
/// checkpoints and outputs, the events stages raised, the schedule slot each run belongs to, and the
/// notifications waiting to be delivered. Versioned through `MigrationRunner` as the
/// family `state`.
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
        },
        Migration(version: 2, name: "open stage counters, stage outputs and events") { _ in
            """
            CREATE TABLE pipeline_stage_counters (
                run_id TEXT NOT NULL,
                stage_id TEXT NOT NULL,
                position INTEGER NOT NULL,
                name TEXT NOT NULL,
                unit TEXT NOT NULL,
                value BIGINT NOT NULL,
                PRIMARY KEY (run_id, stage_id, name),
                FOREIGN KEY (run_id, stage_id) REFERENCES pipeline_stage_runs (run_id, stage_id)
            );
            INSERT INTO pipeline_stage_counters (run_id, stage_id, position, name, unit, value)
                SELECT run_id, stage_id, 1, 'read', 'rows', read_rows FROM pipeline_stage_runs WHERE read_rows <> 0;
            INSERT INTO pipeline_stage_counters (run_id, stage_id, position, name, unit, value)
                SELECT run_id, stage_id, 2, 'written', 'rows', written_rows FROM pipeline_stage_runs WHERE written_rows <> 0;
            INSERT INTO pipeline_stage_counters (run_id, stage_id, position, name, unit, value)
                SELECT run_id, stage_id, 3, 'rejected', 'rows', rejected_rows FROM pipeline_stage_runs WHERE rejected_rows <> 0;
            INSERT INTO pipeline_stage_counters (run_id, stage_id, position, name, unit, value)
                SELECT run_id, stage_id, 4, 'skipped', 'rows', skipped_rows FROM pipeline_stage_runs WHERE skipped_rows <> 0;
            ALTER TABLE pipeline_stage_runs DROP COLUMN read_rows;
            ALTER TABLE pipeline_stage_runs DROP COLUMN written_rows;
            ALTER TABLE pipeline_stage_runs DROP COLUMN rejected_rows;
            ALTER TABLE pipeline_stage_runs DROP COLUMN skipped_rows;
            ALTER TABLE pipeline_stage_states ADD COLUMN outputs TEXT;
            CREATE TABLE pipeline_stage_events (
                id TEXT PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES pipeline_runs (id),
                instance TEXT NOT NULL,
                stage_id TEXT NOT NULL,
                name TEXT NOT NULL,
                payload TEXT NOT NULL,
                raised_at TEXT NOT NULL
            );
            CREATE INDEX pipeline_stage_events_by_run ON pipeline_stage_events (run_id, raised_at);
            """
        },
        Migration(version: 3, name: "the schedule slot of a run") { _ in
            """
            ALTER TABLE pipeline_runs ADD COLUMN series TEXT;
            ALTER TABLE pipeline_runs ADD COLUMN slot TEXT;
            CREATE INDEX pipeline_runs_by_series ON pipeline_runs (series, slot);
            """
        },
        Migration(version: 4, name: "the notification outbox") { _ in
            """
            CREATE TABLE pipeline_outbox (
                event_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                channel_display TEXT NOT NULL,
                pipeline TEXT NOT NULL,
                run_id TEXT NOT NULL,
                name TEXT NOT NULL,
                body TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                error TEXT,
                created_at TEXT NOT NULL,
                attempted_at TEXT,
                attempted_by TEXT,
                delivered_at TEXT,
                PRIMARY KEY (event_id, channel)
            );
            CREATE INDEX pipeline_outbox_by_pipeline ON pipeline_outbox (pipeline, status, created_at);
            """
        },
    ]
}
