import Foundation
import Pipelines

/// One record of a feed as its columns give it: each value as text, nil when the feed left it out or null.
struct FeedFields {
    var sku: String?
    var onHand: String?
    var available: String?
    var reserved: String?
    var location: String?
}

/// A feed record that passed its checks: whole, non-negative quantities, with available (on hand −
/// reserved) or on hand (available + reserved) derived where the feed gives only the other two.
struct FeedRecord: Equatable {
    var sku: String
    var location: String
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

    init(_ fields: FeedFields, columns: FeedColumns) throws(Problem) {
        let sku = fields.sku?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !sku.isEmpty else { throw Problem(field: columns.sku, reason: "no SKU") }
        self.sku = fields.sku ?? ""
        location = fields.location ?? ""
        onHand = try Self.quantity(fields.onHand, column: columns.onHand)
        available = try Self.quantity(fields.available, column: columns.available)
        reserved = try Self.quantity(fields.reserved, column: columns.reserved)
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

    init(sku: String, location: String, onHand: Int64?, available: Int64?, reserved: Int64?) {
        self.sku = sku
        self.location = location
        self.onHand = onHand
        self.available = available
        self.reserved = reserved
    }

    /// A whole number of units: digits, optionally `.0`; blank counts as absent.
    static func quantity(_ text: String?, column: String?) throws(Problem) -> Int64? {
        guard let column, let raw = text else { return nil }
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return nil }
        var digits = Substring(text)
        if let dot = digits.firstIndex(of: "."), digits[digits.index(after: dot)...].allSatisfy({ $0 == "0" }) {
            digits = digits[..<dot]
        }
        if digits.hasPrefix("-"), digits.count > 1, digits.dropFirst().allSatisfy(\.isASCIIDigit) {
            throw Problem(field: column, reason: "negative quantity '\(raw)'")
        }
        guard !digits.isEmpty, digits.count <= 13, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits),
            value <= largestQuantity
        else {
            throw Problem(field: column, reason: "not a whole number of units: '\(raw.prefix(40))'")
        }
        return value
    }
}
