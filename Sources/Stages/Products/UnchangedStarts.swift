import Pipelines

/// Where the blocks found unchanged start, by their stored product, in a temporary database so that
/// memory stays bounded; asked only when a block read in full uses a SKU or slug of one of them (rare).
///
/// Blocks are added 64 at a time. The products of a file imported before mostly come in the order of their
/// ids, so a batch whose ids rise, all above those of the batches stored so, is one row: its first and
/// last id and the 64 entries packed in a blob (a row per product was most of what adding a block cost).
/// Any other batch is stored a row per product.
final class UnchangedStarts {
    private var database: SQLiteScratch?
    private let insertRun: ScratchStatement
    private let insertSingle: ScratchStatement
    private let lookupRun: ScratchStatement
    private let lookupSingle: ScratchStatement
    /// Added and not yet stored, fewer than `batchSize`.
    private var pending: [Entry] = []
    /// The last id of the runs stored so far.
    private var runsEnd: Int64 = .min
    private var uncommitted = 0
    private static let batchSize = 64
    private static let commitEvery = 65_536

    private struct Entry {
        var productID: Int64
        var line: Int64
        var offset: Int64
    }

    init() throws {
        let database = try SQLiteScratch(purpose: "the unchanged products", cacheKiB: 1024)
        self.database = database
        do {
            try database.execute(
                """
                CREATE TABLE runs (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, entries BLOB NOT NULL);
                CREATE TABLE single (product_id INTEGER PRIMARY KEY, line INTEGER NOT NULL, offset INTEGER NOT NULL);
                BEGIN
                """)
            insertRun = try database.prepare("INSERT INTO runs (first_id, last_id, entries) VALUES (?1, ?2, ?3)")
            let values = Array(repeating: "(?, ?, ?)", count: Self.batchSize).joined(separator: ", ")
            insertSingle = try database.prepare("INSERT INTO single (product_id, line, offset) VALUES \(values)")
            lookupRun = try database.prepare(
                "SELECT last_id, entries FROM runs WHERE first_id <= ?1 ORDER BY first_id DESC LIMIT 1")
            lookupSingle = try database.prepare("SELECT line, offset FROM single WHERE product_id = ?1")
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

    func add(_ productID: Int64, at start: ReaderPosition) throws {
        guard let database else { throw DatabaseError(.misuse, "the unchanged products are closed") }
        pending.append(Entry(productID: productID, line: Int64(start.line), offset: start.offset))
        guard pending.count == Self.batchSize else { return }
        let rises = pending[0].productID > runsEnd && zip(pending, pending.dropFirst()).allSatisfy { $0.productID < $1.productID }
        if rises {
            try storeRun()
        } else {
            try storeSingly()
        }
        pending.removeAll(keepingCapacity: true)
        uncommitted += Self.batchSize
        if uncommitted >= Self.commitEvery {
            try database.execute("COMMIT; BEGIN")
            uncommitted = 0
        }
    }

    /// Where the block of `productID` starts, when it was found unchanged.
    func start(of productID: Int64) throws -> ReaderPosition? {
        guard database != nil else { throw DatabaseError(.misuse, "the unchanged products are closed") }
        if let entry = pending.first(where: { $0.productID == productID }) { return Self.position(entry) }
        if productID <= runsEnd, let entry = try run(containing: productID) { return Self.position(entry) }
        defer { lookupSingle.reset() }
        try lookupSingle.bind(productID, at: 1)
        guard try lookupSingle.step() else { return nil }
        return ReaderPosition(offset: lookupSingle.int64(1), line: Int(lookupSingle.int64(0)))
    }

    private func storeRun() throws {
        defer { insertRun.reset() }
        try insertRun.bind(pending[0].productID, at: 1)
        try insertRun.bind(pending[pending.count - 1].productID, at: 2)
        try pending.withUnsafeBytes { entries in
            try insertRun.bind(blob: entries, at: 3)
            _ = try insertRun.step()
        }
        runsEnd = pending[pending.count - 1].productID
    }

    private func storeSingly() throws {
        defer { insertSingle.reset() }
        for (index, entry) in pending.enumerated() {
            let first = Int32(3 * index + 1)
            try insertSingle.bind(entry.productID, at: first)
            try insertSingle.bind(entry.line, at: first + 1)
            try insertSingle.bind(entry.offset, at: first + 2)
        }
        _ = try insertSingle.step()
    }

    /// The entry of `productID` in the run that would hold it, if it is there.
    private func run(containing productID: Int64) throws -> Entry? {
        defer { lookupRun.reset() }
        try lookupRun.bind(productID, at: 1)
        guard try lookupRun.step(), lookupRun.int64(0) >= productID else { return nil }
        return lookupRun.withBytes(1) { bytes -> Entry? in
            let stride = MemoryLayout<Entry>.stride
            guard bytes.count == Self.batchSize * stride else { return nil }
            var low = 0
            var high = Self.batchSize - 1
            while low <= high {
                let middle = (low + high) / 2
                let entry = bytes.loadUnaligned(fromByteOffset: middle * stride, as: Entry.self)
                if entry.productID == productID { return entry }
                if entry.productID < productID { low = middle + 1 } else { high = middle - 1 }
            }
            return nil
        }
    }

    private static func position(_ entry: Entry) -> ReaderPosition {
        ReaderPosition(offset: entry.offset, line: Int(entry.line))
    }
}
