/// JSON string literals, for every writer of JSON in the project.
public enum JSONString {
    /// Appends `bytes` (UTF-8) as a JSON string literal.
    public static func append(_ bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                output.append(contentsOf: escape(byte))
            } else {
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static let escapes: [[UInt8]] = (0..<0x20).map { code in
        switch code {
        case 0x08: return Array("\\b".utf8)
        case 0x09: return Array("\\t".utf8)
        case 0x0A: return Array("\\n".utf8)
        case 0x0C: return Array("\\f".utf8)
        case 0x0D: return Array("\\r".utf8)
        default:
            let hex = Array("0123456789abcdef".utf8)
            return Array("\\u00".utf8) + [hex[code >> 4], hex[code & 0x0F]]
        }
    }

    private static let quoteEscape = Array("\\\"".utf8)
    private static let backslashEscape = Array("\\\\".utf8)

    /// The escape for a byte that must be escaped in a JSON string: a control character, `"` or `\\`.
    static func escape(_ byte: UInt8) -> [UInt8] {
        if byte == UInt8(ascii: "\"") { return quoteEscape }
        if byte == UInt8(ascii: "\\") { return backslashEscape }
        return escapes[Int(byte)]
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var output: [UInt8] = []
        append(text.utf8, to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
