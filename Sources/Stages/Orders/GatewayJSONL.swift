import Foundation
import Pipelines

/// The pipeline's own payments format, one JSON object per line (docs/orders.md):
/// `{"type": "payment", "gateway", "id", "kind", "reference", "method", "currency", "amount", "fee", "state", "at", "email", "payout"}`
/// and `{"type": "payout", "gateway", "id", "at", "currency", "gross", "fees", "net", "state"}`.
/// Amounts are decimal text (or JSON numbers) in the currency, signed where money leaves the balance.
final class GatewayJSONLReader: GatewayRecordReader {
    private let reader: LineReader

    init(path: String) throws { reader = try LineReader(path: path, maximumBytes: 1 << 20) }

    func close() { reader.close() }

    func next() throws -> GatewayRead? {
        while let bytes = try reader.next() {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let place = "line \(reader.lineNumber)"
            let text = String(decoding: bytes, as: UTF8.self)
            guard bytes.withUnsafeBytes(UTF8Validation.isValid), let object = try? JSONValue.parse(utf8: bytes), case .object = object else {
                return GatewayRead(line: reader.lineNumber, place: place, record: .failure(.init(reason: "not a JSON object in UTF-8", record: text)))
            }
            do { return GatewayRead(line: reader.lineNumber, place: place, record: .success(try record(object))) } catch {
                return GatewayRead(line: reader.lineNumber, place: place, record: .failure(.init(reason: error.reason, record: text)))
            }
        }
        return nil
    }

    private func record(_ object: JSONValue) throws(OrderField.Problem) -> GatewayRecord {
        let text = { (name: String) in OrderJSONLReader.text(object[name]) }
        let currency = try OrderField.currency(text("currency"), default: nil)
        let money = { (name: String) throws(OrderField.Problem) -> Int64 in try OrderField.money(text(name), currency, field: name, allowNegative: true) }
        let gateway = try GatewayField.required(text("gateway"), field: "gateway")
        let id = try GatewayField.required(text("id"), field: "id")
        guard let at = Instant.parse(text("at"), zone: .gmt) else { throw .init(reason: "at '\(text("at"))' is not a date and time") }
        switch text("type") {
        case "payment":
            let kindText = text("kind")
            guard let kind = kindText.isEmpty ? .payment : GatewayPayment.Kind(rawValue: kindText) else {
                throw .init(reason: "kind '\(kindText)' is not payment, refund, fee or adjustment")
            }
            return .payment(
                GatewayPayment(
                    gateway: gateway, externalID: id, kind: kind, reference: try OrderField.text(text("reference"), field: "reference"),
                    method: try OrderField.text(text("method"), field: "method"), currency: currency, amount: try money("amount"), fee: try money("fee"),
                    state: text("state").isEmpty ? "succeeded" : text("state"), at: at, email: try OrderField.text(text("email"), field: "email"),
                    payoutID: try OrderField.text(text("payout"), field: "payout")))
        case "payout":
            let payout = GatewayPayout(
                gateway: gateway, externalID: id, at: at, currency: currency, gross: try money("gross"), fees: try money("fees"), net: try money("net"),
                state: text("state").isEmpty ? "paid" : text("state"))
            guard payout.gross - payout.fees == payout.net else { throw .init(reason: "gross − fees is not net") }
            return .payout(payout)
        default: throw .init(reason: "type '\(text("type"))' is not payment or payout")
        }
    }
}
