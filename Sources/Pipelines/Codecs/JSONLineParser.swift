/// Where and why a JSON line is broken; `offset` is the byte offset in the line.
struct JSONProblem: Error {
    var offset: Int
    var reason: String
}

/// Parses JSON text in one line, without Foundation: numbers keep their exact text and nested objects
/// and arrays are kept as compact JSON text. The line must be valid UTF-8 (checked by the caller).
struct JSONLineParser {
    let bytes: UnsafePointer<UInt8>
    let count: Int
    var index = 0

    static let maximumDepth = 256

    /// Nil for a buffer without storage, which can only be an empty line.
    init?(_ line: UnsafeRawBufferPointer) {
        guard let base = line.baseAddress else { return nil }
        bytes = base.assumingMemoryBound(to: UInt8.self)
        count = line.count
    }

    var isAtEnd: Bool { index == count }

    var current: UInt8? { index < count ? bytes[index] : nil }

    func problem(_ reason: String, at offset: Int? = nil) -> JSONProblem {
        JSONProblem(offset: offset ?? index, reason: index < count || offset != nil ? reason : "unexpected end of line")
    }

    mutating func skipWhitespace() {
        while index < count {
            let byte = bytes[index]
            guard byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A else { return }
            index += 1
        }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONProblem) {
        guard index < count && bytes[index] == byte else { throw problem("expected \(what)") }
        index += 1
    }

    /// Parses one value: strings are decoded, numbers and `true`/`false` kept as text, `null` becomes
    /// NULL, and objects and arrays become compact JSON text. Ends the field in `output`.
    mutating func parseValue(into output: RecordBuffer) throws(JSONProblem) {
        guard let first = current else { throw problem("expected a value") }
        switch first {
        case UInt8(ascii: "\""):
            try scanString(decodingInto: output)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try copyCompact(into: output, depth: 1)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            output.appendNull()
            return
        default:
            let start = index
            try scanScalar()
            output.appendBytes(span(start, index))
        }
        output.endField()
    }

    /// Scans a string starting at its opening quote; decodes its content into `output` when given.
    mutating func scanString(decodingInto output: RecordBuffer?) throws(JSONProblem) {
        let openingQuote = index
        index += 1
        var runStart = index
        while true {
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
                index += 1
            }
            guard index < count else { throw problem("string not closed", at: openingQuote) }
            output?.appendBytes(span(runStart, index))
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return
            }
            if byte < 0x20 { throw problem("control character in a string (it must be escaped)") }
            try scanEscape(decodingInto: output)
            runStart = index
        }
    }

    private mutating func scanEscape(decodingInto output: RecordBuffer?) throws(JSONProblem) {
        let escapeStart = index
        guard index + 1 < count else { throw problem("escape not finished", at: escapeStart) }
        let letter = bytes[index + 1]
        index += 2
        let simple: UInt8?
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = letter
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default: throw problem("invalid escape '\\\(Character(Unicode.Scalar(letter)))'", at: escapeStart)
        }
        if let simple {
            output?.appendByte(simple)
            return
        }
        var scalar = try hexQuad(escapeStart)
        if (0xDC00...0xDFFF).contains(scalar) {
            throw problem("\\u escape is a lone low surrogate", at: escapeStart)
        }
        if (0xD800...0xDBFF).contains(scalar) {
            guard index + 1 < count && bytes[index] == UInt8(ascii: "\\") && bytes[index + 1] == UInt8(ascii: "u")
            else { throw problem("\\u escape is a high surrogate without its low half", at: escapeStart) }
            index += 2
            let low = try hexQuad(escapeStart)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw problem("\\u escape is a high surrogate without its low half", at: escapeStart)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        if let output { Self.appendUTF8(scalar, to: output) }
    }

    private mutating func hexQuad(_ escapeStart: Int) throws(JSONProblem) -> UInt32 {
        guard index + 4 <= count else { throw problem("\\u escape needs four hex digits", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw problem("\\u escape needs four hex digits", at: escapeStart)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    static func appendUTF8(_ scalar: UInt32, to output: RecordBuffer) {
        switch scalar {
        case 0..<0x80:
            output.appendByte(UInt8(scalar))
        case 0x80..<0x800:
            output.appendByte(UInt8(0xC0 | scalar >> 6))
            output.appendByte(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            output.appendByte(UInt8(0xE0 | scalar >> 12))
            output.appendByte(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.appendByte(UInt8(0x80 | scalar & 0x3F))
        default:
            output.appendByte(UInt8(0xF0 | scalar >> 18))
            output.appendByte(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.appendByte(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.appendByte(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// A number, `true` or `false`; leaves `index` after it.
    private mutating func scanScalar() throws(JSONProblem) {
        switch current ?? 0 {
        case UInt8(ascii: "t"): try scanLiteral("true")
        case UInt8(ascii: "f"): try scanLiteral("false")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw problem("invalid value")
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(JSONProblem) {
        let length = literal.utf8CodeUnitCount
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: length)
        guard index + length <= count && expected.elementsEqual(span(index, index + length)) else {
            throw problem("invalid value")
        }
        index += length
    }

    /// JSON number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    mutating func scanNumber() throws(JSONProblem) {
        let start = index
        if current == UInt8(ascii: "-") { index += 1 }
        guard let first = current, Self.isDigit(first) else { throw problem("invalid number", at: start) }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if current == UInt8(ascii: ".") {
            index += 1
            guard let digit = current, Self.isDigit(digit) else { throw problem("invalid number", at: start) }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard let digit = current, Self.isDigit(digit) else { throw problem("invalid number", at: start) }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while index < count && Self.isDigit(bytes[index]) { index += 1 }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// Copies an object or array as compact JSON text (no whitespace outside strings), checking it.
    private mutating func copyCompact(into output: RecordBuffer, depth: Int) throws(JSONProblem) {
        guard depth <= Self.maximumDepth else { throw problem("nested more than \(Self.maximumDepth) levels deep") }
        let isObject = bytes[index] == UInt8(ascii: "{")
        let closing = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        output.appendByte(bytes[index])
        index += 1
        skipWhitespace()
        if current == closing {
            output.appendByte(closing)
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if isObject {
                guard current == UInt8(ascii: "\"") else { throw problem("expected a key string") }
                let keyStart = index
                try scanString(decodingInto: nil)
                output.appendBytes(span(keyStart, index))
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                output.appendByte(UInt8(ascii: ":"))
                skipWhitespace()
            }
            try copyCompactValue(into: output, depth: depth)
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                output.appendByte(UInt8(ascii: ","))
                index += 1
                continue
            }
            try expect(closing, isObject ? "',' or '}'" : "',' or ']'")
            output.appendByte(closing)
            return
        }
    }

    private mutating func copyCompactValue(into output: RecordBuffer, depth: Int) throws(JSONProblem) {
        let start = index
        switch current {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try copyCompact(into: output, depth: depth + 1)
            return
        case UInt8(ascii: "\""):
            try scanString(decodingInto: nil)
        case UInt8(ascii: "n"):
            try scanLiteral("null")
        default:
            try scanScalar()
        }
        output.appendBytes(span(start, index))
    }

    @inline(__always)
    func span(_ start: Int, _ end: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes + start, count: end - start)
    }
}
