import Foundation
import Pipelines

/// The statements of one table's maintenance, in the order they run. A new child is made beside the
/// table and attached (`ATTACH PARTITION` takes SHARE UPDATE EXCLUSIVE on the parent, so inserts go on);
/// rows waiting in the default partition move into their child in the same transaction that attaches it.
struct PartitionDDL {
    var catalog: PartitionCatalog
    var config: PartitionTableConfig
    var zone: TimeZone
    /// Indexes of the template table, as `CREATE INDEX` statements with `%CHILD%` for the child.
    var templateIndexes: [String] = []
    /// `GRANT` statements of the parent's privileges, with `%CHILD%` for the child.
    var grants: [String] = []

    var parent: String { catalog.qualified(catalog.table.name) }
    var column: String { SQLName.quote(config.column) }

    /// One transaction's statements, for a plan line and for running.
    struct Step: Equatable {
        enum Action: Equatable {
            case convert
            case createDefault
            case create(PartitionChild, drain: Bool)
            case detach(String)
            /// Archive a detached child: no statements, the rows are read out to a file.
            case archive(String)
            case drop(String)
        }

        var action: Action
        var what: String
        var statements: [String]
    }

    func createDefault() -> Step {
        let name = PartitionNaming.defaultName(parent: catalog.table.name)
        let qualified = catalog.qualified(name)
        return Step(
            action: .createDefault, what: "create the default partition \(name)",
            statements: ["CREATE TABLE \(qualified) PARTITION OF \(parent) DEFAULT", "ALTER TABLE \(qualified) OWNER TO \(SQLName.quote(catalog.owner))"]
                + grants.map { $0.replacingOccurrences(of: "%CHILD%", with: qualified) })
    }

    /// Makes a child beside the table, moves the default's rows of its span into it (when `drain`), and
    /// attaches it.
    func create(_ child: PartitionChild, drain: Bool) -> Step {
        let name = catalog.qualified(child.name)
        let from = catalog.literal(child.from, zone: zone)
        let to = catalog.literal(child.to, zone: zone)
        var statements = [
            "CREATE TABLE \(name) (LIKE \(parent) INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS)",
            "ALTER TABLE \(name) ADD CONSTRAINT \(SQLName.quote(String(child.name.prefix(50)) + "_bounds")) CHECK (\(column) IS NOT NULL AND \(column) >= \(from) AND \(column) < \(to))",
        ]
        statements += templateIndexes.map { $0.replacingOccurrences(of: "%CHILD%", with: name) }
        statements.append("ALTER TABLE \(name) OWNER TO \(SQLName.quote(catalog.owner))")
        statements += grants.map { $0.replacingOccurrences(of: "%CHILD%", with: name) }
        if drain, let defaultPartition = catalog.defaultPartition {
            statements.append(
                "WITH moved AS (DELETE FROM \(catalog.qualified(defaultPartition)) WHERE \(column) >= \(from) AND \(column) < \(to) RETURNING *) INSERT INTO \(name) SELECT * FROM moved")
        }
        statements.append("ALTER TABLE \(parent) ATTACH PARTITION \(name) FOR VALUES FROM (\(from)) TO (\(to))")
        // The bounds constraint only spares the attach its scan; the partition bound replaces it.
        statements.append("ALTER TABLE \(name) DROP CONSTRAINT \(SQLName.quote(String(child.name.prefix(50)) + "_bounds"))")
        let span = "\(from) to \(to)"
        return Step(action: .create(child, drain: drain), what: (drain ? "create \(child.name) (\(span)) and move the default partition's rows of it there" : "create \(child.name) (\(span))"), statements: statements)
    }

    func detach(_ child: String) -> Step {
        Step(action: .detach(child), what: "detach \(child)", statements: ["ALTER TABLE \(parent) DETACH PARTITION \(catalog.qualified(child))"])
    }

    func archive(_ child: String, to folder: String) -> Step {
        Step(action: .archive(child), what: "archive \(child) to \(folder)/\(child).tar.gz", statements: [])
    }

    func drop(_ child: String) -> Step {
        Step(action: .drop(child), what: "drop \(child)", statements: ["DROP TABLE \(catalog.qualified(child))"])
    }

    /// The template table's indexes and the parent's privileges, read from the catalogue.
    static func inherited(from catalog: PartitionCatalog, template: SQLName?, in database: any DatabaseConnection) throws -> (indexes: [String], grants: [String]) {
        var indexes: [String] = []
        if let template {
            try database.query(
                """
                SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
                WHERE i.indrelid = to_regclass(CAST($1 AS TEXT)) AND NOT i.indisprimary ORDER BY i.indexrelid
                """, [.text(template.quoted)], columns: { _ in }
            ) { row in
                // CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING ... → the same on the child, named by PostgreSQL.
                guard let definition = row.string(0), let on = definition.range(of: " ON "),
                    let using = definition.range(of: " USING ", range: on.upperBound..<definition.endIndex)
                else { return }
                let head = definition.hasPrefix("CREATE UNIQUE INDEX") ? "CREATE UNIQUE INDEX" : "CREATE INDEX"
                indexes.append("\(head) ON %CHILD%\(definition[using.lowerBound...])")
            }
        }
        let grants = try PartitionCatalog.grants(of: catalog.table.quoted, to: "%CHILD%", in: database)
        return (indexes, grants)
    }
}
