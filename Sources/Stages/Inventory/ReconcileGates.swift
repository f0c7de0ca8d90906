import Foundation
import Pipelines

/// What the comparison found, per status: how many keys, and the sums of the shop's figures, the feed's
/// figures and their differences.
struct ReconcileTally: Codable, Equatable {
    struct Totals: Codable, Equatable {
        var count: Int64 = 0
        var shop: Int64 = 0
        var feed: Int64 = 0
        var delta: Int64 = 0
    }

    var byStatus: [String: Totals] = [:]

    subscript(status: ReconcileComparison.Status) -> Totals { byStatus[status.rawValue] ?? Totals() }

    mutating func add(_ status: ReconcileComparison.Status, shop: Int64?, feed: Int64?) {
        var totals = self[status]
        totals.count += 1
        totals.shop += shop ?? 0
        totals.feed += feed ?? 0
        // A shared SKU has no one figure in the store to differ from.
        if let feed, status != .sharedSKU { totals.delta += feed - (shop ?? 0) }
        byStatus[status.rawValue] = totals
    }
}

/// The safety gates in front of an apply. Each is evaluated once, when the comparison is made, and kept
/// with it; a tripped gate refuses the apply unless the run has `--force`.
struct ReconcileGate: Codable, Equatable {
    var name: String
    var limit: String
    var value: String
    var tripped: Bool
    /// Why it trips, in words.
    var message: String

    struct Limits {
        var minFeedRows: Int?
        var maxFeedAge: Duration?
        var maxSKUsChangedPercent: Percentage?
        var maxChangeUnits: Int64?
        var maxChangePercent: Percentage?
    }

    static func evaluate(
        _ limits: Limits, feedRecords: Int64, feedAge: Duration, tally: ReconcileTally, comparison: ReconcileComparison
    ) throws -> [ReconcileGate] {
        var gates = [
            ReconcileGate(
                name: "empty_feed", limit: "at least 1 record", value: "\(feedRecords) records", tripped: feedRecords == 0,
                message: "the feed has no records: applying it would zero or skip every SKU")
        ]
        if let minimum = limits.minFeedRows {
            gates.append(
                ReconcileGate(
                    name: "min_feed_rows", limit: "\(minimum)", value: "\(feedRecords)", tripped: feedRecords < Int64(minimum),
                    message: "the feed has \(feedRecords) records, fewer than min_feed_rows \(minimum) (a truncated feed?)"))
        }
        if let maximum = limits.maxFeedAge {
            gates.append(
                ReconcileGate(
                    name: "max_feed_age", limit: maximum.parameterDisplay, value: feedAge.parameterDisplay, tripped: feedAge > maximum,
                    message: "the feed is \(feedAge.parameterDisplay) old, older than max_feed_age \(maximum.parameterDisplay)"))
        }
        let different = tally[.different].count
        let compared = different + tally[.equal].count
        if let percent = limits.maxSKUsChangedPercent {
            let share = compared == 0 ? "0" : String(format: "%.1f%%", Double(different) * 100 / Double(compared))
            gates.append(
                ReconcileGate(
                    name: "max_skus_changed_percent", limit: percent.parameterDisplay, value: "\(different) of \(compared) (\(share))",
                    tripped: percent.isExceeded(by: different, of: compared),
                    message: "\(different) of \(compared) compared SKUs would change (\(share)), more than max_skus_changed_percent \(percent.parameterDisplay)"))
        }
        if let units = limits.maxChangeUnits {
            let (count, example) = try comparison.count(where: "abs(feed_qty - coalesce(shop_qty, 0)) > ?1", units)
            gates.append(
                ReconcileGate(
                    name: "max_change_units", limit: "\(units)", value: "\(count) changes over it", tripped: count > 0,
                    message: "\(count) SKUs would change by more than max_change_units \(units) (e.g. \(example))"))
        }
        if let percent = limits.maxChangePercent {
            let (count, example) = try comparison.count(
                where: "shop_qty > 0 AND abs(feed_qty - shop_qty) * 10000 > shop_qty * ?1", percent.hundredths)
            gates.append(
                ReconcileGate(
                    name: "max_change_percent", limit: percent.parameterDisplay, value: "\(count) changes over it", tripped: count > 0,
                    message: "\(count) SKUs would change by more than max_change_percent \(percent.parameterDisplay) of the shop's figure (e.g. \(example))"))
        }
        return gates
    }
}
