import Foundation

/// Small valid images of each format, made byte by byte (the checker reads structure, not pixels).
public enum TestImages {
    public static let vendureAssets = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/reference/vendure/mock-data/assets").standardizedFileURL.path

    public static func bigEndian32(_ value: Int) -> [UInt8] { [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    public static func png(width: Int, height: Int, payload: [UInt8] = [1, 2, 3]) -> [UInt8] {
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] { bigEndian32(data.count) + Array(type.utf8) + data + [0, 0, 0, 0] }
        let header = bigEndian32(width) + bigEndian32(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", payload) + chunk("IEND", [])
    }

    public static func gif(width: Int, height: Int) -> [UInt8] {
        Array("GIF89a".utf8) + [UInt8(width & 0xFF), UInt8(width >> 8), UInt8(height & 0xFF), UInt8(height >> 8), 0, 0, 0]
            + [0x2C, 0, 0, 0, 0, UInt8(width & 0xFF), UInt8(width >> 8), UInt8(height & 0xFF), UInt8(height >> 8), 0]
            + [2, 2, 0x4C, 0x01, 0] + [0x3B]
    }

    public static func webpLossless(width: Int, height: Int) -> [UInt8] {
        let bits = (width - 1) | (height - 1) << 14
        let data: [UInt8] = [0x2F, UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24 & 0xFF), 0, 0, 0]
        let chunk = Array("VP8L".utf8) + [UInt8(data.count), 0, 0, 0] + data
        let size = 4 + chunk.count
        return Array("RIFF".utf8) + [UInt8(size & 0xFF), UInt8(size >> 8), 0, 0] + Array("WEBP".utf8) + chunk + Array(repeating: 0, count: 12)
    }

    /// A real photo of Vendure's demo catalogue.
    public static func vendureJPEG(_ name: String = "derick-david-409858-unsplash.jpg") throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(vendureAssets)/\(name)")))
    }

    /// The same picture with different bytes: a JPEG comment segment after the start marker.
    public static func withComment(_ jpeg: [UInt8], _ text: String) -> [UInt8] {
        let comment = Array(text.utf8)
        let length = comment.count + 2
        return Array(jpeg.prefix(2)) + [0xFF, 0xFE, UInt8(length >> 8), UInt8(length & 0xFF)] + comment + Array(jpeg.dropFirst(2))
    }
}
