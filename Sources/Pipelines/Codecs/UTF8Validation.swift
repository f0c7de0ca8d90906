/// Strict UTF-8 validation (no overlong forms, no surrogates, nothing above U+10FFFF) with an
/// eight-bytes-at-a-time fast path for ASCII, which is what most data files are.
public enum UTF8Validation {
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    public static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        return asciiPrefixLength(base, bytes.count) == bytes.count
    }

    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        firstInvalidOffset(bytes) == nil
    }

    /// The offset of the first byte of the first invalid or truncated sequence, or nil when all is valid.
    public static func firstInvalidOffset(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = asciiPrefixLength(base, count)
        while index < count {
            let lead = base.load(fromByteOffset: index, as: UInt8.self)
            if lead < 0x80 {
                index += 1
                if index & 7 == 0 { index += asciiPrefixLength(base + index, count - index) }
                continue
            }
            let length = sequenceLength(base, count, at: index, lead: lead)
            if length == 0 { return index }
            index += length
        }
        return nil
    }

    /// How many leading bytes are ASCII.
    @inline(__always)
    static func asciiPrefixLength(_ base: UnsafeRawPointer, _ count: Int) -> Int {
        var index = 0
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if word & highBits != 0 { break }
            index += 8
        }
        while index < count, base.load(fromByteOffset: index, as: UInt8.self) < 0x80 { index += 1 }
        return index
    }

    /// The length of the valid multi-byte sequence starting at `index`, or 0 when it is invalid.
    private static func sequenceLength(_ base: UnsafeRawPointer, _ count: Int, at index: Int, lead: UInt8)
        -> Int
    {
        func byte(_ offset: Int) -> UInt8? {
            index + offset < count ? base.load(fromByteOffset: index + offset, as: UInt8.self) : nil
        }
        func isContinuation(_ value: UInt8?) -> Bool { value.map { $0 & 0xC0 == 0x80 } ?? false }

        switch lead {
        case 0xC2...0xDF:
            return isContinuation(byte(1)) ? 2 : 0
        case 0xE0...0xEF:
            guard let second = byte(1) else { return 0 }
            // E0 needs A0... (else overlong); ED needs ...9F (else a UTF-16 surrogate).
            let secondRange: ClosedRange<UInt8> =
                lead == 0xE0 ? 0xA0...0xBF : lead == 0xED ? 0x80...0x9F : 0x80...0xBF
            return secondRange.contains(second) && isContinuation(byte(2)) ? 3 : 0
        case 0xF0...0xF4:
            guard let second = byte(1) else { return 0 }
            // F0 needs 90... (else overlong); F4 needs ...8F (else above U+10FFFF).
            let secondRange: ClosedRange<UInt8> =
                lead == 0xF0 ? 0x90...0xBF : lead == 0xF4 ? 0x80...0x8F : 0x80...0xBF
            return secondRange.contains(second) && isContinuation(byte(2)) && isContinuation(byte(3)) ? 4 : 0
        default:
            return 0
        }
    }
}
