import Foundation
import Pipelines

/// A gateway transaction: a payment for an order, the refund of one, or a fee or adjustment of the
/// gateway's own. Amounts are signed minor units (money out of the gateway balance is negative); the fee
/// is what the gateway kept.
struct GatewayPayment: Sendable, Equatable {
    enum Kind: String, Sendable { case payment, refund, fee, adjustment }

    var gateway: String
    var externalID: String
    var kind: Kind
    var reference: String
    var method: String
    var currency: CurrencyCode
    var amount: Int64
    var fee: Int64
    /// succeeded, failed, pending, reversed: only succeeded ones are booked.
    var state: String
    var at: Instant
    var email: String
    /// The payout (settlement) that paid it out, by the gateway's id; empty while not paid out.
    var payoutID: String
}

/// Money the gateway sent to the shop's bank: gross collected, fees kept, net paid.
struct GatewayPayout: Sendable, Equatable {
    var gateway: String
    var externalID: String
    var at: Instant
    var currency: CurrencyCode
    var gross: Int64
    var fees: Int64
    var net: Int64
    var state: String
}

enum GatewayRecord {
    case payment(GatewayPayment)
    case payout(GatewayPayout)
}

/// What a gateway file gives, record by record, with the place of each (`line 4`, `page 2, record 7`).
protocol GatewayRecordReader: AnyObject {
    /// The next record, or a rejected one's place and reason; nil at the end.
    func next() throws -> GatewayRead?
    func close()
}

/// One record of a gateway file: `line` is where it is (or starts), `place` says it for messages.
struct GatewayRead {
    var line: Int
    var place: String
    var record: Result<GatewayRecord, GatewayRecordProblem>
}

struct GatewayRecordProblem: Error {
    var reason: String
    var record: String
}

/// Reading a gateway's fields.
enum GatewayField {
    /// A whole number of minor units (Paystack's subunits).
    static func minorUnits(_ value: JSONValue?, field: String) throws(OrderField.Problem) -> Int64 {
        let text = OrderJSONLReader.text(value)
        guard let units = Int64(text), abs(units) <= OrderLimits.amount else {
            throw OrderField.Problem(reason: "\(field) '\(text)' is not a whole number of minor units")
        }
        return units
    }

    static func required(_ text: String, field: String) throws(OrderField.Problem) -> String {
        try OrderField.text(text, field: field, required: true)
    }
}
