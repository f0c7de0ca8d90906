/// A Bloom filter over 64-bit hashes, blocked: a hash's three bits lie in one 64-bit word, so a test
/// or an insert costs one memory access. `mayContain` is false only for hashes never inserted.
///
/// A class over a buffer of its own, held in `let`s: an insert changes no stored property, so it costs no
/// dynamic exclusivity check (one per insert into a struct held by a class, a tenth of an insert's time).
final class BloomFilter {
    private let words: UnsafeMutablePointer<UInt64>
    private let wordMask: UInt64

    /// `bits` is rounded up to a power of two, at least 64.
    init(bits: Int) {
        var count = 1
        while count * 64 < bits { count <<= 1 }
        words = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        words.initialize(repeating: 0, count: count)
        wordMask = UInt64(count - 1)
    }

    deinit { words.deallocate() }

    /// The hash a text is filtered by: of its UTF-8 bytes.
    static func hash(of text: String) -> UInt64 {
        var text = text
        return text.withUTF8 { hash(of: UnsafeRawBufferPointer($0)) }
    }

    /// A fast hash of the bytes, eight at a time, finished with MurmurHash3's mix. Unseeded: keys made to
    /// collide only cost more lookups behind the filter, never a wrong answer.
    static func hash(of bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var index = 0
        while index + 8 <= bytes.count {
            hash = (hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ (hash >> 33)
    }

    func mayContain(_ hash: UInt64) -> Bool {
        let bits = Self.bits(hash)
        return words[Int(hash & wordMask)] & bits == bits
    }

    func insert(_ hash: UInt64) {
        words[Int(hash & wordMask)] |= Self.bits(hash)
    }

    /// Three bits from the hash's top 18 bits; the low bits choose the word.
    private static func bits(_ hash: UInt64) -> UInt64 {
        (1 << ((hash >> 46) & 63)) | (1 << ((hash >> 52) & 63)) | (1 << ((hash >> 58) & 63))
    }
}
