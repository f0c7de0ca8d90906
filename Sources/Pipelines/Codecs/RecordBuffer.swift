/// One record's fields as raw UTF-8 bytes, reused from record to record so that streaming a file
/// allocates nothing per row. Readers fill it; database bulk inserters and writers read it.
///
/// Field pointers stay valid until the buffer is next changed.
public final class RecordBuffer {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var used = 0
    /// End offset of each field in `storage`; a negative value marks SQL NULL (its end is `-end - 1`).
    /// A raw buffer rather than an array: array mutation through a class property costs a dynamic
    /// exclusivity check per call, which showed up as a third of the CSV parsing time. For the same
    /// reason no stored property is public: only private ones get their checks optimized away.
    private var ends: UnsafeMutablePointer<Int>
    private var endsCapacity = 32
    private var fieldCount = 0
    /// Where `snapshot()` lays a record out before copying it into the snapshot's array.
    private var snapshotStorage: UnsafeMutableRawPointer
    private var snapshotCapacity = 1024

    public var count: Int { fieldCount }

    public init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 1)
        ends = UnsafeMutablePointer<Int>.allocate(capacity: endsCapacity)
        snapshotStorage = UnsafeMutableRawPointer.allocate(byteCount: snapshotCapacity, alignment: 1)
    }

    deinit {
        storage.deallocate()
        ends.deallocate()
        snapshotStorage.deallocate()
    }

    public func removeAll() {
        used = 0
        fieldCount = 0
    }

    public func isNull(_ index: Int) -> Bool {
        precondition(index >= 0 && index < count, "field index out of range")
        return ends[index] < 0
    }

    /// The field's bytes, or nil for NULL.
    public func field(_ index: Int) -> UnsafeRawBufferPointer? {
        precondition(index >= 0 && index < count, "field index out of range")
        let end = ends[index]
        guard end >= 0 else { return nil }
        let start = index == 0 ? 0 : Self.offset(ends[index - 1])
        return UnsafeRawBufferPointer(start: storage + start, count: end - start)
    }

    public func string(_ index: Int) -> String? {
        field(index).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A copy of the current record that outlives the buffer: one allocation, however many fields.
    public func snapshot() -> RecordSnapshot {
        let endsSize = fieldCount * MemoryLayout<Int>.stride
        if snapshotCapacity < endsSize + used {
            snapshotStorage.deallocate()
            snapshotCapacity = max(2 * snapshotCapacity, endsSize + used)
            snapshotStorage = UnsafeMutableRawPointer.allocate(byteCount: snapshotCapacity, alignment: 1)
        }
        snapshotStorage.copyMemory(from: ends, byteCount: endsSize)
        (snapshotStorage + endsSize).copyMemory(from: storage, byteCount: used)
        return RecordSnapshot(count: fieldCount, storage: UnsafeRawBufferPointer(start: snapshotStorage, count: endsSize + used))
    }

    /// All bytes of the current record's fields, for whole-record checks such as UTF-8 validation.
    public var allBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: used) }

    /// Appends bytes to the field being built; call `endField()` when it is complete.
    public func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, let base = bytes.baseAddress else { return }
        reserve(bytes.count)
        (storage + used).copyMemory(from: base, byteCount: bytes.count)
        used += bytes.count
    }

    public func appendByte(_ byte: UInt8) {
        reserve(1)
        storage.storeBytes(of: byte, toByteOffset: used, as: UInt8.self)
        used += 1
    }

    public func endField() { appendEnd(used) }

    public func appendNull() { appendEnd(-used - 1) }

    public func appendField(_ text: String) {
        var text = text
        text.withUTF8 { appendBytes(UnsafeRawBufferPointer($0)) }
        endField()
    }

    @inline(__always)
    private func appendEnd(_ end: Int) {
        if fieldCount == endsCapacity { growEnds() }
        ends[fieldCount] = end
        fieldCount += 1
    }

    private func growEnds() {
        let grown = UnsafeMutablePointer<Int>.allocate(capacity: endsCapacity * 2)
        grown.moveInitialize(from: ends, count: fieldCount)
        ends.deallocate()
        ends = grown
        endsCapacity *= 2
    }

    /// Where the field after one ending at `end` starts (`end` may mark NULL).
    @inlinable static func offset(_ end: Int) -> Int { end >= 0 ? end : -end - 1 }

    private func reserve(_ extra: Int) {
        guard used + extra > capacity else { return }
        var newCapacity = capacity * 2
        while newCapacity < used + extra { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 1)
        grown.copyMemory(from: storage, byteCount: used)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }
}

/// A record's fields kept after the reader moved on (`RecordBuffer.snapshot()`): where each field ends,
/// a negative end marking NULL as in `RecordBuffer`, then the bytes of all its fields, in one array (one
/// allocation per record, one reference to count when the record is copied).
public struct RecordSnapshot: Sendable {
    // Inlinable, so that `withField` is specialized where it is called (a generic call across modules
    // costs several hundred instructions).
    @usableFromInline let storage: [UInt8]
    public let count: Int
    @usableFromInline static let endSize = MemoryLayout<Int>.stride

    /// `storage`: the ends, then the bytes, laid out as the snapshot keeps them.
    init(count: Int, storage: UnsafeRawBufferPointer) {
        self.count = count
        // Made from a buffer: the array initializers that fill in place are not specialized outside the
        // standard library, and cost as much again as the copy.
        self.storage = [UInt8](storage)
    }

    /// Calls `body` with the field's bytes, or nil for NULL.
    @inlinable
    public func withField<R>(_ index: Int, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        precondition(index >= 0 && index < count, "field index out of range")
        return try storage.withUnsafeBytes { raw in
            let end = Self.end(index, in: raw)
            guard end >= 0 else { return try body(nil) }
            let start = index == 0 ? 0 : RecordBuffer.offset(Self.end(index - 1, in: raw))
            let base = count * Self.endSize
            return try body(UnsafeRawBufferPointer(rebasing: raw[(base + start)..<(base + end)]))
        }
    }

    public func string(_ index: Int) -> String? {
        withField(index) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Every field made into a string by `transform` (given nil for NULL), in one pass over the bytes.
    /// Not generic: a generic method is not specialized in the modules that call it.
    public func strings(_ transform: (UnsafeRawBufferPointer?) throws -> String) rethrows -> [String] {
        var values: [String] = []
        values.reserveCapacity(count)
        try forEachField { _, bytes in values.append(try transform(bytes)) }
        return values
    }

    /// Calls `body` with each field's index and bytes (nil for NULL), in one pass over the bytes.
    public func forEachField(_ body: (Int, UnsafeRawBufferPointer?) throws -> Void) rethrows {
        try storage.withUnsafeBytes { raw in
            let base = count * Self.endSize
            var start = 0
            for index in 0..<count {
                let end = Self.end(index, in: raw)
                guard end >= 0 else {
                    try body(index, nil)
                    start = RecordBuffer.offset(end)
                    continue
                }
                try body(index, UnsafeRawBufferPointer(rebasing: raw[(base + start)..<(base + end)]))
                start = end
            }
        }
    }

    @inlinable
    static func end(_ index: Int, in raw: UnsafeRawBufferPointer) -> Int {
        raw.loadUnaligned(fromByteOffset: index * endSize, as: Int.self)
    }
}

extension RecordSnapshot {
    /// Feeds `digest` the record without the fields at `excluded`: the field count and each other field's
    /// length (`UInt32.max` for NULL), then those fields' bytes, so no two records feed the same bytes.
    public func update(_ digest: inout SHA256State, excluding excluded: [Int]) {
        storage.withUnsafeBytes { raw in
            let base = count * Self.endSize
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count + 1) { lengths in
                lengths[0] = UInt32(truncatingIfNeeded: count).littleEndian
                var lengthCount = 1
                var start = 0
                for index in 0..<count {
                    let end = Self.end(index, in: raw)
                    defer { start = RecordBuffer.offset(end) }
                    guard !excluded.contains(index) else { continue }
                    lengths[lengthCount] = (end < 0 ? UInt32.max : UInt32(truncatingIfNeeded: end - start)).littleEndian
                    lengthCount += 1
                }
                digest.update(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: lengths[..<lengthCount])))
            }
            // The fields' bytes are consecutive: the others are fed in runs, broken only where one is left out.
            var runStart = base
            var start = 0
            for index in 0..<count {
                let end = RecordBuffer.offset(Self.end(index, in: raw))
                if excluded.contains(index) {
                    digest.update(UnsafeRawBufferPointer(rebasing: raw[runStart..<(base + start)]))
                    runStart = base + end
                }
                start = end
            }
            digest.update(UnsafeRawBufferPointer(rebasing: raw[runStart..<(base + start)]))
        }
    }
}
