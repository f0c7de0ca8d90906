import Foundation
import Pipelines

/// The entries an export books, read from the store: sales of orders, refunds, gateway payments and
/// payouts not yet in the book's ledger, and adjustments of orders and refunds that changed after they
/// were booked. All arithmetic is in integer minor units.
final class EntrySource {
    /// Which items an export takes.
    struct Scope {
        /// Items dated from `start` (nil: any time before `end`, for `since: last`) to before `end`.
        var start: Instant?
        var end: Instant
        /// `group: payout`: only what the payouts in the window settle, grouped under them.
        var byPayout: Bool
    }

    struct Rejection: Error {
        var reference: String
        var reason: String
    }

    let connection: any DatabaseConnection
    let book: String
    let accounts: AccountMap
    let zone: TimeZone
    let tolerance: Int64
    let currency: CurrencyCode?
    private let days: LocalDays
    private(set) var rejections: [Rejection] = []

    init(connection: any DatabaseConnection, book: String, accounts: AccountMap, zone: TimeZone, tolerance: Int64, currency: CurrencyCode?) {
        self.connection = connection
        self.book = book
        self.accounts = accounts
        self.zone = zone
        self.tolerance = tolerance
        self.currency = currency
        days = LocalDays(zone)
    }

    private var dialect: SQLDialect { connection.dialect }

    /// Whose account a refund's tax goes to: the largest tax of its order `o` (the tie-out sums by the same).
    static let refundTaxName = "(SELECT t.name FROM store_order_taxes t WHERE t.order_id = o.id ORDER BY t.amount_minor DESC, t.position LIMIT 1)"

    /// A time the store holds (as `StoreTime.text` gives it); one that does not read is a store edited by hand.
    static func instant(_ row: any RowView, _ column: Int) throws -> Instant {
        let text = row.string(column) ?? ""
        guard let instant = Instant.parse(text, zone: .gmt) else {
            throw PipelineError(.data, "the store holds a time that is not one: '\(text)'")
        }
        return instant
    }
    private func time(_ column: String) -> String { StoreTime.text(column, dialect) }

    /// `NOT EXISTS` in the book's ledger for `alias.id` of `kind`.
    private func notBooked(_ kind: SourceKind, _ alias: String) -> String {
        "NOT EXISTS (SELECT 1 FROM store_export_items i WHERE i.book = $1 AND i.source_kind = '\(kind.rawValue)' AND i.source_id = \(alias).id)"
    }

    /// The window condition on `column`, with its parameters appended to `parameters`.
    private func window(_ column: String, _ scope: Scope, _ parameters: inout [SQLValue]) -> String {
        parameters.append(.text(scope.end.iso))
        var condition = "\(column) < $\(parameters.count)"
        if let start = scope.start {
            parameters.append(.text(start.iso))
            condition += " AND \(column) >= $\(parameters.count)"
        }
        return condition
    }

    private func currencyCondition(_ column: String, _ parameters: inout [SQLValue]) -> String {
        guard let currency else { return "" }
        parameters.append(.text(currency.code))
        return " AND \(column) = $\(parameters.count)"
    }

    /// The payout a payment is in, when that payout is in the window: `gateway|id`.
    private func payoutOf(_ payment: String, _ scope: Scope, _ parameters: inout [SQLValue]) -> String {
        "(SELECT po.gateway || '|' || po.external_id FROM store_payouts po WHERE po.gateway = \(payment).gateway AND po.external_id = \(payment).payout_ref "
            + "AND po.state = 'paid' AND \(window("po.paid_at", scope, &parameters)))"
    }

    func entries(_ scope: Scope, _ body: (JournalEntry) throws -> Void) throws {
        try orders(scope, adjustments: false, body)
        try orders(scope, adjustments: true, body)
        try refunds(scope, body)
        try payments(scope, body)
        try payouts(scope, body)
    }

    // MARK: - Orders

    private struct OrderRow {
        var id: Int64
        var code: String
        var currency: CurrencyCode
        var cancelled: Bool
        var name: String
        var placedAt: Instant
        var changedAt: Instant
        var cancelledAt: Instant?
        var taxesIncluded: Bool
        var lines: Int64
        var discount: Int64
        var shipping: Int64
        var total: Int64
        var digest: String
        var payout: String
        var taxes: [(name: String, amount: Int64)] = []
    }

    private func orders(_ scope: Scope, adjustments: Bool, _ body: (JournalEntry) throws -> Void) throws {
        var parameters: [SQLValue] = [.text(book)]
        var conditions: String
        var payout = "''"
        if adjustments {
            // Booked before, changed since: the latest booking's digest differs from the order's.
            conditions =
                "EXISTS (SELECT 1 FROM store_export_items i WHERE i.book = $1 AND i.source_kind = 'order' AND i.source_id = o.id) AND o.content_sha256 <> "
                + "(SELECT i.source_digest FROM store_export_items i WHERE i.book = $1 AND i.source_kind = 'order' AND i.source_id = o.id ORDER BY i.revision DESC LIMIT 1)"
                + " AND " + window("o.changed_at", Scope(start: scope.byPayout ? nil : scope.start, end: scope.end, byPayout: false), &parameters)
        } else if scope.byPayout {
            payout = "(SELECT MIN(\(payoutOf("p", scope, &parameters))) FROM store_payments p WHERE p.order_id = o.id AND p.state = 'succeeded')"
            conditions = "o.state = 'open' AND \(notBooked(.order, "o")) AND \(payout) IS NOT NULL"
        } else {
            conditions = "o.state = 'open' AND \(notBooked(.order, "o")) AND " + window("o.placed_at", scope, &parameters)
        }
        conditions += currencyCondition("o.currency", &parameters)
        let taxes =
            switch dialect {
            case .sqlite:
                "(SELECT group_concat(name || char(31) || total, char(30)) FROM (SELECT name, SUM(amount_minor) AS total FROM store_order_taxes t WHERE t.order_id = o.id GROUP BY name ORDER BY name))"
            case .postgres:
                "(SELECT string_agg(name || chr(31) || total, chr(30) ORDER BY name) FROM (SELECT name, SUM(amount_minor) AS total FROM store_order_taxes t WHERE t.order_id = o.id GROUP BY name) x)"
            }
        let sql = """
            SELECT o.id, o.code, o.currency, o.currency_exponent, o.state, o.customer, o.email, \(time("o.placed_at")), o.taxes_included,
                o.lines_minor, o.discount_minor, o.shipping_minor, o.total_minor, o.content_sha256, \(time("o.cancelled_at")), \(time("o.changed_at")),
                COALESCE(\(payout), ''), \(taxes)
            FROM store_orders o
            WHERE \(conditions)
            ORDER BY o.id
            """
        // An adjustment reads what was booked: on PostgreSQL no query may run inside another's rows, so
        // changed orders (few) are collected first.
        var changed: [OrderRow] = []
        try connection.query(sql, parameters, columns: { _ in }) { row in
            let customer = row.string(5) ?? ""
            var order = OrderRow(
                id: row.int64(0) ?? 0, code: row.string(1) ?? "", currency: CurrencyCode(code: row.string(2) ?? "", exponent: Int(row.int64(3) ?? 2)),
                cancelled: row.string(4) == "cancelled", name: customer.isEmpty ? row.string(6) ?? "" : customer,
                placedAt: try Self.instant(row, 7),
                changedAt: try Self.instant(row, 15),
                cancelledAt: row.string(14).flatMap { Instant.parse($0, zone: .gmt) }, taxesIncluded: row.int64(8) == 1,
                lines: row.int64(9) ?? 0, discount: row.int64(10) ?? 0, shipping: row.int64(11) ?? 0, total: row.int64(12) ?? 0,
                digest: row.string(13) ?? "", payout: row.string(16) ?? "")
            order.taxes = try row.withBytes(17) { bytes in try bytes.map { try JournalAssembler.postings(in: $0).map { ($0.account, $0.amount) } } ?? [] }
            if adjustments { changed.append(order) } else { try emit(order, adjustment: false, body) }
        }
        for order in changed { try emit(order, adjustment: true, body) }
    }

    /// A sale: receivable = lines − discounts + shipping (+ tax when not included) ± rounding.
    private func salePostings(_ order: OrderRow) -> Result<[Posting], Rejection> {
        guard !order.cancelled else { return .success([]) }
        let taxTotal = order.taxes.reduce(0) { $0 + $1.amount }
        let rounding = order.total - (order.lines - order.discount + order.shipping + (order.taxesIncluded ? 0 : taxTotal))
        let money = { (units: Int64) in Money(minorUnits: units, currency: order.currency).decimalText }
        guard abs(rounding) <= tolerance else {
            return .failure(
                Rejection(
                    reference: order.code,
                    reason: "order \(order.code): the total \(money(order.total)) \(order.currency) differs from its parts by \(money(rounding)), more than the tolerance \(money(tolerance))"))
        }
        var postings = [
            Posting(account: accounts.receivable, amount: order.total), Posting(account: accounts.discounts, amount: order.discount),
            Posting(account: accounts.sales, amount: -(order.lines - (order.taxesIncluded ? taxTotal : 0))),
            Posting(account: accounts.shipping, amount: -order.shipping), Posting(account: accounts.rounding, amount: -rounding),
        ]
        for tax in order.taxes {
            guard let account = accounts.tax(named: tax.name) else {
                return .failure(Rejection(reference: order.code, reason: "order \(order.code): tax '\(tax.name)' has no account in accounts.tax (and no default)"))
            }
            postings.append(Posting(account: account, amount: -tax.amount))
        }
        return .success(postings)
    }

    private func emit(_ order: OrderRow, adjustment: Bool, _ body: (JournalEntry) throws -> Void) throws {
        let postings: [Posting]
        switch salePostings(order) {
        case .success(let value): postings = value
        case .failure(let rejection):
            rejections.append(rejection)
            return
        }
        guard adjustment else {
            try body(
                JournalEntry(
                    kind: .order, sourceID: order.id, revision: 0, reference: order.code, date: order.placedAt.localDate(in: days), currency: order.currency,
                    name: order.name, memo: "Order \(order.code)", payout: order.payout, digest: order.digest, postings: postings))
            return
        }
        let (booked, revision) = try bookedPostings(.order, order.id)
        let at = order.cancelled ? max(order.cancelledAt ?? order.changedAt, order.placedAt) : order.changedAt
        try body(
            JournalEntry(
                kind: .order, sourceID: order.id, revision: revision + 1, reference: order.code, date: at.localDate(in: days), currency: order.currency,
                name: order.name, memo: order.cancelled ? "Order \(order.code) cancelled" : "Order \(order.code) changed", payout: order.payout,
                digest: order.digest, postings: difference(postings, booked)))
    }

    /// What the book holds for an item so far (all revisions summed), and its latest revision.
    private func bookedPostings(_ kind: SourceKind, _ id: Int64) throws -> ([Posting], Int) {
        var sums: [String: Int64] = [:]
        var revision = 0
        try connection.query(
            "SELECT revision, entry FROM store_export_items WHERE book = $1 AND source_kind = $2 AND source_id = $3 ORDER BY revision",
            [.text(book), .text(kind.rawValue), .integer(id)], columns: { _ in }
        ) { row in
            revision = Int(row.int64(0) ?? 0)
            let entry = JournalEntry(kind: kind, sourceID: id, revision: revision, json: row.string(1) ?? "")
            for posting in entry?.postings ?? [] { sums[posting.account, default: 0] += posting.amount }
        }
        return (sums.map { Posting(account: $0.key, amount: $0.value) }, revision)
    }

    private func difference(_ wanted: [Posting], _ booked: [Posting]) -> [Posting] {
        var sums: [String: Int64] = [:]
        for posting in wanted { sums[posting.account, default: 0] += posting.amount }
        for posting in booked { sums[posting.account, default: 0] -= posting.amount }
        return sums.map { Posting(account: $0.key, amount: $0.value) }.sorted { $0.account < $1.account }
    }

    // MARK: - Refunds, payments, payouts

    private func refunds(_ scope: Scope, _ body: (JournalEntry) throws -> Void) throws {
        var parameters: [SQLValue] = [.text(book)]
        var payout = "''"
        let booked = "EXISTS (SELECT 1 FROM store_export_items i WHERE i.book = $1 AND i.source_kind = 'refund' AND i.source_id = r.id)"
        var fresh: String
        if scope.byPayout {
            payout = "(SELECT MIN(\(payoutOf("p", scope, &parameters))) FROM store_payments p WHERE p.order_id = o.id AND p.state = 'succeeded')"
            parameters.append(.text(scope.end.iso))
            fresh = "\(payout) IS NOT NULL AND r.refunded_at < $\(parameters.count)"
        } else {
            fresh = window("r.refunded_at", scope, &parameters)
        }
        // A refund not booked yet by when it happened; one booked before, by when it changed.
        let changed = window("r.changed_at", Scope(start: scope.byPayout ? nil : scope.start, end: scope.end, byPayout: false), &parameters)
        let currency = currencyCondition("o.currency", &parameters)
        let sql = """
            SELECT r.id, r.refund_key, o.code, o.currency, o.currency_exponent, o.customer, \(time("r.refunded_at")), \(time("r.changed_at")),
                r.amount_minor, r.shipping_minor, r.tax_minor,
                \(Self.refundTaxName),
                (SELECT i.source_digest FROM store_export_items i WHERE i.book = $1 AND i.source_kind = 'refund' AND i.source_id = r.id ORDER BY i.revision DESC LIMIT 1),
                COALESCE(\(payout), '')
            FROM store_refunds r JOIN store_orders o ON o.id = r.order_id
            WHERE ((NOT \(booked) AND \(fresh)) OR (\(booked) AND \(changed)))\(currency)
            ORDER BY r.id
            """
        var rows: [(JournalEntry, booked: String?)] = []
        try connection.query(sql, parameters, columns: { _ in }) { row in
            let currency = CurrencyCode(code: row.string(3) ?? "", exponent: Int(row.int64(4) ?? 2))
            let (amount, shipping, tax) = (row.int64(8) ?? 0, row.int64(9) ?? 0, row.int64(10) ?? 0)
            let code = row.string(2) ?? ""
            let key = row.string(1) ?? ""
            guard tax == 0 || accounts.tax(named: row.string(11) ?? "") != nil else {
                rejections.append(Rejection(reference: "\(code)/\(key)", reason: "refund \(key) of order \(code): its tax has no account in accounts.tax (and no default)"))
                return
            }
            let taxAccount = accounts.tax(named: row.string(11) ?? "") ?? accounts.refunds
            let entry = JournalEntry(
                kind: .refund, sourceID: row.int64(0) ?? 0, revision: 0, reference: "\(code)/\(key)",
                date: try Self.instant(row, 6).localDate(in: days), currency: currency,
                name: row.string(5) ?? "", memo: "Refund \(key) of order \(code)", payout: row.string(13) ?? "", digest: "\(amount)/\(shipping)/\(tax)",
                postings: [
                    Posting(account: accounts.refunds, amount: amount - shipping - tax), Posting(account: accounts.shipping, amount: shipping),
                    Posting(account: taxAccount, amount: tax), Posting(account: accounts.receivable, amount: -amount),
                ])
            var changed = entry
            changed.date = try Self.instant(row, 7).localDate(in: days)
            rows.append((row.string(12) == nil ? entry : changed, row.string(12)))
        }
        for (entry, booked) in rows {
            guard let booked else {
                try body(entry)
                continue
            }
            guard booked != entry.digest else { continue }
            let (postings, revision) = try bookedPostings(.refund, entry.sourceID)
            var adjustment = entry
            adjustment.revision = revision + 1
            adjustment.memo = "Refund \(entry.reference) changed"
            adjustment.postings = difference(entry.postings, postings).filter { $0.amount != 0 }
            try body(adjustment)
        }
    }

    private func payments(_ scope: Scope, _ body: (JournalEntry) throws -> Void) throws {
        var parameters: [SQLValue] = [.text(book)]
        var payout = "''"
        var conditions = "p.state = 'succeeded' AND \(notBooked(.payment, "p"))"
        if scope.byPayout {
            payout = payoutOf("p", scope, &parameters)
            conditions += " AND \(payout) IS NOT NULL"
        } else {
            conditions += " AND " + window("p.paid_at", scope, &parameters)
        }
        conditions += currencyCondition("p.currency", &parameters)
        let sql = """
            SELECT p.id, p.gateway, p.external_id, p.kind, p.currency, p.currency_exponent, p.amount_minor, \(time("p.paid_at")),
                COALESCE(o.customer, ''), COALESCE(o.code, ''), p.customer_email, COALESCE(\(payout), '')
            FROM store_payments p LEFT JOIN store_orders o ON o.id = p.order_id
            WHERE \(conditions) ORDER BY p.id
            """
        try connection.query(sql, parameters, columns: { _ in }) { row in
            let gateway = row.string(1) ?? ""
            let id = row.string(2) ?? ""
            guard let clearing = accounts.clearing(for: gateway) else {
                rejections.append(Rejection(reference: id, reason: "payment \(id): gateway '\(gateway)' has no account in accounts.clearing (and no default)"))
                return
            }
            let amount = row.int64(6) ?? 0
            let kind = row.string(3) ?? "payment"
            let code = row.string(9) ?? ""
            let other = kind == "fee" ? accounts.fees : accounts.receivable
            let customer = row.string(8) ?? ""
            try body(
                JournalEntry(
                    kind: .payment, sourceID: row.int64(0) ?? 0, revision: 0, reference: id,
                    date: try Self.instant(row, 7).localDate(in: days),
                    currency: CurrencyCode(code: row.string(4) ?? "", exponent: Int(row.int64(5) ?? 2)),
                    name: customer.isEmpty ? (row.string(10) ?? "") : customer,
                    memo: "\(gateway) \(kind) \(id)" + (code.isEmpty ? "" : " for order \(code)"), payout: row.string(11) ?? "",
                    postings: [Posting(account: clearing, amount: amount), Posting(account: other, amount: -amount)]))
        }
    }

    private func payouts(_ scope: Scope, _ body: (JournalEntry) throws -> Void) throws {
        var parameters: [SQLValue] = [.text(book)]
        var conditions = "po.state = 'paid' AND \(notBooked(.payout, "po")) AND " + window("po.paid_at", scope, &parameters)
        conditions += currencyCondition("po.currency", &parameters)
        let sql = """
            SELECT po.id, po.gateway, po.external_id, po.currency, po.currency_exponent, po.gross_minor, po.fees_minor, po.net_minor, \(time("po.paid_at"))
            FROM store_payouts po WHERE \(conditions) ORDER BY po.id
            """
        try connection.query(sql, parameters, columns: { _ in }) { row in
            let gateway = row.string(1) ?? ""
            let id = row.string(2) ?? ""
            guard let clearing = accounts.clearing(for: gateway) else {
                rejections.append(Rejection(reference: id, reason: "payout \(id): gateway '\(gateway)' has no account in accounts.clearing (and no default)"))
                return
            }
            try body(
                JournalEntry(
                    kind: .payout, sourceID: row.int64(0) ?? 0, revision: 0, reference: id,
                    date: try Self.instant(row, 8).localDate(in: days),
                    currency: CurrencyCode(code: row.string(3) ?? "", exponent: Int(row.int64(4) ?? 2)), name: gateway,
                    memo: "\(gateway) payout \(id)", payout: "\(gateway)|\(id)",
                    postings: [
                        Posting(account: accounts.bank, amount: row.int64(7) ?? 0), Posting(account: accounts.fees, amount: row.int64(6) ?? 0),
                        Posting(account: clearing, amount: -(row.int64(5) ?? 0)),
                    ]))
        }
    }
}
