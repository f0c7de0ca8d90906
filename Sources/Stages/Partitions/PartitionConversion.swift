import Foundation
import Pipelines

/// Turns a plain table into a partitioned set, when the table's `start` asks for it: the table is renamed
/// `NAME_unpartitioned` and a partitioned twin made in its place (`LIKE … INCLUDING ALL`, its owner and
/// grants, its identity sequences carried on, its serial sequences handed over), in one transaction; then,
/// after the children are made, the rows move over interval by interval, each interval in a transaction
/// of its own, and the old table is dropped once empty. A run killed on the way goes on from where it was.
///
/// Refused (78) when it cannot be done without breaking something: foreign keys or views pointing at
/// the table, triggers (LIKE does not copy them), or a primary key or unique constraint without the
/// partition column (PostgreSQL requires it on a partitioned table).
struct PartitionConversion {
    let maintenance: TableMaintenance

    var database: any DatabaseConnection { maintenance.database }
    var column: String { maintenance.config.column }

    /// `NAME_unpartitioned`, shortened to fit 63 bytes.
    static func oldName(_ table: String) -> String {
        var stem = table
        while stem.utf8.count + "_unpartitioned".utf8.count > 63, !stem.isEmpty { stem.removeLast() }
        return stem + "_unpartitioned"
    }

    func oldTable(_ catalog: PartitionCatalog) -> String { catalog.qualified(Self.oldName(catalog.table.name)) }

    /// The statements that turn the table into a partitioned set, after checking it can be done.
    func statements(_ catalog: PartitionCatalog) throws -> [String] {
        let table = catalog.table.quoted
        var problems: [String] = []
        try database.query(
            "SELECT conname::text, conrelid::regclass::text FROM pg_constraint WHERE confrelid = to_regclass(CAST($1 AS TEXT)) AND contype = 'f'",
            [.text(table)], columns: { _ in }
        ) { problems.append("the foreign key \($0.string(0) ?? "") of \($0.string(1) ?? "") points at it") }
        try database.query(
            """
            SELECT DISTINCT v.oid::regclass::text FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
            WHERE d.refobjid = to_regclass(CAST($1 AS TEXT)) AND v.oid <> d.refobjid
            """, [.text(table)], columns: { _ in }
        ) { problems.append("the view \($0.string(0) ?? "") reads it") }
        try database.query(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = to_regclass(CAST($1 AS TEXT)) AND NOT tgisinternal", [.text(table)],
            columns: { _ in }
        ) { problems.append("it has the trigger \($0.string(0) ?? "")") }
        try database.query(
            """
            SELECT c.conname::text FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attname = CAST($2 AS TEXT)
            WHERE c.conrelid = to_regclass(CAST($1 AS TEXT)) AND c.contype IN ('p', 'u') AND NOT a.attnum = ANY (c.conkey)
            """, [.text(table), .text(column)], columns: { _ in }
        ) { problems.append("its key \($0.string(0) ?? "") does not include \(column) (a partitioned table's keys must)") }
        var type = ""
        try database.query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(CAST($1 AS TEXT)) AND attname = CAST($2 AS TEXT) AND NOT attisdropped",
            [.text(table), .text(column)], columns: { _ in }
        ) { type = $0.string(0) ?? "" }
        if PartitionCatalog.KeyType(rawValue: type) == nil { problems.append("its column \(column) is not a timestamp, timestamptz or date") }
        guard problems.isEmpty else {
            throw PipelineError(.config, "\(maintenance.name) cannot be turned into a partitioned set: " + problems.joined(separator: "; "))
        }
        let old = oldTable(catalog)
        let qualified = catalog.qualified(catalog.table.name)
        var statements = [
            "ALTER TABLE \(qualified) RENAME TO \(SQLName.quote(Self.oldName(catalog.table.name)))",
            "CREATE TABLE \(qualified) (LIKE \(old) INCLUDING ALL) PARTITION BY RANGE (\(SQLName.quote(column)))",
            "ALTER TABLE \(qualified) OWNER TO \(SQLName.quote(catalog.owner))",
        ]
        statements += try PartitionCatalog.grants(of: table, to: qualified, in: database)
        // Identity columns: the twin's new sequence goes on from the old one's value (the old sequence
        // keeps its name through the rename).
        try database.query(
            """
            SELECT attname::text, pg_get_serial_sequence(CAST($1 AS TEXT), attname::text) FROM pg_attribute
            WHERE attrelid = to_regclass(CAST($1 AS TEXT)) AND attidentity <> '' AND NOT attisdropped ORDER BY attnum
            """, [.text(table)], columns: { _ in }
        ) { row in
            guard let name = row.string(0), let sequence = row.string(1) else { return }
            statements.append(
                "SELECT setval(pg_get_serial_sequence('\(qualified.replacingOccurrences(of: "'", with: "''"))', '\(name.replacingOccurrences(of: "'", with: "''"))'), last_value, is_called) FROM \(sequence)")
        }
        // Serial columns: their sequence is handed to the twin, so dropping the old table keeps it.
        try database.query(
            """
            SELECT s.oid::regclass::text, a.attname::text FROM pg_depend d
            JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.refobjid = to_regclass(CAST($1 AS TEXT)) AND d.deptype = 'a'
            """, [.text(table)], columns: { _ in }
        ) { statements.append("ALTER SEQUENCE \($0.string(0) ?? "") OWNED BY \(qualified).\(SQLName.quote($0.string(1) ?? ""))") }
        return statements
    }

    /// Whether an old table from an earlier conversion still holds rows to move.
    func oldTableExists(_ catalog: PartitionCatalog) throws -> Bool {
        try PartitionCatalog.exists(oldTable(catalog), in: database)
    }

    /// Moves the old table's rows into the set, interval by interval (rows without a child go to the
    /// default partition, which the caller drains); drops the old table once empty. Returns the rows moved.
    func moveRows(_ catalog: PartitionCatalog) throws -> Int64 {
        let old = oldTable(catalog)
        let qualified = catalog.qualified(catalog.table.name)
        let key = SQLName.quote(column)
        var moved: Int64 = 0
        while true {
            if maintenance.isStopRequested() { throw PipelineError.stopped(by: SIGTERM) }
            var first: String?
            try database.query("SELECT min(\(key))::text FROM \(old)", [], columns: { _ in }) { first = $0.string(0) }
            let condition: String
            if let first, let instant = try instant(first, catalog: catalog) {
                let start = maintenance.config.interval.start(of: instant, in: maintenance.calendar)
                let end = maintenance.config.interval.advance(start, by: 1, in: maintenance.calendar)
                condition = "\(key) >= \(catalog.literal(start, zone: maintenance.settings.zone)) AND \(key) < \(catalog.literal(end, zone: maintenance.settings.zone))"
            } else {
                condition = "\(key) IS NULL"
            }
            var count: Int64 = 0
            try database.query("SELECT count(*) FROM \(old) WHERE \(condition)", [], columns: { _ in }) { count = $0.int64(0) ?? 0 }
            if count == 0 { break }
            try maintenance.perform(
                PartitionDDL.Step(
                    action: .convert, what: "move \(count) rows of \(maintenance.name) into the partitioned set",
                    statements: ["WITH moved AS (DELETE FROM \(old) WHERE \(condition) RETURNING *) INSERT INTO \(qualified) OVERRIDING SYSTEM VALUE SELECT * FROM moved"]))
            moved += count
        }
        try maintenance.perform(PartitionDDL.Step(action: .drop(Self.oldName(catalog.table.name)), what: "drop the emptied \(old)", statements: ["DROP TABLE \(old)"]))
        return moved
    }

    private func instant(_ text: String, catalog: PartitionCatalog) throws -> Date? {
        var seconds: Double?
        let cast: String =
            switch catalog.keyType ?? .timestamptz {
            case .timestamptz: "CAST($1 AS timestamptz)"
            case .timestamp: "(CAST($1 AS timestamp) AT TIME ZONE CAST($2 AS TEXT))"
            case .date: "(CAST(CAST($1 AS date) AS timestamp) AT TIME ZONE CAST($2 AS TEXT))"
            }
        try database.query(
            "SELECT extract(epoch FROM \(cast))::float8::text WHERE CAST($2 AS TEXT) IS NOT NULL", [.text(text), .text(maintenance.settings.zone.identifier)],
            columns: { _ in }
        ) { seconds = $0.string(0).flatMap(Double.init) }
        return seconds.map { Date(timeIntervalSince1970: $0) }
    }
}
