import Pipelines

/// A tax charged on an order: its name as the shop writes it (`VAT 16%`), its rate as decimal text in
/// percent (`16`, empty when unknown), and its amount in minor units. `line` is the order line it is on
/// (1-based), nil for a tax on the whole order or its shipping.
struct OrderTax: Sendable, Equatable {
    var name: String
    var rate: String
    var amount: Int64
    var line: Int?
}

struct OrderLine: Sendable, Equatable {
    var sku: String
    var name: String
    var quantity: Int64
    var unitPrice: Int64
    /// The discount on this line, in minor units (not per unit).
    var discount: Int64
}

struct OrderDiscount: Sendable, Equatable {
    var code: String
    var amount: Int64
}

/// Money handed back to the customer. `key` identifies it within its order across re-imports.
struct OrderRefund: Sendable, Equatable {
    var key: String
    var at: Instant
    var amount: Int64
    /// The parts of `amount` that were shipping and tax; the rest was goods.
    var shipping: Int64
    var tax: Int64
    var reason: String
    /// The order lines whose goods came back, when the source says; their amounts sum to the goods part.
    var lines: [RefundLine] = []
}

/// Goods of one order line handed back: `line` is the order line's position (1-based).
struct RefundLine: Sendable, Equatable {
    var line: Int
    var quantity: Int64
    var amount: Int64
}

/// One order as a source file states it, all money in minor units of `currency`.
struct Order: Sendable, Equatable {
    enum State: String, Sendable { case open, cancelled }

    var code: String
    var currency: CurrencyCode
    var placedAt: Instant
    var paidAt: Instant?
    var cancelledAt: Instant?
    var state: State
    /// As the shop states it: pending, authorized, paid, partially_paid, partially_refunded, refunded, voided.
    var financialStatus: String
    var customer: String
    var email: String
    /// Whether line prices (and shipping) already contain the taxes, as in most of Africa and Europe.
    var taxesIncluded: Bool
    var lines: [OrderLine]
    var shipping: Int64
    var taxes: [OrderTax]
    var discounts: [OrderDiscount]
    var total: Int64
    var gateway: String
    var paymentReference: String
    var refunds: [OrderRefund]

    /// Σ quantity × unit price, before discounts.
    var linesTotal: Int64 { lines.reduce(0) { $0 + $1.quantity * $1.unitPrice } }
    var discountTotal: Int64 { lines.reduce(0) { $0 + $1.discount } + discounts.reduce(0) { $0 + $1.amount } }
    var taxTotal: Int64 { taxes.reduce(0) { $0 + $1.amount } }
    /// What the total should be from its parts.
    var computedTotal: Int64 { linesTotal - discountTotal + shipping + (taxesIncluded ? 0 : taxTotal) }
    /// The stated total minus the computed one: a rounding difference, if within the tolerance.
    var rounding: Int64 { total - computedTotal }

    /// Why the order's figures do not hold together, or nil. `tolerance` is in minor units.
    func inconsistency(tolerance: Int64) -> String? {
        let money = { (units: Int64) in Money(minorUnits: units, currency: currency).decimalText }
        if lines.isEmpty { return "the order has no lines" }
        if abs(rounding) > tolerance {
            let parts =
                "lines \(money(linesTotal)) − discounts \(money(discountTotal)) + shipping \(money(shipping))"
                + (taxesIncluded ? " (taxes \(money(taxTotal)) included)" : " + tax \(money(taxTotal))")
            return "the total \(money(total)) \(currency) is not \(parts) = \(money(computedTotal)): "
                + "a difference of \(money(rounding)), more than the tolerance of \(money(tolerance))"
        }
        let refunded = refunds.reduce(0) { $0 + $1.amount }
        if refunded > total { return "the refunds (\(money(refunded))) are more than the total \(money(total))" }
        if let refund = refunds.first(where: { $0.at < placedAt }) {
            return "refund '\(refund.key)' at \(refund.at) is before the order was placed (\(placedAt))"
        }
        return nil
    }
}

/// Whole-number amounts that can be multiplied and summed without overflow: every figure of an order is
/// at most 10^15 minor units, every quantity at most 10^6.
enum OrderLimits {
    static let amount: Int64 = 1_000_000_000_000_000
    static let quantity: Int64 = 1_000_000
    static let lines = 10_000
    static let text = 1_000
}
