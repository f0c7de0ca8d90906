import Foundation
import Pipelines
import Testing

/// A PostgreSQL database of its own for one partition test, with the tables the ERP keeps.
struct PartitionScene {
    let scratch: Scratch
    let url: String
    var locator: DatabaseLocator { .postgres(url: url) }

    static let journalEntries = """
        CREATE TABLE public.journal_entries (
            id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL, amount_minor bigint NOT NULL,
            PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at)
        """

    init() throws {
        scratch = try Scratch()
        url = try TestDatabase.postgresURL()
    }

    func remove() { scratch.remove() }

    func sql(_ script: String) throws {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript(script)
    }

    func rows(_ query: String) throws -> [[String]] {
        try Inspect.rows(locator, query).map { $0.map { $0 ?? "" } }
    }

    /// The table's children as `name FROM TO` in UTC, in bound order, and its default partition (if any) last.
    func children(_ table: String) throws -> [String] {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript("SET timezone = 'UTC'")
        var children: [String] = []
        try connection.query(
            """
            SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = CAST($1 AS TEXT)::regclass ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.relname
            """, [.text(table)], columns: { _ in }
        ) { children.append($0.string(0) ?? "") }
        return children
    }

    /// Writes `maintain.yaml` with one `partitions.maintain` stage.
    @discardableResult
    func pipeline(_ with: String, name: String = "maintain.yaml") throws -> String {
        try scratch.write(
            name,
            """
            name: partitions
            database: "\(url)"
            state: sqlite:var/state.db
            stages:
              - id: maintain
                uses: partitions.maintain
                with:
            \(with.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """)
        return name
    }

    func run(_ arguments: [String] = [], name: String = "maintain.yaml") throws -> PipelineProcess.Result {
        try PipelineProcess.run(["run", name, "--rerun"] + arguments, in: scratch.path)
    }

    /// The month starts from `offset` months before this month to `through` months after, as `yyyy_MM`.
    static func months(_ from: Int, _ through: Int, zone: String = "UTC") -> [String] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? .current
        let now = calendar.dateComponents([.year, .month], from: Date())
        return (from...through).map { offset in
            let total = (now.year ?? 0) * 12 + (now.month ?? 1) - 1 + offset
            return String(format: "%04d_%02d", total / 12, total % 12 + 1)
        }
    }
}
