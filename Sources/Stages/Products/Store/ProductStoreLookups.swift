import Pipelines

/// A value `eachBatch` looks rows up by: SKUs and slugs (text), row ids (bigint).
protocol LookupKey {
    var parameter: SQLValue { get }
    /// The PostgreSQL array literal of `keys` and its element type, for one bound array parameter.
    static func postgresArray(_ keys: [Self]) -> (literal: String, type: String)
}

extension String: LookupKey {
    var parameter: SQLValue { .text(self) }
    static func postgresArray(_ keys: [String]) -> (literal: String, type: String) {
        (SQLValue.textArrayLiteral(keys), "text")
    }
}

extension Int64: LookupKey {
    var parameter: SQLValue { .integer(self) }
    static func postgresArray(_ keys: [Int64]) -> (literal: String, type: String) {
        ("{" + keys.map(String.init).joined(separator: ",") + "}", "bigint")
    }
}

extension ProductStore {
    /// Runs `select` completed to match any of the values: PostgreSQL `= ANY($1::text[])` (or `bigint[]`)
    /// with one array parameter, SQLite `IN ($1, …, $500)` with `lookupBatch` values a query (`= $1` for
    /// a single value, as when exporting product by product).
    ///
    /// Around a million rows a table, PostgreSQL prefers scanning the table to a chunk's 5,000 index
    /// lookups (1M variants: a re-import takes 0.8 times a fresh one). Matching per value through
    /// `CROSS JOIN LATERAL (… OFFSET 0)` looks up by index there, but while the tables have no statistics
    /// (right after the first import) its estimates make every query JIT-compile, twice as slow at 100k.
    func eachBatch<Key: LookupKey>(of values: [Key], _ select: String, _ row: (any RowView) throws -> Void) throws {
        guard !values.isEmpty else { return }
        if connection.dialect == .postgres {
            let array = Key.postgresArray(values)
            try read("\(select) = ANY($1::\(array.type)[])", [.text(array.literal)], row)
            return
        }
        if values.count == 1 {
            try read("\(select) = $1", [values[0].parameter], row)
            return
        }
        // A power of two of placeholders (the batch padded with NULLs, which match nothing): a few
        // statements, each prepared once and cached by the connection. SQLite builds a temporary index of
        // an IN list on every run, so a small batch must not pay for `lookupBatch` values.
        var start = 0
        while start < values.count {
            let batch = values[start..<min(start + Self.lookupBatch, values.count)]
            let width = Self.placeholderCounts.first { $0 >= batch.count } ?? Self.lookupBatch
            let padding = [SQLValue](repeating: .null, count: width - batch.count)
            try read("\(select) IN (\(Self.lookupPlaceholders[width] ?? ""))", batch.map(\.parameter) + padding, row)
            start += batch.count
        }
    }

    /// The placeholder counts of SQLite lookups: powers of two, then `lookupBatch`.
    private static let placeholderCounts = (1...8).map { 1 << $0 } + [lookupBatch]
    private static let lookupPlaceholders = Dictionary(
        uniqueKeysWithValues: placeholderCounts.map { count in (count, (1...count).map { "$\($0)" }.joined(separator: ", ")) })
}
