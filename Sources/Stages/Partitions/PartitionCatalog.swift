import Foundation
import Pipelines

/// A table as PostgreSQL's catalogue describes it: whether it is partitioned (and by which column, of
/// which type), its children with their bounds and row estimates, its default partition. Read, never
/// assumed, so that a set pg_partman made (or anyone else) is taken over as it is.
struct PartitionCatalog {
    enum KeyType: String {
        case timestamptz = "timestamp with time zone"
        case timestamp = "timestamp without time zone"
        case date
    }

    struct Child: Equatable {
        var name: String
        var from: Date
        var to: Date
        var estimatedRows: Int64
    }

    var table: SQLName
    /// The schema the table lives in (new children go there too).
    var schema: String
    var exists: Bool
    var isPartitioned: Bool
    var column: String?
    var keyType: KeyType?
    var owner: String
    /// Children with range bounds on the key, in bound order.
    var children: [Child] = []
    /// Children this maintenance cannot read (MINVALUE, MAXVALUE, other strategies).
    var otherChildren: [String] = []
    var defaultPartition: String?

    static func read(_ table: SQLName, zone: String, in database: any DatabaseConnection) throws -> PartitionCatalog {
        var catalog = PartitionCatalog(table: table, schema: "", exists: false, isPartitioned: false, owner: "")
        try database.query(
            """
            SELECT n.nspname, pg_get_userbyid(c.relowner), c.relkind::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
                pt.partstrat::text, pt.partnatts
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
            WHERE c.oid = to_regclass(CAST($1 AS TEXT))
            """, [.text(table.quoted)], columns: { _ in }
        ) { row in
            catalog.exists = true
            catalog.schema = row.string(0) ?? "public"
            catalog.owner = row.string(1) ?? ""
            catalog.isPartitioned = row.string(2) == "p"
            catalog.column = row.string(3)
            catalog.keyType = row.string(4).flatMap(KeyType.init(rawValue:))
            if row.string(5).map({ $0 != "r" }) ?? false || (row.int64(6) ?? 1) != 1 { catalog.keyType = nil }
        }
        guard catalog.isPartitioned, let keyType = catalog.keyType else { return catalog }
        let bound: (String) -> String = { text in
            switch keyType {
            case .timestamptz: "CAST(\(text) AS timestamptz)"
            case .timestamp: "(CAST(\(text) AS timestamp) AT TIME ZONE CAST($2 AS TEXT))"
            case .date: "(CAST(CAST(\(text) AS date) AS timestamp) AT TIME ZONE CAST($2 AS TEXT))"
            }
        }
        try database.query(
            """
            SELECT ch.relname::text, pg_get_expr(ch.relpartbound, ch.oid), GREATEST(ch.reltuples, 0)::bigint,
                extract(epoch FROM \(bound("m[1]")))::float8::text, extract(epoch FROM \(bound("m[2]")))::float8::text
            FROM pg_inherits i JOIN pg_class ch ON ch.oid = i.inhrelid,
                LATERAL (SELECT regexp_match(pg_get_expr(ch.relpartbound, ch.oid), 'FROM \\(''([^'']*)''\\) TO \\(''([^'']*)''\\)') AS m) bounds
            WHERE i.inhparent = to_regclass(CAST($1 AS TEXT)) AND CAST($2 AS TEXT) IS NOT NULL
            """, [.text(table.quoted), .text(zone)], columns: { _ in }
        ) { row in
            let name = row.string(0) ?? ""
            if row.string(1) == "DEFAULT" {
                catalog.defaultPartition = name
            } else if let from = row.string(3).flatMap(Double.init), let to = row.string(4).flatMap(Double.init) {
                catalog.children.append(
                    Child(
                        name: name, from: Date(timeIntervalSince1970: from), to: Date(timeIntervalSince1970: to),
                        estimatedRows: row.int64(2) ?? 0))
            } else {
                catalog.otherChildren.append(name)
            }
        }
        catalog.children.sort { $0.from < $1.from }
        return catalog
    }

    /// Whether a relation of that (qualified, quoted) name exists.
    static func exists(_ qualified: String, in database: any DatabaseConnection) throws -> Bool {
        var exists = false
        try database.query("SELECT (to_regclass(CAST($1 AS TEXT)) IS NOT NULL)::int", [.text(qualified)], columns: { _ in }) {
            exists = $0.int64(0) == 1
        }
        return exists
    }

    /// `GRANT` statements giving `target` the privileges others than its owner hold on `table`.
    static func grants(of table: String, to target: String, in database: any DatabaseConnection) throws -> [String] {
        var grants: [String] = []
        try database.query(
            """
            SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END
            FROM pg_class c, LATERAL aclexplode(c.relacl) a
            WHERE c.oid = to_regclass(CAST($1 AS TEXT)) AND a.grantee <> c.relowner ORDER BY 2, 1
            """, [.text(table)], columns: { _ in }
        ) { row in
            if let privilege = row.string(0), let grantee = row.string(1) { grants.append("GRANT \(privilege) ON \(target) TO \(grantee)") }
        }
        return grants
    }

    /// The child's or default partition's qualified, quoted name.
    func qualified(_ name: String) -> String { SQLName.quote(schema) + "." + SQLName.quote(name) }

    /// A bound's literal for the key's type, in the zone's wall time where the type has no zone.
    func literal(_ instant: Date, zone: TimeZone) -> String {
        let type = keyType ?? .timestamptz
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = type == .timestamptz ? TimeZone(secondsFromGMT: 0) ?? zone : zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: instant)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        let time = String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        switch type {
        case .timestamptz: return "'\(day) \(time)+00'"
        case .timestamp: return "'\(day) \(time)'"
        case .date: return "'\(day)'"
        }
    }

}
