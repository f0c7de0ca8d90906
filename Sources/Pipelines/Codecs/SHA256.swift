import Dispatch
import CCrypto

/// SHA-256 through libcrypto: of a text at once, or of a stream of bytes with `SHA256Digest`.
public enum SHA256 {
    public static func hex(of text: String) throws -> String {
        let digest = try SHA256Digest()
        var text = text
        text.withUTF8 { digest.update(UnsafeRawBufferPointer($0)) }
        return try digest.finish()
    }

    /// The SHA-256 of bytes in memory.
    public static func hex(ofBytes bytes: UnsafeRawBufferPointer) throws -> String {
        let digest = try SHA256Digest()
        digest.update(bytes)
        return try digest.finish()
    }

    static func hex(_ bytes: some Collection<UInt8>) -> String { Hex.lowercase(bytes) }
}

/// A running SHA-256 of bytes fed in pieces, e.g. a file as it is written: a `SHA256State` that is
/// finished once.
public final class SHA256Digest {
    private var state: SHA256State
    private var finished = false

    public init() throws { state = try SHA256State() }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard !finished else { return }
        state.update(bytes)
    }

    /// The digest in lower-case hex; the digest cannot be updated afterwards.
    public func finish() throws -> String {
        guard !finished else { throw PipelineError(.internal, "libcrypto could not compute a SHA-256 digest") }
        finished = true
        return try state.finish().hex
    }
}

/// A running SHA-256 as a value: copying it copies the state, so texts that share a beginning can each go
/// on from a copy of a state fed that beginning once (a product block each).
public struct SHA256State {
    private var state = ccrypto_sha256_state()
    private var failed = false

    public init() throws {
        guard ccrypto_sha256_init(&state) == 1 else { throw PipelineError(.internal, "libcrypto could not start a SHA-256 digest") }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if ccrypto_sha256_update(&state, base, bytes.count) != 1 { failed = true }
    }

    /// The digest of a copy: `self` is left as it was.
    public func finish() throws -> SHA256Value {
        var copy = state
        var value = SHA256Value()
        let status = withUnsafeMutableBytes(of: &value.bytes) { ccrypto_sha256_final(&copy, $0.baseAddress?.assumingMemoryBound(to: UInt8.self)) }
        guard !failed, status == 1 else { throw PipelineError(.internal, "libcrypto could not compute a SHA-256 digest") }
        return value
    }
}

/// A SHA-256 digest's 32 bytes: compared and kept without a string, written as its 64 lower-case hex digits.
public struct SHA256Value: Hashable, Sendable, CustomStringConvertible {
    fileprivate var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    fileprivate init() {}

    /// The digest whose lower-case hex digits `text` is; nil for anything else.
    public init?(hex text: String) {
        var text = text
        guard let value = text.withUTF8({ Self.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// The digest whose lower-case hex digits the bytes are; nil for anything else.
    public init?(hex bytes: UnsafeRawBufferPointer) {
        guard let value = Self.parse(bytes) else { return nil }
        self = value
    }

    /// The first half of a digest (`firstHalf`) whose first 32 lower-case hex digits the bytes are, the
    /// bytes holding those 32 digits or all 64; nil for anything else.
    public init?(firstHalfOfHex bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 || bytes.count == 64,
            let value = Self.parse(UnsafeRawBufferPointer(rebasing: bytes.prefix(32)), digits: 32)
        else { return nil }
        self = value
    }

    /// Eight digits at a time, without a branch per digit: digits and letters mix at random in a digest,
    /// so branching on which it is mispredicts half the time (the import's check parses one stored digest
    /// per product). `digits`: all 64, or the first 32 (the rest of the digest is then zeros).
    private static func parse(_ hex: UnsafeRawBufferPointer, digits: Int = 64) -> SHA256Value? {
        guard hex.count == digits else { return nil }
        var value = SHA256Value()
        var valid = true
        withUnsafeMutableBytes(of: &value.bytes) { bytes in
            for chunk in 0..<digits / 8 {
                let digits = UInt64(littleEndian: hex.loadUnaligned(fromByteOffset: chunk * 8, as: UInt64.self))
                let (packed, chunkValid) = Self.packed(digits)
                valid = valid && chunkValid
                bytes.storeBytes(of: packed.littleEndian, toByteOffset: chunk * 4, as: UInt32.self)
            }
        }
        return valid ? value : nil
    }

    /// The four bytes eight lower-case hex digits (one per byte, the first lowest) stand for, in order
    /// (the first lowest), and whether all eight are such digits.
    @inline(__always)
    private static func packed(_ digits: UInt64) -> (UInt32, Bool) {
        let ones: UInt64 = 0x0101_0101_0101_0101
        // '0'...'9' are 0x30...0x39 and 'a'...'f' 0x61...0x66: the low nibble, plus 9 for a letter.
        let nibbles = (digits & (ones &* 0x0F)) &+ ((digits >> 6) & ones) &* 9
        // Valid when every nibble is below 16 and spells the byte it came from again.
        let isLetter = ((nibbles &+ ones &* 0x06) >> 4) & ones
        let spelled = nibbles &+ ones &* 0x30 &+ isLetter &* 0x27
        let valid = (nibbles &+ ones &* 0x70) & (ones &* 0x80) == 0 && spelled == digits
        // Each pair of nibbles into its byte, then the four bytes together.
        var bytes = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles >> 8) & 0x000F_000F_000F_000F)
        bytes = (bytes | (bytes >> 8)) & 0x0000_FFFF_0000_FFFF
        bytes = (bytes | (bytes >> 16)) & 0x0000_0000_FFFF_FFFF
        return (UInt32(truncatingIfNeeded: bytes), valid)
    }

    public var hex: String { withUnsafeBytes(of: bytes) { Hex.lowercase($0) } }

    /// The digest's first 128 bits, the rest zeros: what is kept of a digest where 2^-128 is chance enough.
    public var firstHalf: SHA256Value {
        var half = SHA256Value()
        half.bytes = (bytes.0, bytes.1, 0, 0)
        return half
    }

    /// The first 32 of the 64 hex digits: the first half written out.
    public var firstHalfHex: String { withUnsafeBytes(of: bytes) { Hex.lowercase(UnsafeRawBufferPointer(rebasing: $0.prefix(16))) } }

    /// The first eight bytes as a signed integer (big-endian): a digest shortened to 64 bits.
    public var leadingInt64: Int64 { Int64(bitPattern: UInt64(bigEndian: bytes.0)) }
    public var description: String { hex }

    public static func == (left: SHA256Value, right: SHA256Value) -> Bool {
        left.bytes.0 == right.bytes.0 && left.bytes.1 == right.bytes.1 && left.bytes.2 == right.bytes.2
            && left.bytes.3 == right.bytes.3
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: bytes) { hasher.combine(bytes: $0) }
    }
}

extension SHA256Digest {
    /// The SHA-256 of the file at `path`.
    public static func ofFile(_ path: String) throws -> String {
        let digest = try SHA256Digest()
        try digest.update(fromFile: path, length: nil)
        return try digest.finish()
    }

    /// Feeds the first `length` bytes of the file at `path` (all of it for nil); a shorter file is an error.
    func update(fromFile path: String, length: Int64?) throws {
        let input = try InputFile(path: path)
        defer { input.close() }
        var remaining = length ?? Int64.max
        repeat {
            let bytes = input.available
            let used = Int(min(Int64(bytes.count), remaining))
            update(UnsafeRawBufferPointer(rebasing: bytes.prefix(used)))
            input.consume(used)
            remaining -= Int64(used)
        } while try remaining > 0 && input.fillMore()
        if let length, remaining > 0 {
            throw PipelineError(.io, "cannot read back \(path): it holds fewer than the \(length) bytes written")
        }
    }
}

/// HMAC-SHA256 through libcrypto, e.g. for signing webhook bodies.
public enum HMACSHA256 {
    public static func hex(key: [UInt8], message: [UInt8]) throws -> String {
        var digest = [UInt8](repeating: 0, count: Int(ccrypto_sha256_length()))
        var length: UInt32 = 0
        let result = key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress, message.count, &digest, &length)
            }
        }
        guard result != nil else { throw PipelineError(.internal, "libcrypto could not compute an HMAC-SHA256") }
        return SHA256.hex(digest.prefix(Int(length)))
    }
}

/// A SHA-256 computed on a thread of its own while the caller goes on (e.g. compressing the same bytes
/// on this core): `update` copies the bytes and returns; at most `pending` pieces wait, so memory
/// stays bounded. `finish` waits for the digest.
public final class BackgroundDigest: @unchecked Sendable {
    private let digest: SHA256Digest
    private let queue = DispatchQueue(label: "pipeline.sha256")
    private let slots: DispatchSemaphore

    public init(pending: Int = 8) throws {
        digest = try SHA256Digest()
        slots = DispatchSemaphore(value: pending)
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        let copy = [UInt8](bytes)
        slots.wait()
        queue.async { [self] in
            copy.withUnsafeBytes { digest.update($0) }
            slots.signal()
        }
    }

    public func finish() throws -> String {
        try queue.sync { try digest.finish() }
    }
}

/// Bytes as lower-case hexadecimal, two digits each.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func lowercase(_ bytes: some Collection<UInt8>, prefix: String = "") -> String {
        let prefix = Array(prefix.utf8)
        // Written straight into the string's storage: no array of digits to copy it from.
        return String(unsafeUninitializedCapacity: prefix.count + bytes.count * 2) { text in
            var count = prefix.count
            _ = text.initialize(fromContentsOf: prefix)
            for byte in bytes {
                text[count] = digits[Int(byte >> 4)]
                text[count + 1] = digits[Int(byte & 0x0f)]
                count += 2
            }
            return count
        }
    }
}
