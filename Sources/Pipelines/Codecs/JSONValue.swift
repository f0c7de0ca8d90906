import Foundation

/// A small JSON value with object members in their written order: nested values of product JSONL, stage
/// outputs, event payloads. Parsing is meant for text already validated (by `JSONLReader`) or written by
/// this program; serialisation is compact. Numbers keep their exact text.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (left: JSONValue, right: JSONValue) -> Bool {
        switch (left, right) {
        case (.string(let a), .string(let b)), (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public static func parse(_ text: String) throws(JSONValueError) -> JSONValue {
        try parse(utf8: Array(text.utf8))
    }

    public static func parse(utf8 bytes: [UInt8]) throws(JSONValueError) -> JSONValue {
        var parser = Parser(bytes: bytes)
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw JSONValueError("unexpected text after a JSON value") }
        return value
    }

    /// Compact JSON text: no white space, strings escaped as `JSONLWriter` escapes them.
    /// The text of a string value.
    public var text: String? { if case .string(let value) = self { value } else { nil } }
    /// A number that is a whole 64-bit integer.
    public var integer: Int64? { if case .number(let value) = self { Int64(value) } else { nil } }
    public var items: [JSONValue]? { if case .array(let values) = self { values } else { nil } }

    public var serialized: String {
        var output: [UInt8] = []
        append(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private func append(to output: inout [UInt8]) {
        switch self {
        case .string(let text): JSONString.append(text.utf8, to: &output)
        case .number(let text): output += text.utf8
        case .bool(let value): output += (value ? "true" : "false").utf8
        case .null: output += "null".utf8
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                item.append(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONString.append(key.utf8, to: &output)
                output.append(UInt8(ascii: ":"))
                value.append(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Deeper nesting is refused: recursion on untrusted input must stay bounded.
    public static let maximumDepth = 256

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var depth = 0

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value() throws(JSONValueError) -> JSONValue {
            skipWhitespace()
            guard index < bytes.count else { throw JSONValueError("unexpected end of JSON") }
            switch bytes[index] {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "["):
                index += 1
                depth += 1
                defer { depth -= 1 }
                guard depth <= JSONValue.maximumDepth else { throw JSONValueError("nested more than \(JSONValue.maximumDepth) deep") }
                var items: [JSONValue] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    items.append(try value())
                    if try endOfList(UInt8(ascii: "]")) { return .array(items) }
                }
            case UInt8(ascii: "{"):
                index += 1
                depth += 1
                defer { depth -= 1 }
                guard depth <= JSONValue.maximumDepth else { throw JSONValueError("nested more than \(JSONValue.maximumDepth) deep") }
                var members: [(String, JSONValue)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    let key = try string()
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw JSONValueError("expected ':'") }
                    index += 1
                    members.append((key, try value()))
                    if try endOfList(UInt8(ascii: "}")) { return .object(members) }
                }
            default:
                let start = index
                while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                switch word {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default:
                    guard !word.isEmpty else { throw JSONValueError("expected a JSON value") }
                    return .number(word)
                }
            }
        }

        /// After a list item: true at the closing bracket, false after a comma.
        private mutating func endOfList(_ closing: UInt8) throws(JSONValueError) -> Bool {
            skipWhitespace()
            guard index < bytes.count else { throw JSONValueError("unexpected end of JSON") }
            let byte = bytes[index]
            index += 1
            if byte == closing { return true }
            guard byte == UInt8(ascii: ",") else { throw JSONValueError("expected ',' or '\(Character(Unicode.Scalar(closing)))'") }
            return false
        }

        private mutating func string() throws(JSONValueError) -> String {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw JSONValueError("expected a string") }
            index += 1
            // Most strings have no escapes: their bytes are the string's UTF-8.
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                index += 1
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: bytes[start..<index - 1], as: UTF8.self)
            }
            var utf8 = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: utf8, as: UTF8.self) }
                guard byte == UInt8(ascii: "\\") else {
                    utf8.append(byte)
                    continue
                }
                guard index < bytes.count else { break }
                let letter = bytes[index]
                index += 1
                switch letter {
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hexQuad()
                    if (0xD800...0xDBFF).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\") {
                        index += 2
                        code = 0x10000 + ((code - 0xD800) << 10) + (try hexQuad() - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw JSONValueError("invalid \\u escape") }
                    utf8.append(contentsOf: String(scalar).utf8)
                default: utf8.append(letter)
                }
            }
            throw JSONValueError("string not closed")
        }

        private mutating func hexQuad() throws(JSONValueError) -> UInt32 {
            guard index + 4 <= bytes.count,
                let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else { throw JSONValueError("invalid \\u escape") }
            index += 4
            return value
        }
    }
}

/// Text that is not JSON.
public struct JSONValueError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

extension JSONValue: Encodable {
    /// Numbers keep their value (integers as integers, others as decimals), never through a `Double`.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .number(let text):
            var container = encoder.singleValueContainer()
            if let integer = Int64(text) {
                try container.encode(integer)
            } else if let decimal = Decimal(string: text) {
                try container.encode(decimal)
            } else {
                try container.encode(text)
            }
        case .bool(let value):
            var container = encoder.singleValueContainer()
            try container.encode(value)
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for (key, value) in members { try container.encode(value, forKey: MemberKey(key)) }
        }
    }

    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
