import Pipelines

/// The file block a product was stored from: the digest `ProductCSVParser` gives its bytes (with the
/// import's settings) and its first line.
public struct BlockSource: Sendable, Equatable {
    public var digest: SHA256Value
    public var line: Int
    /// The first 64 bits of the block's digest without its price and stock cells, when the reader makes
    /// one (`ProductCSVParser.Options.shapeDigests`): kept as an integer, so that recording it adds a few
    /// bytes per product, and a few pages to what a re-import writes.
    public var shape: Int64?
}

/// `store_product_sources`: the block each stored product was last imported from. A row says the
/// product's rows are exactly what that block makes, so it must go whenever anything else changes them.
///
/// The digest is kept as the first 128 bits of the block's (`SHA256Value.firstHalf`, 32 hex digits):
/// a 1% re-import rewrites the row of every product it changes, and rows half as long are 2,000 fewer
/// pages to write at 1,000,000 variants. Rows written before 2026-12-07 hold all 64 digits; the first
/// 32 of them are compared.
enum ProductSources {
    static let table = "store_product_sources"
    static let columns = ["product_id", "digest", "line", "shape_digest"]

    /// Forgets the products of `variants` (their stock changed by `inventory.reconcile`): the next
    /// import compares them row by row and puts back what its file says.
    static func forget(productsOfVariants variants: [Int64], in connection: any DatabaseConnection) throws {
        try eachBatch(variants, in: connection) { list in
            "DELETE FROM store_product_sources WHERE product_id IN (SELECT product_id FROM store_variants WHERE id \(list))"
        }
    }

    /// Forgets `products`.
    static func forget(products: [Int64], in connection: any DatabaseConnection) throws {
        try eachBatch(products, in: connection) { list in "DELETE FROM store_product_sources WHERE product_id \(list)" }
    }

    /// Runs the statement `sql` makes from a match of ids (`IN (...)` or `= ANY(...)`) for every batch of `ids`.
    private static func eachBatch(_ ids: [Int64], in connection: any DatabaseConnection, _ sql: (String) -> String) throws {
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(start + ProductStore.lookupBatch, ids.count)])
            if connection.dialect == .postgres {
                _ = try connection.execute(sql("= ANY($1::bigint[])"), [.text(Int64.postgresArray(batch).literal)])
            } else {
                let placeholders = (1...batch.count).map { "$\($0)" }.joined(separator: ", ")
                _ = try connection.execute(sql("IN (\(placeholders))"), batch.map(SQLValue.integer))
            }
            start += batch.count
        }
    }
}

extension ProductStore {
    /// Records where a chunk's products were stored from (`recorded`, by product id) and forgets the products
    /// it changed without such a block (`forgotten`), inside the chunk's transaction.
    func recordSources(_ recorded: [Int64: BlockSource], forgetting forgotten: Set<Int64>) throws {
        try sendDeferredWrites()
        let gone = forgotten.subtracting(recorded.keys).sorted()
        if !gone.isEmpty { try ProductSources.forget(products: gone, in: connection) }
        guard !recorded.isEmpty else { return }
        let sorted = recorded.sorted(by: { $0.key < $1.key })
        if connection.dialect == .postgres, !assumesNewProducts {
            // One statement: `bulkUpsert` makes a temporary table, a dozen milliseconds per chunk.
            try connection.execute(
                """
                INSERT INTO store_product_sources (product_id, digest, line, shape_digest)
                SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
                ON CONFLICT (product_id) DO UPDATE SET digest = excluded.digest, line = excluded.line, shape_digest = excluded.shape_digest
                """,
                [
                    .text(Int64.postgresArray(sorted.map(\.key)).literal), .text(SQLValue.textArrayLiteral(sorted.map(\.value.digest.firstHalfHex))),
                    .text(Int64.postgresArray(sorted.map { Int64($0.value.line) }).literal),
                    .text("{" + sorted.map { $0.value.shape.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"),
                ])
            return
        }
        let table = try SQLName(validating: ProductSources.table)
        // Into an empty store set aside for a bulk load there is no key to conflict on, and nothing stored.
        let inserter =
            assumesNewProducts
            ? try connection.bulkInsert(into: table, columns: ProductSources.columns)
            : try connection.bulkUpsert(into: table, columns: ProductSources.columns, key: ["product_id"])
        var rows = PackedRows(columnCount: ProductSources.columns.count)
        for (id, source) in sorted {
            rows.append(id)
            rows.append(source.digest.firstHalfHex)
            rows.append(Int64(source.line))
            if let shape = source.shape { rows.append(shape) } else { rows.appendNull() }
        }
        try inserter.insert(rows)
        try inserter.finish()
    }
}
