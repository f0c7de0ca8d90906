import Pipelines

/// The SKUs and slugs of the blocks the whole-file check found unchanged, which it does not record in
/// `SeenSKUs` and `SeenSlugs`: recording every SKU of a file is most of the check's time, and an
/// unchanged block's SKUs and slugs are those of its stored product, which owns them in the store.
///
/// They are kept as hashes in two Bloom filters of fixed size, and the unchanged products with where
/// their blocks start in a temporary database, so memory stays bounded. A SKU or slug of a block read in
/// full that the filter may hold is looked up in the store: when its owner's block was found unchanged
/// earlier in the file, the line that used it first is that block's.
///
/// The filters are small (1 MiB and 256 KiB), so that an insert mostly stays in the processor's cache:
/// a false positive costs one store lookup, and only for a block read in full (at 1,000,000 variants
/// about one SKU in twenty).
final class UnchangedKeys {
    private let skus = BloomFilter(bits: 1 << 23)
    private let slugs = BloomFilter(bits: 1 << 21)
    private let store: ProductSourceIndex
    /// The line of the first row with the SKU in the block at the position, read again from the file.
    private let rowLine: (String, ReaderPosition) throws -> Int?
    private var database: SQLiteScratch?
    /// Inserts `insertRows` products at once: a statement for each product took a third of `add`'s time.
    private let insert: ScratchStatement
    private let lookup: ScratchStatement
    /// Products added and not yet inserted, fewer than `insertRows`.
    private var pending: [(productID: Int64, start: ReaderPosition)] = []
    private var uncommitted = 0
    private static let insertRows = 64
    private static let commitEvery = 65_536

    init(store: ProductSourceIndex, rowLine: @escaping (String, ReaderPosition) throws -> Int?) throws {
        self.store = store
        self.rowLine = rowLine
        let database = try SQLiteScratch(purpose: "the unchanged products", cacheKiB: 1024)
        self.database = database
        do {
            try database.execute(
                "CREATE TABLE unchanged (product_id INTEGER PRIMARY KEY, line INTEGER NOT NULL, offset INTEGER NOT NULL); BEGIN")
            let values = Array(repeating: "(?, ?, ?)", count: Self.insertRows).joined(separator: ", ")
            insert = try database.prepare("INSERT INTO unchanged (product_id, line, offset) VALUES \(values)")
            lookup = try database.prepare("SELECT line, offset FROM unchanged WHERE product_id = ?1")
        } catch {
            database.close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the database, which deletes its file.
    func close() {
        database?.close()
        database = nil
    }

    /// Records the block at `start`, found unchanged: the stored product `productID`, the
    /// `BloomFilter.hash(of:)` of its SKUs and of its slugs' `SeenSlugs.key`s.
    func add(_ productID: Int64, at start: ReaderPosition, skuHashes: [UInt64], slugHashes: [UInt64]) throws {
        guard let database else { throw DatabaseError(.misuse, "the unchanged products are closed") }
        for hash in skuHashes { skus.insert(hash) }
        for hash in slugHashes { slugs.insert(hash) }
        pending.append((productID, start))
        guard pending.count == Self.insertRows else { return }
        defer { insert.reset() }
        for (index, entry) in pending.enumerated() {
            let first = Int32(3 * index + 1)
            try insert.bind(entry.productID, at: first)
            try insert.bind(Int64(entry.start.line), at: first + 1)
            try insert.bind(entry.start.offset, at: first + 2)
        }
        _ = try insert.step()
        pending.removeAll(keepingCapacity: true)
        uncommitted += Self.insertRows
        if uncommitted >= Self.commitEvery {
            try database.execute("COMMIT; BEGIN")
            uncommitted = 0
        }
    }

    /// The line of the row of an unchanged block before that uses `sku`, if one does.
    func line(ofSKU sku: String) throws -> Int? {
        guard skus.mayContain(BloomFilter.hash(of: sku)), let owner = try store.owner(ofSKU: sku),
            let start = try start(of: owner)
        else { return nil }
        return try rowLine(sku, start) ?? start.line
    }

    /// The line of the unchanged product before that has `slug`, if one does.
    func line(ofSlug slug: SlugKey) throws -> Int? {
        guard slugs.mayContain(BloomFilter.hash(of: SeenSlugs.key(slug))), let owner = try store.owner(of: slug) else { return nil }
        return try start(of: owner)?.line
    }

    /// Where the block of `productID` starts, when it was found unchanged.
    private func start(of productID: Int64) throws -> ReaderPosition? {
        guard database != nil else { throw DatabaseError(.misuse, "the unchanged products are closed") }
        if let entry = pending.first(where: { $0.productID == productID }) { return entry.start }
        defer { lookup.reset() }
        try lookup.bind(productID, at: 1)
        guard try lookup.step() else { return nil }
        return ReaderPosition(offset: lookup.int64(1), line: Int(lookup.int64(0)))
    }
}
