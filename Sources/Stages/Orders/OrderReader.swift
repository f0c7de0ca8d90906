import Foundation
import Pipelines

/// What an orders file gives: an order, or the reason the order starting at `line` is rejected (with its
/// rows as they were in the file, for the rejects list).
struct ReadOrder {
    var line: Int
    var order: Order?
    var error: RowError?
    var records: [String]
}

/// The settings every order format reads with: the currency of orders that do not name one, the zone of
/// times written without an offset, and how far a total may be from the sum of its parts.
struct OrderReading: Sendable {
    var currency: CurrencyCode?
    var zone: TimeZone
    var tolerance: Int64
}

/// An orders file read order by order, resumable at the start of any order.
protocol OrderReader: AnyObject {
    /// Where the next order starts.
    var position: ReaderPosition { get }
    func resume(at position: ReaderPosition) throws
    func next() throws -> ReadOrder?
    func close()
}

extension OrderReader {
    /// The order's own check: its figures hold together within the tolerance.
    func checked(_ order: Order, line: Int, column: Int, records: [String], tolerance: Int64) -> ReadOrder {
        if let problem = order.inconsistency(tolerance: tolerance) {
            return ReadOrder(line: line, error: RowError(line: line, column: column, reason: "order \(order.code): \(problem)"), records: records)
        }
        return ReadOrder(line: line, order: order, records: records)
    }
}

/// A field's text turned into an order's value, or the reason it cannot be: the caller adds the place.
enum OrderField {
    struct Problem: Error { var reason: String }

    static func money(_ text: String, _ currency: CurrencyCode, field: String, allowNegative: Bool = false) throws(Problem) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return 0 }
        let negative = trimmed.hasPrefix("-")
        if negative && !allowNegative { throw Problem(reason: "\(field) '\(text)' is negative") }
        let money: Money
        do { money = try Money.parse(negative ? trimmed.dropFirst() : Substring(trimmed), currency: currency) } catch {
            throw Problem(reason: "\(field): \(error)")
        }
        guard money.minorUnits <= OrderLimits.amount else { throw Problem(reason: "\(field) '\(text)' is too large") }
        return negative ? -money.minorUnits : money.minorUnits
    }

    static func quantity(_ text: String, field: String) throws(Problem) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = Int64(trimmed), value > 0, value <= OrderLimits.quantity else {
            throw Problem(reason: "\(field) '\(text)' is not a whole number from 1 to \(OrderLimits.quantity)")
        }
        return value
    }

    static func instant(_ text: String, zone: TimeZone, field: String) throws(Problem) -> Instant {
        guard let instant = Instant.parse(text.trimmingCharacters(in: .whitespaces), zone: zone) else {
            throw Problem(reason: "\(field) '\(text)' is not a date and time such as 2024-01-15 10:32:11 -0500 or 2024-01-15T15:32:11Z")
        }
        return instant
    }

    static func optionalInstant(_ text: String, zone: TimeZone, field: String) throws(Problem) -> Instant? {
        text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try instant(text, zone: zone, field: field)
    }

    static func currency(_ text: String, default fallback: CurrencyCode?) throws(Problem) -> CurrencyCode {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            guard let fallback else { throw Problem(reason: "no currency (set the stage's 'currency' for files without one)") }
            return fallback
        }
        guard let currency = CurrencyCode(trimmed), trimmed.count == 3 else {
            throw Problem(reason: "unknown currency '\(trimmed)' (not an ISO 4217 code)")
        }
        return currency
    }

    static func text(_ text: String, field: String, required: Bool = false) throws(Problem) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if required && trimmed.isEmpty { throw Problem(reason: "\(field) is empty") }
        guard trimmed.utf8.count <= OrderLimits.text else { throw Problem(reason: "\(field) is longer than \(OrderLimits.text) bytes") }
        guard !trimmed.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw Problem(reason: "\(field) holds a control character") }
        return trimmed
    }

    /// A tax's rate from its name as shops write it: `VAT 16%` → `16`; empty when the name has none.
    static func rate(inName name: String) -> String {
        guard let percent = name.lastIndex(of: "%") else { return "" }
        let digits = name[..<percent].reversed().prefix { $0.isASCIIDigit || $0 == "." }
        return String(digits.reversed())
    }
}
