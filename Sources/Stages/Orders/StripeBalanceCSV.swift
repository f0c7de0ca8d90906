import Foundation
import Pipelines

/// Stripe's balance transactions export (Dashboard → Balance → Export): `id, Type, Source, Amount, Fee,
/// Net, Currency, Created (UTC), Available On (UTC), Description`, and `Transfer` (the payout) when
/// present. Amounts are decimal major units, negative where money leaves the balance; times are UTC.
/// A `payout` row becomes the payout; its gross and fees are those of the rows it pays out.
/// A column `order_id (metadata)` or `order (metadata)`, when present, is the reference orders match by;
/// otherwise the `Source` (the charge).
final class StripeBalanceReader: GatewayRecordReader {
    private let reader: CSVReader
    private let record = RecordBuffer()
    private var index: [String: Int] = [:]
    private let reference: Int?

    init(path: String) throws {
        let reader = try CSVReader(path: path)
        self.reader = reader
        var index: [String: Int] = [:]
        do {
            for (position, name) in try reader.readHeader().enumerated() { index[name.lowercased().trimmingCharacters(in: .whitespaces)] = position }
            let missing = ["id", "type", "amount", "fee", "currency", "created (utc)"].filter { index[$0] == nil }
            guard missing.isEmpty else {
                throw PipelineError(
                    .data, "not a Stripe balance export: column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) missing",
                    location: SourceLocation(file: path, line: 1, column: 1))
            }
        } catch {
            reader.input.close()
            throw error
        }
        self.index = index
        reference = index["order_id (metadata)"] ?? index["order (metadata)"]
    }

    func close() { reader.input.close() }

    /// Payout rows read before the rows they pay out are completed at the end of the file.
    private var payouts: [String: GatewayPayout] = [:]
    private var payoutOrder: [String] = []
    private var sums: [String: (gross: Int64, fees: Int64)] = [:]

    func next() throws -> GatewayRead? {
        while let status = try reader.next(into: record) {
            let place = "line \(status.line)"
            let text = reader.lastRecordText()
            if let error = status.error { return GatewayRead(line: status.line, place: place, record: .failure(.init(reason: "column \(error.column): \(error.reason)", record: text))) }
            do {
                if let item = try row() { return GatewayRead(line: status.line, place: place, record: .success(item)) }
            } catch {
                return GatewayRead(line: status.line, place: place, record: .failure(.init(reason: error.reason, record: text)))
            }
        }
        guard !payoutOrder.isEmpty else { return nil }
        let id = payoutOrder.removeFirst()
        guard var payout = payouts.removeValue(forKey: id) else { return nil }
        let sum = sums[id] ?? (payout.net, 0)
        payout.gross = sum.gross
        payout.fees = sum.fees
        guard payout.gross - payout.fees == payout.net else {
            return GatewayRead(line: reader.nextLine, place: "payout \(id)", record: .failure(.init(
                reason: "the rows paid out by \(id) net \(Money(minorUnits: payout.gross - payout.fees, currency: payout.currency).decimalText), the payout is \(Money(minorUnits: payout.net, currency: payout.currency).decimalText): the export is missing rows",
                record: "")))
        }
        return GatewayRead(line: reader.nextLine, place: "payout \(id)", record: .success(.payout(payout)))
    }

    private func field(_ name: String) -> String {
        guard let column = index[name], column < record.count else { return "" }
        return (record.string(column) ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// A payment, or nil for a payout row (kept until the end) or a row that moves no shop money.
    private func row() throws(OrderField.Problem) -> GatewayRecord? {
        let currency = try OrderField.currency(field("currency"), default: nil)
        let money = { (name: String) throws(OrderField.Problem) -> Int64 in
            try OrderField.money(self.field(name), currency, field: name, allowNegative: true)
        }
        let id = try GatewayField.required(field("id"), field: "id")
        let at = try OrderField.instant(field("created (utc)"), zone: .gmt, field: "Created (UTC)")
        let amount = try money("amount")
        let fee = try money("fee")
        let type = field("type")
        let payoutID = field("transfer").isEmpty ? field("automatic_payout_id") : field("transfer")
        let kind: GatewayPayment.Kind
        switch type {
        case "charge", "payment": kind = .payment
        case "refund", "payment_refund", "payment_failure_refund", "refund_failure": kind = .refund
        case "stripe_fee", "stripe_fx_fee", "tax_fee", "application_fee": kind = .fee
        case "adjustment": kind = .adjustment
        case "payout":
            let source = field("source").isEmpty ? id : field("source")
            guard payouts[source] == nil else { throw .init(reason: "payout \(source) is listed twice") }
            payouts[source] = GatewayPayout(gateway: "stripe", externalID: source, at: at, currency: currency, gross: 0, fees: 0, net: -amount, state: "paid")
            payoutOrder.append(source)
            return nil
        default: throw .init(reason: "type '\(type)' is not one this import books (charge, payment, refund, fees, adjustment, payout)")
        }
        if !payoutID.isEmpty {
            let sum = sums[payoutID] ?? (0, 0)
            sums[payoutID] = (sum.gross + amount, sum.fees + fee)
        }
        let reference = reference.map { _ in field(index["order_id (metadata)"] != nil ? "order_id (metadata)" : "order (metadata)") } ?? ""
        return .payment(
            GatewayPayment(
                gateway: "stripe", externalID: id, kind: kind, reference: reference.isEmpty ? field("source") : reference, method: type,
                currency: currency, amount: amount, fee: fee, state: "succeeded", at: at, email: "", payoutID: payoutID))
    }
}
