import Pipelines

/// Tells the thread reading an import file which of its blocks the store holds exactly as the block
/// makes them: the product whose `store_product_sources` row has the block's digest.
///
/// Files are mostly imported again in the same order, so the rows are read in line order, a page at a
/// time, and merged with the blocks as they come: a block whose digest is the next row's is unchanged.
/// A block that is not (new or changed) leaves the row for the blocks after it; a row the blocks have
/// passed by line is dropped; and up to `lookahead` rows ahead are searched for the digest, so that
/// blocks removed from the file do not put every later block off by one. A block moved further is
/// compared row by row, as are all blocks of a file in another order: slower, never wrong.
///
/// Its own connection (`StageContext.openReader`), used from one thread; memory holds a page of rows. The
/// check also asks it which stored product owns a SKU or slug (`UnchangedKeys`). Until the check has
/// passed the import commits nothing, so the connection sees the store as it was before the import.
final class ProductSourceIndex {
    static let pageSize = 4_096
    static let lookahead = 64

    private let connection: any DatabaseConnection
    /// A row's digest is the first half of its block's (`ProductSources`); rows whose digest is not 32 or 64
    /// hex digits have none, and match no block.
    private typealias Row = (line: Int64, productID: Int64, digest: SHA256Value?, shape: Int64?)
    private var rows: [Row] = []
    private var head = 0
    private var after: (line: Int64, productID: Int64) = (-1, -1)
    private var exhausted = false

    /// Nil when the store has no rows to match (a fresh store, or one no import has recorded yet): then
    /// every block is compared row by row.
    static func open(_ connection: any DatabaseConnection) throws -> ProductSourceIndex? {
        let index = ProductSourceIndex(connection: connection)
        try index.fill()
        guard index.head < index.rows.count else {
            connection.close()
            return nil
        }
        return index
    }

    private init(connection: any DatabaseConnection) {
        self.connection = connection
    }

    func close() { connection.close() }

    /// The product the store holds exactly as the block at `line` with `digest` makes it, if any.
    func product(digest: SHA256Value, line: Int) throws -> Int64? {
        let digest = digest.firstHalf
        while true {
            try fill()
            guard head < rows.count, rows[head].line < Int64(line), rows[head].digest != digest else { break }
            head += 1
        }
        return take { $0.digest == digest }
    }

    /// The product stored from a block of the same shape (`BlockSource.shape`) as the block whose digest
    /// matched none (`product(digest:line:)`, asked first, has passed the rows before its line): a block
    /// that changes that product's prices and stock levels alone. Searched as digests are.
    func product(shape: Int64) throws -> Int64? {
        try fill()
        return take { $0.shape == shape }
    }

    /// The product of the first of the next `lookahead` rows that `matches`, which the rows before it
    /// are passed with.
    private func take(where matches: (Row) -> Bool) -> Int64? {
        let end = min(rows.count, head + Self.lookahead)
        guard let match = (head..<end).first(where: { matches(rows[$0]) }) else { return nil }
        head = match + 1
        return rows[match].productID
    }

    /// The stored product with a variant of `sku`, if any (one product owns a SKU).
    func owner(ofSKU sku: String) throws -> Int64? {
        try firstID("SELECT product_id FROM store_variants WHERE sku = $1 LIMIT 1", [.text(sku)])
    }

    /// The stored product with `slug`, if any.
    func owner(of slug: SlugKey) throws -> Int64? {
        try firstID(
            "SELECT product_id FROM store_product_translations WHERE language = $1 AND slug = $2",
            [.text(slug.language), .text(slug.slug)])
    }

    private func firstID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64? {
        var id: Int64?
        try connection.query(sql, parameters, columns: { _ in }) { id = $0.storeInteger(0) }
        return id
    }

    /// Keeps at least `lookahead` rows ahead of `head` while the table has more.
    private func fill() throws {
        guard !exhausted, rows.count - head < Self.lookahead else { return }
        rows.removeFirst(head)
        head = 0
        var read = 0
        try connection.query(
            """
            SELECT line, product_id, digest, shape_digest FROM store_product_sources WHERE (line, product_id) > ($1, $2)
            ORDER BY line, product_id LIMIT \(Self.pageSize)
            """, [.integer(after.line), .integer(after.productID)], columns: { _ in }
        ) { row in
            rows.append((row.storeInteger(0), row.storeInteger(1), row.withBytes(2) { $0.flatMap(SHA256Value.init(firstHalfOfHex:)) }, row.int64(3)))
            read += 1
        }
        if let last = rows.last { after = (last.line, last.productID) }
        exhausted = read < Self.pageSize
    }
}
