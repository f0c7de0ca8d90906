import Pipelines

/// The tie-out's source side, computed apart from the journals: SQL sums over the orders, order taxes,
/// refunds, payments and payouts an export booked (joined to its ledger rows), put on their accounts by
/// the same account map. Adjustments (revisions ≥ 1) have no row of their own to sum, so they count as
/// booked. A journal total that differs from these is a bug, and the export fails before it commits.
struct SourceTotals {
    let connection: any DatabaseConnection
    let accounts: AccountMap

    private func booked(_ kind: SourceKind, _ alias: String) -> String {
        "JOIN store_export_items i ON i.export_id = $1 AND i.source_kind = '\(kind.rawValue)' AND i.source_id = \(alias).id AND i.revision = 0"
    }

    /// Per currency and account, in minor units.
    func totals(export: Int64) throws -> [TieOut.Key: Int64] {
        var sums: [TieOut.Key: Int64] = [:]
        func add(_ currency: String?, _ account: String, _ amount: Int64?) {
            guard let currency, let amount, amount != 0 else { return }
            sums[TieOut.Key(currency: currency, account: account), default: 0] += amount
        }
        let parameters: [SQLValue] = [.integer(export)]
        try connection.query(
            """
            SELECT o.currency, SUM(o.total_minor), SUM(o.discount_minor),
                SUM(o.lines_minor - CASE WHEN o.taxes_included = 1 THEN o.tax_minor ELSE 0 END), SUM(o.shipping_minor),
                SUM(o.total_minor - (o.lines_minor - o.discount_minor + o.shipping_minor + CASE WHEN o.taxes_included = 1 THEN 0 ELSE o.tax_minor END))
            FROM store_orders o \(booked(.order, "o")) GROUP BY o.currency
            """, parameters, columns: { _ in }
        ) { row in
            let currency = row.string(0)
            add(currency, accounts.receivable, row.int64(1))
            add(currency, accounts.discounts, row.int64(2))
            add(currency, accounts.sales, row.int64(3).map { -$0 })
            add(currency, accounts.shipping, row.int64(4).map { -$0 })
            add(currency, accounts.rounding, row.int64(5).map { -$0 })
        }
        try connection.query(
            "SELECT o.currency, t.name, SUM(t.amount_minor) FROM store_orders o \(booked(.order, "o")) JOIN store_order_taxes t ON t.order_id = o.id GROUP BY o.currency, t.name",
            parameters, columns: { _ in }
        ) { row in
            if let account = accounts.tax(named: row.string(1) ?? "") { add(row.string(0), account, row.int64(2).map { -$0 }) }
        }
        try connection.query(
            """
            SELECT o.currency, \(EntrySource.refundTaxName),
                SUM(r.amount_minor), SUM(r.shipping_minor), SUM(r.tax_minor)
            FROM store_refunds r \(booked(.refund, "r")) JOIN store_orders o ON o.id = r.order_id GROUP BY 1, 2
            """, parameters, columns: { _ in }
        ) { row in
            let currency = row.string(0)
            let (amount, shipping, tax) = (row.int64(2) ?? 0, row.int64(3) ?? 0, row.int64(4) ?? 0)
            add(currency, accounts.refunds, amount - shipping - tax)
            add(currency, accounts.shipping, shipping)
            if let account = accounts.tax(named: row.string(1) ?? "") { add(currency, account, tax) }
            add(currency, accounts.receivable, -amount)
        }
        try connection.query(
            "SELECT p.currency, p.gateway, p.kind, SUM(p.amount_minor) FROM store_payments p \(booked(.payment, "p")) GROUP BY p.currency, p.gateway, p.kind",
            parameters, columns: { _ in }
        ) { row in
            guard let clearing = accounts.clearing(for: row.string(1) ?? "") else { return }
            let amount = row.int64(3) ?? 0
            add(row.string(0), clearing, amount)
            add(row.string(0), row.string(2) == "fee" ? accounts.fees : accounts.receivable, -amount)
        }
        try connection.query(
            "SELECT po.currency, po.gateway, SUM(po.net_minor), SUM(po.fees_minor), SUM(po.gross_minor) FROM store_payouts po \(booked(.payout, "po")) GROUP BY po.currency, po.gateway",
            parameters, columns: { _ in }
        ) { row in
            guard let clearing = accounts.clearing(for: row.string(1) ?? "") else { return }
            add(row.string(0), accounts.bank, row.int64(2))
            add(row.string(0), accounts.fees, row.int64(3))
            add(row.string(0), clearing, row.int64(4).map { -$0 })
        }
        return sums
    }
}
