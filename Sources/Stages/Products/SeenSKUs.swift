import Pipelines

/// The SKUs an import has read so far, each with the line that first used it, for the duplicate-SKU
/// check. They live in a private temporary SQLite database with a small page cache, so memory stays
/// bounded (about 12 MiB) however many SKUs a file has; SQLite deletes the file when the set is closed.
///
/// A SKU greater than every one before (files often list SKUs in order) is new for sure and goes
/// straight to the end of the database's index. Others would each cost a random page read and write,
/// so they wait in a bounded batch and go in sorted; a Bloom filter of fixed size, made at the first
/// SKU out of order, spares the database lookup for nearly every one not seen before.
///
/// SKUs are compared by their UTF-8 bytes, as the store's databases compare them.
///
/// One thread at a time (the connection is opened without SQLite's mutex).
final class SeenSKUs {
    private var database: SQLiteScratch?
    private var insert: ScratchStatement?
    /// Inserts `insertRows` SKUs at once: a statement each was most of the time of recording a SKU.
    private var insertMany: ScratchStatement?
    private var lookup: ScratchStatement?
    /// SKUs stored but not yet inserted into the database, fewer than `insertRows`.
    private var pending: [(key: SKUKey, line: Int)] = []
    private static let insertRows = 64
    private let batchSize: Int
    private let commitEvery: Int
    private var uncommitted = 0
    /// The greatest SKU so far.
    private var greatest: SKUKey?
    /// SKUs not in the database yet, in the order read, and the same by SKU.
    private var batch: [(key: SKUKey, line: Int)] = []
    private var batchLines: [SKUKey: Int] = [:]
    private let filterBits: Int
    private var filter: BloomFilter?
    /// In front of `filter` for `mayHaveRecorded`, made with it: small enough (256 KiB) to stay in the
    /// processor's cache, so that the SKUs of a re-import's unchanged blocks, mostly never recorded, are
    /// answered without a trip to memory each. Filled up, it says "maybe" and `filter` answers.
    private var nearFilter: BloomFilter?

    /// `batchSize`: SKUs out of order held in memory before they go to the database; `filterBits`: the
    /// size of the Bloom filter (4 MiB by default: about 0.1% false positives at a million SKUs);
    /// `cacheKiB`: SQLite's page cache; `commitEvery`: inserts per transaction (a commit writes the dirty
    /// pages out).
    init(batchSize: Int = 65_536, filterBits: Int = 1 << 25, cacheKiB: Int = 4096, commitEvery: Int = 65_536) throws {
        self.batchSize = max(1, batchSize)
        self.commitEvery = max(1, commitEvery)
        self.filterBits = filterBits
        let database = try SQLiteScratch(purpose: "the duplicate-SKU check", cacheKiB: cacheKiB)
        self.database = database
        do {
            try database.execute("CREATE TABLE seen (sku TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID; BEGIN")
            insert = try database.prepare("INSERT INTO seen (sku, line) VALUES (?1, ?2)")
            insertMany = try database.prepare(
                "INSERT INTO seen (sku, line) VALUES " + Array(repeating: "(?, ?)", count: Self.insertRows).joined(separator: ", "))
            lookup = try database.prepare("SELECT line FROM seen WHERE sku = ?1")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the database, which deletes its file; nothing is committed.
    func close() {
        database?.close()
        database = nil
        insert = nil
        insertMany = nil
        lookup = nil
        pending = []
        batch = []
        batchLines = [:]
        filter = nil
        nearFilter = nil
    }

    static func duplicateError(_ sku: String, line: Int, column: Int, firstLine: Int, inAnotherProduct: Bool = false) -> RowError {
        let reason =
            inAnotherProduct
            ? "duplicate SKU '\(sku)': line \(firstLine) already uses it in another product (only variants of one product may share a SKU)"
            : "duplicate SKU '\(sku)': line \(firstLine) already uses it"
        return RowError(line: line, column: column, reason: reason)
    }

    /// Records that `line` uses `sku`. Returns nil when no earlier line did, else the first line that did
    /// (which stays the one recorded).
    func record(_ sku: String, line: Int) throws -> Int? {
        guard database != nil else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        let key = SKUKey(sku)
        guard let greatest, !greatest.precedes(key) else {
            greatest = key
            if filter != nil { insertIntoFilters(key.hash) }
            try store(key, line: line)
            return nil
        }
        if let first = batchLines[key] { return first }
        let hash = key.hash
        let mayBeStored = try filter.map { $0.mayContain(hash) } ?? startFilter()
        if mayBeStored, let first = try storedLine(of: key) { return first }
        insertIntoFilters(hash)
        batch.append((key, line))
        batchLines[key] = line
        if batch.count >= batchSize {
            batch.sort { $0.key.precedes($1.key) }
            for (key, line) in batch { try store(key, line: line) }
            batch.removeAll(keepingCapacity: true)
            batchLines.removeAll(keepingCapacity: true)
        }
        return nil
    }

    /// The line recorded for `sku`, without recording anything.
    func firstLine(of sku: String) throws -> Int? {
        guard database != nil else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        let key = SKUKey(sku)
        // Above every SKU recorded: new for sure.
        guard let greatest, !greatest.precedes(key) else { return nil }
        if let first = batchLines[key] { return first }
        if let filter, !filter.mayContain(key.hash) { return nil }
        return try storedLine(of: key)
    }

    /// Whether an earlier line may have used the SKU whose `BloomFilter.hash(of:)` is `hash`: false for
    /// nearly every SKU never recorded, mostly from `nearFilter` (the filters are made at the first call if
    /// the SKUs came in order so far). True asks `firstLine(of:)`.
    func mayHaveRecorded(hash: UInt64) throws -> Bool {
        guard database != nil else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        if filter == nil { _ = try startFilter() }
        if let nearFilter, !nearFilter.mayContain(hash) { return false }
        return filter?.mayContain(hash) ?? true
    }

    /// Whether an earlier line used one of the keys whose hashes are `hashes`; `key` makes the text of the
    /// one at an index, asked for only when its hash may have been recorded (nil, not at hand: taken as used).
    func recordedAny(hashes: [UInt64], key: (Int) -> String?) throws -> Bool {
        for (index, hash) in hashes.enumerated() where try mayHaveRecorded(hash: hash) {
            guard let key = key(index) else { return true }
            if try firstLine(of: key) != nil { return true }
        }
        return false
    }

    private func insertIntoFilters(_ hash: UInt64) {
        filter?.insert(hash)
        nearFilter?.insert(hash)
    }

    /// Makes the Bloom filter from the SKUs stored so far (all of them in order, so the batch is empty).
    /// Returns true: the SKU at hand may be among them.
    private func startFilter() throws -> Bool {
        guard let database else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        try insertPending()
        let filter = BloomFilter(bits: filterBits)
        let nearFilter = BloomFilter(bits: min(filterBits, 1 << 21))
        let statement = try database.prepare("SELECT sku FROM seen")
        while try statement.step() {
            statement.withBytes(0) { bytes in
                let hash = BloomFilter.hash(of: bytes)
                filter.insert(hash)
                nearFilter.insert(hash)
            }
        }
        statement.reset()
        self.filter = filter
        self.nearFilter = nearFilter
        return true
    }

    private func store(_ key: SKUKey, line: Int) throws {
        pending.append((key, line))
        if pending.count >= Self.insertRows { try insertPending() }
    }

    /// Inserts the pending SKUs: a full set with one statement, from one buffer of their bytes (bound in
    /// place, so they must stay put until the statement has run).
    private func insertPending() throws {
        guard let insert, let insertMany, let database else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        guard !pending.isEmpty else { return }
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for entry in pending {
            bytes += entry.key.text.utf8
            ends.append(bytes.count)
        }
        try bytes.withUnsafeBytes { buffer in
            var start = 0
            if pending.count == Self.insertRows {
                defer { insertMany.reset() }
                for (index, entry) in pending.enumerated() {
                    try insertMany.bind(text: UnsafeRawBufferPointer(rebasing: buffer[start..<ends[index]]), at: Int32(2 * index + 1))
                    try insertMany.bind(Int64(entry.line), at: Int32(2 * index + 2))
                    start = ends[index]
                }
                _ = try insertMany.step()
                return
            }
            for (index, entry) in pending.enumerated() {
                defer { insert.reset() }
                try insert.bind(text: UnsafeRawBufferPointer(rebasing: buffer[start..<ends[index]]), at: 1)
                try insert.bind(Int64(entry.line), at: 2)
                _ = try insert.step()
                start = ends[index]
            }
        }
        uncommitted += pending.count
        pending.removeAll(keepingCapacity: true)
        if uncommitted >= commitEvery {
            try database.execute("COMMIT; BEGIN")
            uncommitted = 0
        }
    }

    private func storedLine(of key: SKUKey) throws -> Int? {
        guard let lookup else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        if let entry = pending.first(where: { $0.key == key }) { return entry.line }
        var text = key.text
        return try text.withUTF8 { bytes -> Int? in
            defer { lookup.reset() }
            try lookup.bind(text: UnsafeRawBufferPointer(bytes), at: 1)
            return try lookup.step() ? Int(lookup.int64(0)) : nil
        }
    }
}

/// A SKU compared and hashed by its UTF-8 bytes, like SQLite's TEXT (Swift's `String` equality would
/// also match canonically equivalent spellings).
private struct SKUKey: Hashable {
    var text: String

    init(_ text: String) {
        var text = text
        text.makeContiguousUTF8()
        self.text = text
    }

    static func == (left: SKUKey, right: SKUKey) -> Bool { left.compare(right) == 0 }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// The hash of the Bloom filter: the same for a SKU read back from the database.
    var hash: UInt64 { BloomFilter.hash(of: text) }

    func precedes(_ other: SKUKey) -> Bool { compare(other) < 0 }

    /// Negative, zero or positive as the bytes of `self` sort before, like or after those of `other`.
    private func compare(_ other: SKUKey) -> Int {
        let order = text.utf8.withContiguousStorageIfAvailable { left in
            other.text.utf8.withContiguousStorageIfAvailable { right in
                for index in 0..<min(left.count, right.count) where left[index] != right[index] {
                    return Int(left[index]) - Int(right[index])
                }
                return left.count - right.count
            }
        }
        if let order = order ?? nil { return order }
        if text.utf8.elementsEqual(other.text.utf8) { return 0 }
        return text.utf8.lexicographicallyPrecedes(other.text.utf8) ? -1 : 1
    }
}

/// The `(language, slug)` pairs of the products a file has given so far. Two products of one file with
/// one slug would be one product in the store, the second replacing the first, so the second is a rejected
/// row naming the first's line. Kept like SKUs, in a smaller temporary database of their own.
final class SeenSlugs {
    private let seen: SeenSKUs
    /// The slugs of the blocks found unchanged, which are not recorded here.
    var unchanged: UnchangedKeys?

    init() throws { seen = try SeenSKUs(batchSize: 16_384, filterBits: 1 << 23, cacheKiB: 1024) }

    func close() { seen.close() }

    /// Records the product's slugs at `line` (or, for a product read again, looks them up); the error when
    /// another product's line used one of them first. `column` gives a language's slug column.
    func duplicate(_ product: ProductBlock, line: Int, recording: Bool, column: (String) -> Int) throws -> RowError? {
        for translation in product.translations where !translation.slug.isEmpty {
            let slug = SlugKey(language: translation.languageCode, slug: translation.slug)
            var first = recording ? try seen.record(Self.key(slug), line: line) : try seen.firstLine(of: Self.key(slug))
            if let earlier = try unchanged?.line(ofSlug: slug) { first = min(first ?? earlier, earlier) }
            guard let first, first != line else { continue }
            let language = product.translations.count > 1 ? " (\(translation.languageCode))" : ""
            return RowError(
                line: line, column: column(translation.languageCode),
                reason: "slug '\(translation.slug)'\(language) is already used by the product at line \(first); two products cannot share a slug")
        }
        return nil
    }

    /// Whether the slugs of a block found unchanged may stand unrecorded: false when a product read
    /// before has one of them. `hashes`: the `BloomFilter.hash(of:)` of each slug's `key(_:)`; `key`
    /// makes the text of the one at an index, asked for only when its hash may have been recorded.
    func fitUnchanged(hashes: [UInt64], key: (Int) -> String) throws -> Bool {
        try !seen.recordedAny(hashes: hashes, key: key)
    }

    /// The slug as one text, by which it is recorded and filtered: `keyPrefix(language)`, then the slug.
    static func key(_ slug: SlugKey) -> String { keyPrefix(slug.language) + slug.slug }

    static func keyPrefix(_ language: String) -> String { language + "\u{1F}" }
}
