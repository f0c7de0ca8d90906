import Foundation
import Pipelines

/// `model_publications` in the pipeline's database: what was published where (schema family `models`,
/// documented in docs/store-schema.md).
struct ModelPublications {
    static let unpacked = "unpacked"
    static let published = "published"
    static let removed = "removed"

    static let schema = SchemaFamily(
        name: "models",
        migrations: [
            Migration(version: 1, name: "model publications") { _ in
                """
                CREATE TABLE model_publications (
                    target TEXT NOT NULL,
                    name TEXT NOT NULL,
                    version TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    dataset_version TEXT,
                    path TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('unpacked', 'published', 'removed')),
                    published_at TEXT NOT NULL,
                    PRIMARY KEY (target, name, version)
                )
                """
            }
        ])

    struct Record {
        var version: String
        var sha256: String
        var status: String
    }

    let database: any DatabaseConnection

    func find(target: String, name: String, version: String) throws -> Record? {
        var found: Record?
        try database.query(
            "SELECT version, sha256, status FROM model_publications WHERE target = $1 AND name = $2 AND version = $3",
            [.text(target), .text(name), .text(version)], columns: { _ in }
        ) { found = Record(version: $0.string(0) ?? "", sha256: $0.string(1) ?? "", status: $0.string(2) ?? "") }
        return found
    }

    /// Inserts or updates the publication of `package` at `target`.
    func record(target: String, package: CheckedPackage, path: String, status: String) throws {
        try database.inTransaction {
            try database.execute(
                """
                INSERT INTO model_publications (target, name, version, sha256, dataset_version, path, status, published_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (target, name, version) DO UPDATE SET status = excluded.status, published_at = excluded.published_at
                """,
                [
                    .text(target), .text(package.name), .text(package.version), .text(package.sha256),
                    package.datasetVersion.map(SQLValue.text) ?? .null, .text(path), .text(status), .text(StateTime.text(Date())),
                ])
        }
    }

    /// The versions of `name` at `target` still on disk, newest publication first.
    func versions(target: String, name: String) throws -> [String] {
        var versions: [String] = []
        try database.query(
            """
            SELECT version FROM model_publications WHERE target = $1 AND name = $2 AND status <> 'removed'
            ORDER BY published_at DESC, version DESC
            """, [.text(target), .text(name)], columns: { _ in }
        ) { versions.append($0.string(0) ?? "") }
        return versions
    }

    func markRemoved(target: String, name: String, version: String) throws {
        try database.inTransaction {
            try database.execute(
                "UPDATE model_publications SET status = 'removed' WHERE target = $1 AND name = $2 AND version = $3",
                [.text(target), .text(name), .text(version)])
        }
    }
}
