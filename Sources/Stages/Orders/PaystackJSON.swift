import Foundation
import Pipelines

/// Paystack's API responses as saved, one per line (JSON Lines) or one document: `{status, message,
/// data: [...], meta}`. Items with `settlement_date` are settlements (payouts); the others transactions.
/// Paystack's transaction objects do not name their settlement, so a page fetched from
/// `/settlement/:id/transactions` is saved with `"settlement": ID` beside `status` (docs/orders.md).
/// Amounts and fees are integers in the currency's subunit.
final class PaystackReader: GatewayRecordReader {
    private let reader: LineReader
    private var pending: [GatewayRead] = []
    private var pageNumber = 0
    /// A document spread over several lines is read whole, up to this size.
    static let maximumDocumentBytes = 64 << 20

    init(path: String) throws {
        reader = try LineReader(path: path, maximumBytes: Self.maximumDocumentBytes)
    }

    func close() { reader.close() }

    /// Whether the file is JSON Lines (decided by its first line: a whole response) or one document.
    private var isLines: Bool?

    func next() throws -> GatewayRead? {
        while pending.isEmpty {
            guard var bytes = try reader.next() else { return nil }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let line = reader.lineNumber
            let parsed = try? JSONValue.parse(utf8: bytes)
            if isLines == nil { isLines = parsed != nil }
            let document: JSONValue
            if let parsed {
                document = parsed
            } else if isLines == true {
                // One broken response is rejected; the lines after it are read on.
                pending.append(GatewayRead(line: line, place: "line \(line)", record: .failure(.init(reason: "not a JSON response", record: String(decoding: bytes.prefix(2_000), as: UTF8.self)))))
                continue
            } else {
                // A pretty-printed document: the rest of the file belongs to it.
                while let more = try reader.next() {
                    bytes += [0x0A] + more
                    guard bytes.count <= Self.maximumDocumentBytes else {
                        throw PipelineError(.data, "\(reader.path): the JSON document is larger than \(Self.maximumDocumentBytes) bytes")
                    }
                }
                do { document = try JSONValue.parse(utf8: bytes) } catch {
                    throw PipelineError(.data, "not a Paystack response: \(error)", location: SourceLocation(file: reader.path, line: line, column: 1))
                }
            }
            for page in document.items ?? [document] { read(page, line: line) }
        }
        return pending.removeFirst()
    }

    private func read(_ page: JSONValue, line: Int) {
        pageNumber += 1
        guard let items = page["data"]?.items else {
            pending.append(GatewayRead(line: line, place: "line \(line), page \(pageNumber)", record: .failure(.init(reason: "a response without a data list", record: ""))))
            return
        }
        let settlement = OrderJSONLReader.text(page["settlement"])
        for (index, item) in items.enumerated() {
            let place = "line \(line), page \(pageNumber), record \(index + 1)"
            do {
                pending.append(GatewayRead(line: line, place: place, record: .success(item["settlement_date"] != nil ? .payout(try payout(item)) : .payment(try payment(item, settlement: settlement)))))
            } catch {
                pending.append(GatewayRead(line: line, place: place, record: .failure(.init(reason: error.reason, record: item.serialized))))
            }
        }
    }

    /// Absent or null counts as 0.
    private static func orZero(_ value: JSONValue?) -> JSONValue {
        switch value {
        case nil, .null?: .number("0")
        case let value?: value
        }
    }

    private func currency(_ item: JSONValue) throws(OrderField.Problem) -> CurrencyCode {
        try OrderField.currency(OrderJSONLReader.text(item["currency"]), default: nil)
    }

    private func time(_ item: JSONValue, _ names: [String]) throws(OrderField.Problem) -> Instant {
        for name in names {
            let text = OrderJSONLReader.text(item[name])
            if !text.isEmpty { return try OrderField.instant(text, zone: .gmt, field: name) }
        }
        throw OrderField.Problem(reason: "no \(names[0])")
    }

    private func payment(_ item: JSONValue, settlement: String) throws(OrderField.Problem) -> GatewayPayment {
        let status = OrderJSONLReader.text(item["status"])
        return GatewayPayment(
            gateway: "paystack", externalID: try GatewayField.required(OrderJSONLReader.text(item["id"]), field: "id"), kind: .payment,
            reference: try OrderField.text(OrderJSONLReader.text(item["reference"]), field: "reference"),
            method: OrderJSONLReader.text(item["channel"]), currency: try currency(item),
            amount: try GatewayField.minorUnits(item["amount"], field: "amount"), fee: try GatewayField.minorUnits(Self.orZero(item["fees"]), field: "fees"),
            state: status == "success" ? "succeeded" : status.isEmpty ? "pending" : status,
            at: try time(item, ["paid_at", "paidAt", "created_at", "createdAt"]),
            email: try OrderField.text(OrderJSONLReader.text(item["customer"]?["email"]), field: "customer.email"), payoutID: settlement)
    }

    private func payout(_ item: JSONValue) throws(OrderField.Problem) -> GatewayPayout {
        let fees = try GatewayField.minorUnits(Self.orZero(item["total_fees"]), field: "total_fees")
        let net = try GatewayField.minorUnits(item["effective_amount"] ?? item["total_amount"], field: "effective_amount")
        let gross = try item["total_processed"].map { value throws(OrderField.Problem) in try GatewayField.minorUnits(value, field: "total_processed") }
        if let gross, gross - fees != net {
            throw OrderField.Problem(
                reason: "total_processed \(gross) − total_fees \(fees) is not effective_amount \(net) (deductions: \(item["deductions"]?.serialized ?? "null")): book it by hand")
        }
        let status = OrderJSONLReader.text(item["status"])
        return GatewayPayout(
            gateway: "paystack", externalID: try GatewayField.required(OrderJSONLReader.text(item["id"]), field: "id"),
            at: try time(item, ["settlement_date"]), currency: try currency(item), gross: gross ?? net + fees, fees: fees, net: net,
            state: status == "success" ? "paid" : status)
    }
}
