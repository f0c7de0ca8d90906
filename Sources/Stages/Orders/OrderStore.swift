import Foundation
import Pipelines

/// Orders kept in the store (docs/orders.md): `upsert` writes one order inside the caller's transaction
/// by its code, and writes nothing when the stored order already says the same.
final class OrderStore {
    struct Result: Codable, Equatable {
        var created: Int64 = 0
        var updated: Int64 = 0
        var unchanged: Int64 = 0
        var refunds: Int64 = 0
        var paymentsLinked: Int64 = 0
    }

    let connection: any DatabaseConnection
    /// When the import runs: the time stored as `changed_at` of what it changes.
    let now: Instant

    init(connection: any DatabaseConnection, now: Instant) throws {
        self.connection = connection
        self.now = now
    }

    func upsert(_ order: Order, into result: inout Result) throws {
        let digest = try Self.contentDigest(order)
        var stored: (id: Int64, digest: String)?
        try connection.query("SELECT id, content_sha256 FROM store_orders WHERE code = $1", [.text(order.code)], columns: { _ in }) {
            stored = ($0.int64(0) ?? 0, $0.string(1) ?? "")
        }
        let orderID: Int64
        if let stored, stored.digest == digest {
            orderID = stored.id
            result.unchanged += 1
        } else {
            let values: [SQLValue] =
                [
                    .text(order.code), .text(order.currency.code), .integer(Int64(order.currency.exponent)), .text(order.state.rawValue),
                    .text(order.financialStatus), .text(order.customer), .text(order.email), .text(order.placedAt.iso),
                    order.paidAt.map { .text($0.iso) } ?? .null, order.cancelledAt.map { .text($0.iso) } ?? .null,
                    .integer(order.taxesIncluded ? 1 : 0), .integer(order.linesTotal), .integer(order.discountTotal), .integer(order.shipping),
                    .integer(order.taxTotal), .integer(order.total), .text(order.gateway), .text(order.paymentReference), .text(digest),
                    .text(now.iso),
                ]
            if let stored {
                orderID = stored.id
                _ = try connection.execute(
                    """
                    UPDATE store_orders SET code = $1, currency = $2, currency_exponent = $3, state = $4, financial_status = $5,
                        customer = $6, email = $7, placed_at = $8, paid_at = $9, cancelled_at = $10, taxes_included = $11,
                        lines_minor = $12, discount_minor = $13, shipping_minor = $14, tax_minor = $15, total_minor = $16, gateway = $17,
                        payment_reference = $18, content_sha256 = $19, changed_at = $20, updated_at = $20
                    WHERE id = $21
                    """, values + [.integer(orderID)])
                for table in ["store_order_lines", "store_order_taxes", "store_order_discounts"] {
                    _ = try connection.execute("DELETE FROM \(table) WHERE order_id = $1", [.integer(orderID)])
                }
                result.updated += 1
            } else {
                var id: Int64?
                try connection.query(
                    """
                    INSERT INTO store_orders (code, currency, currency_exponent, state, financial_status, customer, email, placed_at, paid_at,
                        cancelled_at, taxes_included, lines_minor, discount_minor, shipping_minor, tax_minor, total_minor, gateway,
                        payment_reference, content_sha256, changed_at, created_at, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $20)
                    RETURNING id
                    """, values, columns: { _ in }, row: { id = $0.int64(0) })
                guard let id else { throw PipelineError(.internal, "inserting order \(order.code) returned no id") }
                orderID = id
                result.created += 1
            }
            try insertParts(of: order, id: orderID)
        }
        try upsertRefunds(order, id: orderID, into: &result)
        result.paymentsLinked += try connection.execute(
            "UPDATE store_payments SET order_id = $1 WHERE order_id IS NULL AND reference <> '' AND reference IN ($2, $3)",
            [.integer(orderID), .text(order.code), .text(order.paymentReference)])
    }

    private func insertParts(of order: Order, id: Int64) throws {
        for (index, line) in order.lines.enumerated() {
            _ = try connection.execute(
                "INSERT INTO store_order_lines (order_id, position, sku, name, quantity, unit_price_minor, discount_minor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [.integer(id), .integer(Int64(index + 1)), .text(line.sku), .text(line.name), .integer(line.quantity), .integer(line.unitPrice), .integer(line.discount)])
        }
        for (index, tax) in order.taxes.enumerated() {
            _ = try connection.execute(
                "INSERT INTO store_order_taxes (order_id, position, line_position, name, rate, amount_minor) VALUES ($1, $2, $3, $4, $5, $6)",
                [.integer(id), .integer(Int64(index + 1)), tax.line.map { .integer(Int64($0)) } ?? .null, .text(tax.name), .text(tax.rate), .integer(tax.amount)])
        }
        for (index, discount) in order.discounts.enumerated() {
            _ = try connection.execute(
                "INSERT INTO store_order_discounts (order_id, position, code, amount_minor) VALUES ($1, $2, $3, $4)",
                [.integer(id), .integer(Int64(index + 1)), .text(discount.code), .integer(discount.amount)])
        }
    }

    /// A refund is added once; a refund whose figures changed is updated (its date stays, `changed_at`
    /// moves), so an export already made gets an adjustment rather than a rewrite.
    private func upsertRefunds(_ order: Order, id: Int64, into result: inout Result) throws {
        for refund in order.refunds {
            var stored: [Int64]?
            try connection.query(
                "SELECT id, amount_minor, shipping_minor, tax_minor FROM store_refunds WHERE order_id = $1 AND refund_key = $2",
                [.integer(id), .text(refund.key)], columns: { _ in }
            ) { row in stored = (0..<4).map { row.int64($0) ?? 0 } }
            if let stored {
                let storedLines = try lines(ofRefund: stored[0])
                guard stored[1...] != [refund.amount, refund.shipping, refund.tax][...] || storedLines != refund.lines else { continue }
                if stored[1...] != [refund.amount, refund.shipping, refund.tax][...] {
                    _ = try connection.execute(
                        "UPDATE store_refunds SET amount_minor = $1, shipping_minor = $2, tax_minor = $3, reason = $4, changed_at = $5 WHERE id = $6",
                        [.integer(refund.amount), .integer(refund.shipping), .integer(refund.tax), .text(refund.reason), .text(now.iso), .integer(stored[0])])
                }
                if storedLines != refund.lines { try replaceLines(ofRefund: stored[0], with: refund.lines) }
            } else {
                var refundID: Int64?
                try connection.query(
                    """
                    INSERT INTO store_refunds (order_id, refund_key, refunded_at, amount_minor, shipping_minor, tax_minor, reason, changed_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
                    """,
                    [.integer(id), .text(refund.key), .text(refund.at.iso), .integer(refund.amount), .integer(refund.shipping), .integer(refund.tax),
                     .text(refund.reason), .text(now.iso)], columns: { _ in }, row: { refundID = $0.int64(0) })
                guard let refundID else { throw PipelineError(.internal, "inserting refund \(refund.key) of order \(order.code) returned no id") }
                try replaceLines(ofRefund: refundID, with: refund.lines)
            }
            result.refunds += 1
        }
    }

    private func lines(ofRefund id: Int64) throws -> [RefundLine] {
        var lines: [RefundLine] = []
        try connection.query(
            "SELECT line_position, quantity, amount_minor FROM store_refund_lines WHERE refund_id = $1 ORDER BY position", [.integer(id)],
            columns: { _ in }
        ) { row in lines.append(RefundLine(line: Int(row.int64(0) ?? 0), quantity: row.int64(1) ?? 0, amount: row.int64(2) ?? 0)) }
        return lines
    }

    private func replaceLines(ofRefund id: Int64, with lines: [RefundLine]) throws {
        _ = try connection.execute("DELETE FROM store_refund_lines WHERE refund_id = $1", [.integer(id)])
        for (index, line) in lines.enumerated() {
            _ = try connection.execute(
                "INSERT INTO store_refund_lines (refund_id, position, line_position, quantity, amount_minor) VALUES ($1, $2, $3, $4, $5)",
                [.integer(id), .integer(Int64(index + 1)), .integer(Int64(line.line)), .integer(line.quantity), .integer(line.amount)])
        }
    }

    /// The SHA-256 of everything the order states except its refunds (kept apart, each with its own date).
    static func contentDigest(_ order: Order) throws -> String {
        var fields: [String] = [
            order.code, order.currency.code, order.state.rawValue, order.financialStatus, order.customer, order.email, order.placedAt.iso,
            order.paidAt?.iso ?? "", order.cancelledAt?.iso ?? "", order.taxesIncluded ? "1" : "0", String(order.shipping), String(order.total),
            order.gateway, order.paymentReference,
        ]
        for line in order.lines { fields += ["L", line.sku, line.name, String(line.quantity), String(line.unitPrice), String(line.discount)] }
        for tax in order.taxes { fields += ["T", tax.name, tax.rate, String(tax.amount), tax.line.map(String.init) ?? ""] }
        for discount in order.discounts { fields += ["D", discount.code, String(discount.amount)] }
        return try SHA256.hex(of: fields.map { $0.replacingOccurrences(of: "\u{1F}", with: " ") }.joined(separator: "\u{1F}"))
    }
}
