/// One versioned step of a schema family (e.g. the product store's tables).
///
/// Versions start at 1 and only grow; a released migration is never edited, a change is a new version.
/// The SQL may hold several statements separated by `;` and runs in one transaction with the record
/// of its version.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sql: @Sendable (SQLDialect) -> String
    /// SQLite: the migration rebuilds a table that other tables reference (SQLite's way to change a
    /// column's constraints: create the new table, copy, drop the old, rename). Foreign keys are not
    /// enforced while it runs, since dropping the old table would otherwise cascade into every table
    /// referencing it, and SQLite cannot switch enforcement inside a transaction; before the
    /// migration commits, `PRAGMA foreign_key_check` must find no broken reference.
    public let rebuildsReferencedTable: Bool

    public init(
        version: Int, name: String, rebuildsReferencedTable: Bool = false, sql: @escaping @Sendable (SQLDialect) -> String
    ) {
        self.version = version
        self.name = name
        self.rebuildsReferencedTable = rebuildsReferencedTable
        self.sql = sql
    }
}

/// One row of `schema_migrations`.
public struct AppliedMigration: Sendable, Hashable {
    public var version: Int
    public var name: String
    /// ISO 8601, UTC.
    public var appliedAt: String

    public init(version: Int, name: String, appliedAt: String) {
        self.version = version
        self.name = name
        self.appliedAt = appliedAt
    }
}
