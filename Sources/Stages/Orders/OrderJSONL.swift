import Foundation
import Pipelines

/// The pipeline's own orders format: one JSON object per line (documented in docs/orders.md). Amounts
/// are decimal text or JSON numbers in the order's currency, read digit by digit.
final class OrderJSONLReader: OrderReader {
    private let reader: LineReader
    private let reading: OrderReading

    init(path: String, reading: OrderReading) throws {
        reader = try LineReader(path: path, maximumBytes: 4 << 20)
        self.reading = reading
    }

    var position: ReaderPosition { reader.position }

    func resume(at position: ReaderPosition) throws { try reader.resume(at: position) }

    func close() { reader.close() }

    func next() throws -> ReadOrder? {
        while let bytes = try reader.next() {
            let line = reader.lineNumber
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let record = String(decoding: bytes, as: UTF8.self)
            func rejected(_ reason: String) -> ReadOrder {
                ReadOrder(line: line, error: RowError(line: line, column: 1, reason: reason), records: [record])
            }
            guard bytes.withUnsafeBytes(UTF8Validation.isValid) else { return rejected("the line is not valid UTF-8") }
            let object: JSONValue
            do { object = try JSONValue.parse(utf8: bytes) } catch { return rejected("not JSON: \(error)") }
            guard case .object = object else { return rejected("expected a JSON object") }
            do {
                return checked(try order(object), line: line, column: 1, records: [record], tolerance: reading.tolerance)
            } catch {
                return rejected(error.reason)
            }
        }
        return nil
    }

    private func order(_ object: JSONValue) throws(OrderField.Problem) -> Order {
        let currency = try OrderField.currency(Self.text(object["currency"]), default: reading.currency)
        let zone = reading.zone
        func money(_ value: JSONValue?, _ field: String) throws(OrderField.Problem) -> Int64 {
            try OrderField.money(Self.text(value), currency, field: field)
        }
        func instant(_ value: JSONValue?, _ field: String) throws(OrderField.Problem) -> Instant? {
            try OrderField.optionalInstant(Self.text(value), zone: zone, field: field)
        }
        func taxes(_ value: JSONValue?, field: String, line: Int?) throws(OrderField.Problem) -> [OrderTax] {
            var taxes: [OrderTax] = []
            for (index, tax) in (value?.items ?? []).enumerated() {
                let place = "\(field)[\(index)]"
                let name = try OrderField.text(Self.text(tax["name"]), field: "\(place).name", required: true)
                let rate = Self.text(tax["rate"])
                taxes.append(
                    OrderTax(name: name, rate: rate.isEmpty ? OrderField.rate(inName: name) : rate, amount: try money(tax["amount"], "\(place).amount"), line: line))
            }
            return taxes
        }
        let code = try OrderField.text(Self.text(object["code"]), field: "code", required: true)
        guard let placedAt = try instant(object["placed_at"], "placed_at") else { throw .init(reason: "placed_at is missing") }
        var lines: [OrderLine] = []
        var allTaxes: [OrderTax] = []
        let lineItems = object["lines"]?.items ?? []
        guard lineItems.count <= OrderLimits.lines else { throw .init(reason: "more than \(OrderLimits.lines) lines") }
        for (index, item) in lineItems.enumerated() {
            let place = "lines[\(index)]"
            let quantity = try OrderField.quantity(Self.text(item["quantity"]), field: "\(place).quantity")
            let price = try money(item["unit_price"], "\(place).unit_price")
            guard price <= OrderLimits.amount / quantity else { throw .init(reason: "\(place): quantity × unit_price is too large") }
            lines.append(
                OrderLine(
                    sku: try OrderField.text(Self.text(item["sku"]), field: "\(place).sku"),
                    name: try OrderField.text(Self.text(item["name"]), field: "\(place).name"), quantity: quantity, unitPrice: price,
                    discount: try money(item["discount"], "\(place).discount")))
            allTaxes += try taxes(item["taxes"], field: "\(place).taxes", line: index + 1)
        }
        allTaxes += try taxes(object["taxes"], field: "taxes", line: nil)
        var discounts: [OrderDiscount] = []
        for (index, discount) in (object["discounts"]?.items ?? []).enumerated() {
            discounts.append(
                OrderDiscount(
                    code: try OrderField.text(Self.text(discount["code"]), field: "discounts[\(index)].code"),
                    amount: try money(discount["amount"], "discounts[\(index)].amount")))
        }
        var refunds: [OrderRefund] = []
        for (index, refund) in (object["refunds"]?.items ?? []).enumerated() {
            let place = "refunds[\(index)]"
            guard let at = try instant(refund["at"], "\(place).at") else { throw .init(reason: "\(place).at is missing") }
            let key = try OrderField.text(Self.text(refund["id"]), field: "\(place).id")
            refunds.append(
                OrderRefund(
                    key: key.isEmpty ? "\(index + 1)" : key, at: at, amount: try money(refund["amount"], "\(place).amount"),
                    shipping: try money(refund["shipping"], "\(place).shipping"), tax: try money(refund["tax"], "\(place).tax"),
                    reason: try OrderField.text(Self.text(refund["reason"]), field: "\(place).reason")))
            if refunds[index].shipping + refunds[index].tax > refunds[index].amount {
                throw .init(reason: "\(place): shipping + tax is more than the amount")
            }
            let items = refund["lines"]?.items ?? []
            for (lineIndex, item) in items.enumerated() {
                let linePlace = "\(place).lines[\(lineIndex)]"
                let position = Int(Self.text(item["line"])) ?? 0
                guard position >= 1, position <= lines.count else {
                    throw .init(reason: "\(linePlace).line '\(Self.text(item["line"]))' is not a line of the order (1 to \(lines.count))")
                }
                let quantity = try OrderField.quantity(Self.text(item["quantity"]), field: "\(linePlace).quantity")
                guard quantity <= lines[position - 1].quantity else {
                    throw .init(reason: "\(linePlace): \(quantity) returned of line \(position), which has \(lines[position - 1].quantity)")
                }
                refunds[index].lines.append(RefundLine(line: position, quantity: quantity, amount: try money(item["amount"], "\(linePlace).amount")))
            }
            let goods = refunds[index].amount - refunds[index].shipping - refunds[index].tax
            let listed = refunds[index].lines.reduce(0) { $0 + $1.amount }
            if !items.isEmpty, listed != goods {
                let text = { (units: Int64) in Money(minorUnits: units, currency: currency).decimalText }
                throw .init(reason: "\(place): its lines come to \(text(listed)), its goods (amount − shipping − tax) to \(text(goods))")
            }
        }
        if Set(refunds.map(\.key)).count != refunds.count { throw .init(reason: "two refunds share an id") }
        let cancelledAt = try instant(object["cancelled_at"], "cancelled_at")
        let status = try OrderField.text(Self.text(object["financial_status"]), field: "financial_status").lowercased()
        let taxesIncluded: Bool
        switch object["taxes_included"] {
        case nil, .null?, .bool(false)?: taxesIncluded = false
        case .bool(true)?: taxesIncluded = true
        default: throw .init(reason: "taxes_included must be true or false")
        }
        return Order(
            code: code, currency: currency, placedAt: placedAt, paidAt: try instant(object["paid_at"], "paid_at"), cancelledAt: cancelledAt,
            state: cancelledAt != nil || status == "voided" ? .cancelled : .open, financialStatus: status.isEmpty ? "paid" : status,
            customer: try OrderField.text(Self.text(object["customer"]), field: "customer"),
            email: try OrderField.text(Self.text(object["email"]), field: "email"), taxesIncluded: taxesIncluded, lines: lines,
            shipping: try money(object["shipping"], "shipping"), taxes: allTaxes, discounts: discounts, total: try money(object["total"], "total"),
            gateway: try OrderField.text(Self.text(object["payment"]?["gateway"]), field: "payment.gateway"),
            paymentReference: try OrderField.text(Self.text(object["payment"]?["reference"]), field: "payment.reference"),
            refunds: refunds)
    }

    /// A member's text: a string as it is, a number as written, absent or null as empty.
    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: text
        case .number(let text)?: text
        case .bool(let flag)?: flag ? "true" : "false"
        default: ""
        }
    }
}
