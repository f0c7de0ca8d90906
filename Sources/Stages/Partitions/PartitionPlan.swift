import Foundation

/// One child of a partitioned table: its name and its bounds (FROM inclusive, TO exclusive).
struct PartitionChild: Equatable, Sendable {
    var name: String
    var from: Date
    var to: Date
}

/// What one maintenance run of one table would do, worked out from the catalogue and the clock alone
/// (nothing is run here): the children to create, for the premake horizon (catching up on skipped runs)
/// and for rows found in the default partition, and the default rows left there because they lie too far
/// ahead.
struct PartitionPlan: Equatable {
    /// Children to create, in bound order.
    var creates: [PartitionChild] = []
    /// The default partition, when it does not exist yet.
    var createsDefault = false
    /// Interval starts whose rows wait in the default partition and move into their child.
    var drains: [Date] = []
    /// Default rows beyond the `max_new_per_run` cap: how many, and their earliest and latest key.
    var capped: (rows: Int64, first: Date, last: Date)?

    static func == (left: PartitionPlan, right: PartitionPlan) -> Bool {
        left.creates == right.creates && left.createsDefault == right.createsDefault && left.drains == right.drains
            && left.capped?.rows == right.capped?.rows && left.capped?.first == right.capped?.first && left.capped?.last == right.capped?.last
    }

    struct Inputs {
        var parent: String
        var interval: PartitionInterval
        var naming: PartitionNaming
        var calendar: Calendar
        var premake: Int
        /// Where a new set starts (`start`), else `premake` intervals before now.
        var start: Date?
        var now: Date
        var maxNewPerRun: Int
        var children: [PartitionChild]
        var hasDefault: Bool
        /// Rows in the default partition per interval start (any order).
        var defaultRows: [(start: Date, rows: Int64, first: Date, last: Date)]
    }

    /// Works out the plan. Children that exist (by bounds) are never made again; a wanted child whose span
    /// overlaps an existing one of other bounds (a set made with another interval) is left out.
    static func make(_ inputs: Inputs) -> PartitionPlan {
        let interval = inputs.interval
        let calendar = inputs.calendar
        let current = interval.start(of: inputs.now, in: calendar)
        let horizon = interval.advance(current, by: inputs.premake, in: calendar)
        let newest = inputs.children.map(\.to).max()
        // From the newest child's end (catching up on skipped runs), or for a new set from `start` or
        // premake intervals back, up to the premake horizon.
        var first = newest.map { interval.start(of: $0, in: calendar) } ?? interval.advance(current, by: -inputs.premake, in: calendar)
        if newest == nil, let start = inputs.start { first = interval.start(of: start, in: calendar) }
        var wanted: [Date] = []
        var cursor = first
        while cursor <= horizon, wanted.count <= 100_000 {
            wanted.append(cursor)
            cursor = interval.advance(cursor, by: 1, in: calendar)
        }
        var plan = PartitionPlan(createsDefault: !inputs.hasDefault)
        // Rows waiting in the default: their interval gets a child, also in the past, unless it lies more
        // than max_new_per_run intervals ahead of now.
        let cap = interval.advance(current, by: inputs.maxNewPerRun, in: calendar)
        for waiting in inputs.defaultRows.sorted(by: { $0.start < $1.start }) {
            if waiting.start > cap {
                let capped = plan.capped
                plan.capped = (
                    (capped?.rows ?? 0) + waiting.rows, min(capped?.first ?? waiting.first, waiting.first), max(capped?.last ?? waiting.last, waiting.last)
                )
                continue
            }
            plan.drains.append(waiting.start)
            if !wanted.contains(waiting.start) { wanted.append(waiting.start) }
        }
        for start in wanted.sorted() {
            let end = interval.advance(start, by: 1, in: calendar)
            if inputs.children.contains(where: { $0.from == start && $0.to == end }) { continue }
            if inputs.children.contains(where: { $0.from < end && start < $0.to }) { continue }
            guard plan.creates.count < inputs.maxNewPerRun || plan.drains.contains(start) else { continue }
            let suffix = inputs.naming.suffix(for: start, interval: interval, in: calendar)
            plan.creates.append(PartitionChild(name: PartitionNaming.childName(parent: inputs.parent, suffix: suffix), from: start, to: end))
        }
        plan.drains = plan.drains.filter { start in plan.creates.contains { $0.from == start } }
        return plan
    }
}
