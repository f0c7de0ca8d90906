import Foundation
import Pipelines

/// Where a feed record was: `line 7`, `page 2, record 5`. Written as bytes, since a feed has millions.
struct FeedPlace {
    /// `page 2, line ` or `record `: everything before the number.
    let lead: [UInt8]
    var number = 0

    init(page: String, unit: String) { lead = Array((page + unit + " ").utf8) }

    func append(to record: RecordBuffer) {
        lead.withUnsafeBytes { record.appendBytes($0) }
        RecordBuffer.appendDecimal(Int64(number), to: record)
        record.endField()
    }

    var text: String { String(decoding: lead, as: UTF8.self) + String(number) }
}

/// A feed record's figures after their checks: whole, non-negative quantities, with available (on hand −
/// reserved) or on hand (available + reserved) derived where the feed gives only the other two.
///
/// The record comes as five fields of a `RecordBuffer` (`Field`), NULL where the feed has no such
/// value or the columns do not name one.
struct FeedRecord: Equatable {
    enum Field {
        static let sku = 0
        static let onHand = 1
        static let available = 2
        static let reserved = 3
        static let location = 4
        static let count = 5
    }

    var onHand: Int64?
    var available: Int64?
    var reserved: Int64?
    var derived: Derivation?

    enum Derivation: String { case available, onHand = "on_hand" }

    /// Why a record is refused: the field and the reason.
    struct Problem: Error, Equatable {
        var field: String
        var reason: String
    }

    static let largestQuantity: Int64 = 1_000_000_000_000

    init(_ fields: RecordBuffer, columns: FeedColumns) throws(Problem) {
        guard let sku = fields.field(Field.sku), sku.contains(where: { !Self.isSpace($0) }) else {
            throw Problem(field: columns.sku, reason: "no SKU")
        }
        onHand = try Self.quantity(fields.field(Field.onHand), column: columns.onHand)
        available = try Self.quantity(fields.field(Field.available), column: columns.available)
        reserved = try Self.quantity(fields.field(Field.reserved), column: columns.reserved)
        if available == nil, let onHand, let reserved {
            guard reserved <= onHand else {
                throw Problem(field: columns.reserved ?? "reserved", reason: "reserved \(reserved) is more than on hand \(onHand)")
            }
            available = onHand - reserved
            derived = .available
        } else if onHand == nil, let available, let reserved {
            onHand = available + reserved
            derived = .onHand
        }
        guard onHand != nil || available != nil else {
            throw Problem(field: columns.onHand ?? columns.available ?? "on_hand", reason: "no quantity")
        }
    }

    init(onHand: Int64?, available: Int64?, reserved: Int64?, derived: Derivation? = nil) {
        self.onHand = onHand
        self.available = available
        self.reserved = reserved
        self.derived = derived
    }

    /// A whole number of units: digits, optionally followed by `.0`; blank counts as absent.
    static func quantity(_ field: UnsafeRawBufferPointer?, column: String?) throws(Problem) -> Int64? {
        guard let column, let field else { return nil }
        var start = field.startIndex
        var end = field.endIndex
        while start < end, isSpace(field[start]) { start += 1 }
        while end > start, isSpace(field[end - 1]) { end -= 1 }
        if start == end { return nil }
        var digitsEnd = start
        while digitsEnd < end, (0x30...0x39).contains(field[digitsEnd]) { digitsEnd += 1 }
        var fractionIsZero = digitsEnd == end
        if !fractionIsZero, field[digitsEnd] == UInt8(ascii: "."), digitsEnd + 1 < end {
            fractionIsZero = field[(digitsEnd + 1)..<end].allSatisfy { $0 == UInt8(ascii: "0") }
        }
        let text = { String(decoding: field[start..<end], as: UTF8.self) }
        guard digitsEnd > start, fractionIsZero, digitsEnd - start <= 13 else {
            if field[start] == UInt8(ascii: "-"), end - start > 1, field[(start + 1)..<end].allSatisfy({ (0x30...0x39).contains($0) }) {
                throw Problem(field: column, reason: "negative quantity '\(text())'")
            }
            throw Problem(field: column, reason: "not a whole number of units: '\(text().prefix(40))'")
        }
        guard let value = Int64(decimal: UnsafeRawBufferPointer(rebasing: field[start..<digitsEnd])), value <= largestQuantity else { throw Problem(field: column, reason: "not a whole number of units: '\(text().prefix(40))'") }
        return value
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
}

extension RecordBuffer {
    /// Appends a whole number's decimal digits to the field being built.
    static func appendDecimal(_ value: Int64, to record: RecordBuffer) {
        if value < 0 { record.appendByte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            record.appendByte(UInt8(magnitude / divisor) + 0x30)
            magnitude %= divisor
            divisor /= 10
        } while divisor > 0
    }
}
