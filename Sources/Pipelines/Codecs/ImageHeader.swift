/// What an image's own bytes say it is: JPEG, PNG, WebP or GIF, with its pixel size. The file name is
/// never consulted. Only the headers and the structure needed to tell a whole file from a cut-off one
/// are read; nothing is decoded.
public struct ImageHeader: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case jpeg, png, webp, gif

        /// The file extension datasets use for the format.
        public var fileExtension: String {
            switch self {
            case .jpeg: "jpg"
            case .png: "png"
            case .webp: "webp"
            case .gif: "gif"
            }
        }
    }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case notAnImage
        /// The header says one format, but the structure is broken or cut off.
        case truncated(Format)
        case malformed(Format, String)

        public var description: String {
            switch self {
            case .empty: "the file is empty"
            case .notAnImage: "not a JPEG, PNG, WebP or GIF image"
            case .truncated(let format): "the \(format.rawValue.uppercased()) image is truncated"
            case .malformed(let format, let detail): "the \(format.rawValue.uppercased()) image is malformed: \(detail)"
            }
        }

        /// A short code for reports.
        public var code: String {
            switch self {
            case .empty: "empty"
            case .notAnImage: "not-an-image"
            case .truncated: "truncated"
            case .malformed: "malformed"
            }
        }
    }

    public var format: Format
    public var width: Int
    public var height: Int

    public init(format: Format, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    public static func inspect(_ bytes: UnsafeRawBufferPointer) -> Result<ImageHeader, Problem> {
        let reader = ByteReader(bytes)
        guard !bytes.isEmpty else { return .failure(.empty) }
        if reader.starts(with: [0xFF, 0xD8, 0xFF]) { return jpeg(reader) }
        if reader.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return png(reader) }
        if reader.starts(with: Array("GIF87a".utf8)) || reader.starts(with: Array("GIF89a".utf8)) { return gif(reader) }
        if reader.starts(with: Array("RIFF".utf8)), reader.count >= 12, reader.matches(Array("WEBP".utf8), at: 8) {
            return webp(reader)
        }
        return .failure(.notAnImage)
    }

    public static func inspect(_ bytes: [UInt8]) -> Result<ImageHeader, Problem> {
        bytes.withUnsafeBytes { inspect($0) }
    }

    /// Walks the marker segments up to the first scan; the frame header (SOFn) gives the size. The image
    /// is whole when an end-of-image marker follows the first scan: inside entropy-coded data 0xFF is
    /// always followed by 0x00 or a restart marker, so FF D9 there can only be the real end.
    private static func jpeg(_ reader: ByteReader) -> Result<ImageHeader, Problem> {
        var offset = 2
        var size: (width: Int, height: Int)?
        while true {
            guard offset + 4 <= reader.count else { return .failure(.truncated(.jpeg)) }
            guard reader[offset] == 0xFF else { return .failure(.malformed(.jpeg, "no marker at byte \(offset)")) }
            let marker = reader[offset + 1]
            if marker == 0xFF {
                offset += 1
                continue
            }
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 {
                offset += 2
                continue
            }
            if marker == 0xD9 { return .failure(.malformed(.jpeg, "the image ends before its first scan")) }
            let length = reader.uint16BE(at: offset + 2)
            guard length >= 2 else { return .failure(.malformed(.jpeg, "a segment of length \(length) at byte \(offset)")) }
            let isFrame = (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
            if isFrame {
                guard length >= 7, offset + 9 <= reader.count else { return .failure(.truncated(.jpeg)) }
                size = (reader.uint16BE(at: offset + 7), reader.uint16BE(at: offset + 5))
            }
            if marker == 0xDA {
                guard let size else { return .failure(.malformed(.jpeg, "a scan before the frame header")) }
                guard size.width > 0, size.height > 0 else {
                    return .failure(.malformed(.jpeg, "the frame header gives a size of \(size.width)×\(size.height)"))
                }
                let scanStart = offset + 2 + length
                guard reader.lastIndex(of: [0xFF, 0xD9], from: scanStart) != nil else { return .failure(.truncated(.jpeg)) }
                return .success(ImageHeader(format: .jpeg, width: size.width, height: size.height))
            }
            offset += 2 + length
        }
    }

    /// The IHDR chunk gives the size; every chunk must fit, and the last must be IEND.
    private static func png(_ reader: ByteReader) -> Result<ImageHeader, Problem> {
        guard reader.count >= 33 else { return .failure(.truncated(.png)) }
        guard reader.matches(Array("IHDR".utf8), at: 12), reader.uint32BE(at: 8) == 13 else {
            return .failure(.malformed(.png, "the first chunk is not IHDR"))
        }
        let width = reader.uint32BE(at: 16)
        let height = reader.uint32BE(at: 20)
        guard width > 0, height > 0, width <= Int32.max, height <= Int32.max else {
            return .failure(.malformed(.png, "IHDR gives a size of \(width)×\(height)"))
        }
        var offset = 8
        while offset + 12 <= reader.count {
            let length = reader.uint32BE(at: offset)
            guard length <= Int32.max else { return .failure(.malformed(.png, "a chunk of \(length) bytes")) }
            let end = offset + 12 + length
            guard end <= reader.count else { return .failure(.truncated(.png)) }
            if reader.matches(Array("IEND".utf8), at: offset + 4) {
                return .success(ImageHeader(format: .png, width: width, height: height))
            }
            offset = end
        }
        return .failure(.truncated(.png))
    }

    /// The logical screen gives the size; the data blocks must be whole and end with the trailer (0x3B).
    private static func gif(_ reader: ByteReader) -> Result<ImageHeader, Problem> {
        guard reader.count >= 13 else { return .failure(.truncated(.gif)) }
        let width = reader.uint16LE(at: 6)
        let height = reader.uint16LE(at: 8)
        guard width > 0, height > 0 else { return .failure(.malformed(.gif, "the screen is \(width)×\(height)")) }
        var offset = 13
        let flags = reader[10]
        if flags & 0x80 != 0 { offset += 3 << (Int(flags & 0x07) + 1) }
        func skipSubBlocks(_ start: Int) -> Int? {
            var position = start
            while position < reader.count {
                let size = Int(reader[position])
                position += 1 + size
                if size == 0 { return position }
            }
            return nil
        }
        while offset < reader.count {
            switch reader[offset] {
            case 0x3B:
                return .success(ImageHeader(format: .gif, width: width, height: height))
            case 0x21:
                guard offset + 2 <= reader.count, let next = skipSubBlocks(offset + 2) else { return .failure(.truncated(.gif)) }
                offset = next
            case 0x2C:
                guard offset + 11 <= reader.count else { return .failure(.truncated(.gif)) }
                let local = reader[offset + 9]
                offset += 10
                if local & 0x80 != 0 { offset += 3 << (Int(local & 0x07) + 1) }
                guard offset + 1 <= reader.count, let next = skipSubBlocks(offset + 1) else { return .failure(.truncated(.gif)) }
                offset = next
            case let byte:
                return .failure(.malformed(.gif, "unexpected block 0x\(String(byte, radix: 16)) at byte \(offset)"))
            }
        }
        return .failure(.truncated(.gif))
    }

    /// RIFF's size must cover the file; the first chunk (VP8, VP8L or VP8X) gives the size.
    private static func webp(_ reader: ByteReader) -> Result<ImageHeader, Problem> {
        let riffSize = reader.uint32LE(at: 4)
        guard riffSize + 8 <= reader.count else { return .failure(.truncated(.webp)) }
        guard reader.count >= 30 else { return .failure(.truncated(.webp)) }
        let chunk = String(decoding: (12..<16).map { reader[$0] }, as: UTF8.self)
        let data = 20
        let width: Int
        let height: Int
        switch chunk {
        case "VP8 ":
            guard reader.matches([0x9D, 0x01, 0x2A], at: data + 3) else {
                return .failure(.malformed(.webp, "no VP8 start code"))
            }
            width = reader.uint16LE(at: data + 6) & 0x3FFF
            height = reader.uint16LE(at: data + 8) & 0x3FFF
        case "VP8L":
            guard reader[data] == 0x2F else { return .failure(.malformed(.webp, "no VP8L signature")) }
            let bits = reader.uint32LE(at: data + 1)
            width = (bits & 0x3FFF) + 1
            height = ((bits >> 14) & 0x3FFF) + 1
        case "VP8X":
            width = reader.uint24LE(at: data + 4) + 1
            height = reader.uint24LE(at: data + 7) + 1
        default:
            return .failure(.malformed(.webp, "unknown first chunk '\(chunk)'"))
        }
        guard width > 0, height > 0 else { return .failure(.malformed(.webp, "a size of \(width)×\(height)")) }
        return .success(ImageHeader(format: .webp, width: width, height: height))
    }
}

/// Bounds-checked reads of big- and little-endian integers; reads past the end give 0 (callers check
/// lengths before they trust a value).
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }
    subscript(_ index: Int) -> UInt8 { index >= 0 && index < bytes.count ? bytes[index] : 0 }

    func starts(with prefix: [UInt8]) -> Bool { matches(prefix, at: 0) }
    func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset + expected.count <= count && expected.indices.allSatisfy { bytes[offset + $0] == expected[$0] }
    }
    func uint16BE(at offset: Int) -> Int { Int(self[offset]) << 8 | Int(self[offset + 1]) }
    func uint16LE(at offset: Int) -> Int { Int(self[offset]) | Int(self[offset + 1]) << 8 }
    func uint24LE(at offset: Int) -> Int { uint16LE(at: offset) | Int(self[offset + 2]) << 16 }
    func uint32BE(at offset: Int) -> Int { uint16BE(at: offset) << 16 | uint16BE(at: offset + 2) }
    func uint32LE(at offset: Int) -> Int { uint16LE(at: offset) | uint16LE(at: offset + 2) << 16 }

    /// The last position at or after `start` where `pattern` begins.
    func lastIndex(of pattern: [UInt8], from start: Int) -> Int? {
        var index = count - pattern.count
        while index >= start {
            if matches(pattern, at: index) { return index }
            index -= 1
        }
        return nil
    }
}
