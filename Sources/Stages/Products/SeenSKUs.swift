import CSQLite
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
    private var database: OpaquePointer?
    private var insert: OpaquePointer?
    private var lookup: OpaquePointer?
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

    /// `batchSize`: SKUs out of order held in memory before they go to the database; `filterBits`: the
    /// size of the Bloom filter (4 MiB by default: about 0.1% false positives at a million SKUs);
    /// `cacheKiB`: SQLite's page cache; `commitEvery`: inserts per transaction (a commit writes the dirty
    /// pages out).
    init(batchSize: Int = 65_536, filterBits: Int = 1 << 25, cacheKiB: Int = 4096, commitEvery: Int = 65_536) throws {
        self.batchSize = max(1, batchSize)
        self.commitEvery = max(1, commitEvery)
        self.filterBits = filterBits
        var opened: OpaquePointer?
        // An empty file name opens a private database in a temporary file, removed when it is closed.
        let status = sqlite3_open_v2("", &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        database = opened
        guard status == SQLITE_OK, opened != nil else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            close()
            throw DatabaseError(
                .connectionFailed, "cannot open the temporary database of the duplicate-SKU check: \(message)",
                resultCode: status)
        }
        do {
            // Scratch data: no journal, no syncing; a crash loses nothing that matters.
            try execute(
                """
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE;
                PRAGMA cache_size=-\(max(64, cacheKiB));
                CREATE TABLE seen (sku TEXT PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID;
                BEGIN
                """)
            insert = try prepare("INSERT INTO seen (sku, line) VALUES (?1, ?2)")
            lookup = try prepare("SELECT line FROM seen WHERE sku = ?1")
        } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    /// Closes the database, which deletes its file; nothing is committed.
    func close() {
        sqlite3_finalize(insert)
        sqlite3_finalize(lookup)
        insert = nil
        lookup = nil
        sqlite3_close_v2(database)
        database = nil
        batch = []
        batchLines = [:]
    }

    /// Records that `line` uses `sku`; the row's error, pointing at `column`, when an earlier line did.
    func duplicate(_ sku: String, line: Int, column: Int) throws -> RowError? {
        guard let first = try record(sku, line: line) else { return nil }
        return RowError(line: line, column: column, reason: "duplicate SKU '\(sku)': line \(first) already uses it")
    }

    /// Records that `line` uses `sku`. Returns nil when no earlier line did, else the first line that did
    /// (which stays the one recorded).
    func record(_ sku: String, line: Int) throws -> Int? {
        guard database != nil else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        let key = SKUKey(sku)
        guard let greatest, !greatest.precedes(key) else {
            greatest = key
            filter?.insert(key.hash)
            try store(key, line: line)
            return nil
        }
        if let first = batchLines[key] { return first }
        let hash = key.hash
        let mayBeStored = try filter.map { $0.mayContain(hash) } ?? startFilter()
        if mayBeStored, let first = try storedLine(of: key) { return first }
        filter?.insert(hash)
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

    /// Makes the Bloom filter from the SKUs stored so far (all of them in order, so the batch is empty).
    /// Returns true: the SKU at hand may be among them.
    private func startFilter() throws -> Bool {
        var filter = BloomFilter(bits: filterBits)
        let statement = try prepare("SELECT sku FROM seen")
        defer { sqlite3_finalize(statement) }
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                let bytes = UnsafeRawBufferPointer(
                    start: sqlite3_column_blob(statement, 0), count: Int(sqlite3_column_bytes(statement, 0)))
                filter.insert(SKUKey.hash(of: bytes))
            case SQLITE_DONE:
                self.filter = filter
                return true
            case let status:
                throw error(status, sql: "SELECT sku FROM seen")
            }
        }
    }

    private func store(_ key: SKUKey, line: Int) throws {
        guard let insert else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        var text = key.text
        try text.withUTF8 { bytes in
            // SQLITE_STATIC: the bytes outlive the step that reads them.
            try bind(bytes, to: insert)
            sqlite3_bind_int64(insert, 2, Int64(line))
            let status = sqlite3_step(insert)
            sqlite3_reset(insert)
            guard status == SQLITE_DONE else { throw error(status, in: insert) }
        }
        uncommitted += 1
        if uncommitted >= commitEvery {
            try execute("COMMIT; BEGIN")
            uncommitted = 0
        }
    }

    private func storedLine(of key: SKUKey) throws -> Int? {
        guard let lookup else { throw DatabaseError(.misuse, "the duplicate-SKU check is closed") }
        var text = key.text
        return try text.withUTF8 { bytes -> Int? in
            try bind(bytes, to: lookup)
            defer { sqlite3_reset(lookup) }
            switch sqlite3_step(lookup) {
            case SQLITE_ROW: return Int(sqlite3_column_int64(lookup, 0))
            case SQLITE_DONE: return nil
            case let status: throw error(status, in: lookup)
            }
        }
    }

    private func bind(_ bytes: UnsafeBufferPointer<UInt8>, to statement: OpaquePointer) throws {
        // A null pointer would bind NULL, not an empty text.
        let start = UnsafeRawPointer(bytes.baseAddress) ?? UnsafeRawPointer(("" as StaticString).utf8Start)
        let status = sqlite3_bind_text(
            statement, 1, start.assumingMemoryBound(to: CChar.self), Int32(bytes.count), csqlite_static())
        guard status == SQLITE_OK else { throw error(status, in: statement) }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw error(status, sql: sql)
        }
        return statement
    }

    private func execute(_ sql: String) throws {
        let status = sqlite3_exec(database, sql, nil, nil, nil)
        guard status == SQLITE_OK else { throw error(status, sql: sql) }
    }

    private func error(_ status: Int32, in statement: OpaquePointer) -> DatabaseError {
        error(status, sql: sqlite3_sql(statement).map { String(cString: $0) })
    }

    private func error(_ status: Int32, sql: String?) -> DatabaseError {
        let message = database.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(status))
        return DatabaseError(
            DatabaseError.Code(sqliteResultCode: status), "duplicate-SKU check: \(message)", resultCode: status,
            statement: sql)
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
    var hash: UInt64 {
        var text = text
        return text.withUTF8 { Self.hash(of: UnsafeRawBufferPointer($0)) }
    }

    static func hash(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

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

/// A Bloom filter over 64-bit hashes, blocked: a hash's three bits lie in one 64-bit word, so a test
/// or an insert costs one memory access. `mayContain` is false only for hashes never inserted.
private struct BloomFilter {
    private var words: [UInt64]
    private let wordMask: UInt64

    /// `bits` is rounded up to a power of two, at least 64.
    init(bits: Int) {
        var count = 1
        while count * 64 < bits { count <<= 1 }
        words = Array(repeating: 0, count: count)
        wordMask = UInt64(count - 1)
    }

    func mayContain(_ hash: UInt64) -> Bool {
        let bits = Self.bits(hash)
        return words[Int(hash & wordMask)] & bits == bits
    }

    mutating func insert(_ hash: UInt64) {
        words[Int(hash & wordMask)] |= Self.bits(hash)
    }

    /// Three bits from the hash's top 18 bits; the low bits choose the word.
    private static func bits(_ hash: UInt64) -> UInt64 {
        (1 << ((hash >> 46) & 63)) | (1 << ((hash >> 52) & 63)) | (1 << ((hash >> 58) & 63))
    }
}
