import Foundation
import Pipelines

/// Shopify's orders export: one row per line item, the order's own fields on its first row, `Name` (the
/// order code) on every row. Columns are found by name, so older and newer exports both read.
///
/// Shopify states no refund date and no split of a refund into goods, shipping and tax: `Refunded Amount`
/// becomes one refund of goods keyed `refunded`, dated when an import first sees it (a later import that
/// sees it grow updates it, and an export already made gets an adjustment in the period of that change).
/// Whether prices include taxes is read from the figures: the total either adds the taxes or does not.
final class ShopifyOrderReader: OrderReader {
    private let reader: CSVReader
    private let columns: Columns
    private let reading: OrderReading
    /// When this import runs: the date of refunds Shopify states without one.
    private let seenAt: Instant
    private let record = RecordBuffer()
    /// The first row of the next order, read ahead while ending the previous one.
    private var pending: (status: RecordStatus, fields: [String], text: String, start: ReaderPosition)?
    private var nextStart: ReaderPosition

    static let required = ["Name", "Created at", "Lineitem quantity", "Lineitem price", "Total"]

    struct Columns {
        var index: [String: Int]
        var taxes: [(name: Int, value: Int)]

        func field(_ name: String, in fields: [String]) -> String {
            guard let column = index[name], column < fields.count else { return "" }
            return fields[column]
        }

        /// 1-based, for messages; 1 when the column is absent.
        func column(_ name: String) -> Int { (index[name] ?? 0) + 1 }
    }

    init(path: String, reading: OrderReading, seenAt: Instant) throws {
        reader = try CSVReader(path: path)
        do {
            let header = try reader.readHeader()
            var index: [String: Int] = [:]
            for (position, name) in header.enumerated() { index[name.trimmingCharacters(in: .whitespaces)] = position }
            if index["Fulfilled at"] == nil, let old = index["Fulfillment Date"] { index["Fulfilled at"] = old }
            let missing = Self.required.filter { index[$0] == nil }
            guard missing.isEmpty else {
                throw PipelineError(
                    .data,
                    "\(path): not a Shopify orders export: column\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0)'" }.joined(separator: ", ")) missing",
                    location: SourceLocation(file: path, line: 1, column: 1))
            }
            let taxes = (1...5).compactMap { number -> (Int, Int)? in
                guard let name = index["Tax \(number) Name"], let value = index["Tax \(number) Value"] else { return nil }
                return (name, value)
            }
            columns = Columns(index: index, taxes: taxes)
        } catch {
            reader.input.close()
            throw error
        }
        self.reading = reading
        self.seenAt = seenAt
        nextStart = reader.position
    }

    var position: ReaderPosition { nextStart }

    func resume(at position: ReaderPosition) throws {
        try reader.resume(at: position)
        pending = nil
        nextStart = position
    }

    func close() { reader.input.close() }

    private func readRow() throws -> (status: RecordStatus, fields: [String], text: String, start: ReaderPosition)? {
        let start = reader.position
        guard let status = try reader.next(into: record) else { return nil }
        let fields = (0..<record.count).map { record.string($0) ?? "" }
        return (status, fields, reader.lastRecordText(), start)
    }

    func next() throws -> ReadOrder? {
        guard let first = try pending ?? readRow() else { return nil }
        pending = nil
        var rows = [first]
        let code = columns.field("Name", in: first.fields)
        while let row = try readRow() {
            if row.status.error == nil, columns.field("Name", in: row.fields) == code, !code.isEmpty, rows.count < OrderLimits.lines {
                rows.append(row)
            } else {
                pending = row
                break
            }
        }
        nextStart = pending?.start ?? reader.position
        let records = rows.map(\.text)
        if let error = rows.compactMap(\.status.error).first { return ReadOrder(line: first.status.line, error: error, records: records) }
        do {
            let order = try order(from: rows.map { ($0.status.line, $0.fields) })
            return checked(order, line: first.status.line, column: columns.column("Total"), records: records, tolerance: reading.tolerance)
        } catch let failure as Failure {
            return ReadOrder(line: first.status.line, error: RowError(line: failure.line, column: failure.column, reason: failure.reason), records: records)
        }
    }

    private struct Failure: Error {
        var line: Int
        var column: Int
        var reason: String
    }

    private func order(from rows: [(line: Int, fields: [String])]) throws -> Order {
        let (firstLine, head) = rows[0]
        func value<T>(_ name: String, line: Int = firstLine, _ parse: (String) throws(OrderField.Problem) -> T) throws -> T {
            let fields = rows.first { $0.line == line }?.fields ?? head
            do { return try parse(columns.field(name, in: fields)) } catch {
                throw Failure(line: line, column: columns.column(name), reason: "'\(name)': \(error.reason)")
            }
        }
        let code = try value("Name") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the order code", required: true) }
        let currency = try value("Currency") { text throws(OrderField.Problem) in try OrderField.currency(text, default: reading.currency) }
        let zone = reading.zone
        let money = { (name: String, line: Int) throws -> Int64 in
            try value(name, line: line) { text throws(OrderField.Problem) in try OrderField.money(text, currency, field: "the amount") }
        }
        var lines: [OrderLine] = []
        for (line, _) in rows {
            let quantity = try value("Lineitem quantity", line: line) { text throws(OrderField.Problem) in try OrderField.quantity(text, field: "the quantity") }
            let price = try money("Lineitem price", line)
            guard price <= OrderLimits.amount / quantity else {
                throw Failure(line: line, column: columns.column("Lineitem price"), reason: "quantity × price is too large")
            }
            lines.append(
                OrderLine(
                    sku: try value("Lineitem sku", line: line) { text throws(OrderField.Problem) in try OrderField.text(text, field: "the SKU") },
                    name: try value("Lineitem name", line: line) { text throws(OrderField.Problem) in try OrderField.text(text, field: "the name") },
                    quantity: quantity, unitPrice: price, discount: try money("Lineitem discount", line)))
        }
        var taxes: [OrderTax] = []
        for (nameColumn, valueColumn) in columns.taxes {
            let name = nameColumn < head.count ? head[nameColumn].trimmingCharacters(in: .whitespaces) : ""
            guard !name.isEmpty else { continue }
            let text = valueColumn < head.count ? head[valueColumn] : ""
            let amount: Int64
            do { amount = try OrderField.money(text, currency, field: "the tax") } catch {
                throw Failure(line: firstLine, column: valueColumn + 1, reason: error.reason)
            }
            taxes.append(OrderTax(name: name, rate: OrderField.rate(inName: name), amount: amount, line: nil))
        }
        let statedTax = try money("Taxes", firstLine)
        if taxes.isEmpty && statedTax != 0 { taxes.append(OrderTax(name: "Tax", rate: "", amount: statedTax, line: nil)) }
        let lineDiscounts = lines.reduce(0) { $0 + $1.discount }
        let discountAmount = try money("Discount Amount", firstLine)
        let orderDiscount = max(0, discountAmount - lineDiscounts)
        let discountCode = try value("Discount Code") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the discount code") }
        let placedAt = try value("Created at") { text throws(OrderField.Problem) in try OrderField.instant(text, zone: zone, field: "the time") }
        let cancelledAt = try value("Cancelled at") { text throws(OrderField.Problem) in try OrderField.optionalInstant(text, zone: zone, field: "the time") }
        let status = try value("Financial Status") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the status") }.lowercased()
        let refunded = try money("Refunded Amount", firstLine)
        let billingName = columns.field("Billing Name", in: head).trimmingCharacters(in: .whitespaces)
        let email = try value("Email") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the e-mail") }
        var order = Order(
            code: code, currency: currency, placedAt: placedAt,
            paidAt: try value("Paid at") { text throws(OrderField.Problem) in try OrderField.optionalInstant(text, zone: zone, field: "the time") },
            cancelledAt: cancelledAt, state: cancelledAt != nil || status == "voided" ? .cancelled : .open,
            financialStatus: status, customer: String((billingName.isEmpty ? email : billingName).prefix(200)), email: email,
            taxesIncluded: false, lines: lines, shipping: try money("Shipping", firstLine), taxes: taxes,
            discounts: orderDiscount > 0 ? [OrderDiscount(code: discountCode, amount: orderDiscount)] : [],
            total: try money("Total", firstLine),
            gateway: try value("Payment Method") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the payment method") },
            paymentReference: try value("Payment Reference") { text throws(OrderField.Problem) in try OrderField.text(text, field: "the payment reference") },
            refunds: [])
        if abs(order.rounding) > reading.tolerance {
            var included = order
            included.taxesIncluded = true
            if abs(included.rounding) <= reading.tolerance { order = included }
        }
        if refunded > 0 {
            order.refunds = [OrderRefund(key: "refunded", at: max(seenAt, placedAt), amount: refunded, shipping: 0, tax: 0, reason: "Refunded Amount in the Shopify export")]
        }
        return order
    }
}
