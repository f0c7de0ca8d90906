import Foundation
import Pipelines

/// The span of one child of a time-partitioned table, in a time zone: a day, an ISO week (from Monday),
/// a calendar month, a quarter or a year there. Bounds are FROM inclusive, TO exclusive.
enum PartitionInterval: String, ParameterChoice {
    case day, week, month, quarter, year

    /// The start of the interval holding `instant`, in `calendar`'s time zone (PostgreSQL's `date_trunc`).
    func start(of instant: Date, in calendar: Calendar) -> Date {
        let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: instant)
        var start = DateComponents()
        start.year = parts.year
        switch self {
        case .year:
            start.month = 1
            start.day = 1
        case .quarter:
            start.month = ((parts.month ?? 1) - 1) / 3 * 3 + 1
            start.day = 1
        case .month:
            start.month = parts.month
            start.day = 1
        case .day, .week:
            start.month = parts.month
            start.day = parts.day
        }
        let midnight = calendar.date(from: start) ?? instant
        guard self == .week else { return midnight }
        // weekday: Sunday 1 … Saturday 7; ISO weeks start on Monday.
        let back = ((parts.weekday ?? 2) + 5) % 7
        return calendar.date(byAdding: .day, value: -back, to: midnight) ?? midnight
    }

    /// `start` moved by `count` intervals (negative: back), on the calendar of the time zone.
    func advance(_ start: Date, by count: Int, in calendar: Calendar) -> Date {
        let moved: Date? =
            switch self {
            case .day: calendar.date(byAdding: .day, value: count, to: start)
            case .week: calendar.date(byAdding: .day, value: 7 * count, to: start)
            case .month: calendar.date(byAdding: .month, value: count, to: start)
            case .quarter: calendar.date(byAdding: .month, value: 3 * count, to: start)
            case .year: calendar.date(byAdding: .year, value: count, to: start)
            }
        return moved ?? start
    }

    /// How many whole intervals lie between the interval starting at `from` and the one starting at `to`.
    func count(from: Date, to: Date, in calendar: Calendar) -> Int {
        switch self {
        case .day: return calendar.dateComponents([.day], from: from, to: to).day ?? 0
        case .week: return (calendar.dateComponents([.day], from: from, to: to).day ?? 0) / 7
        case .month: return calendar.dateComponents([.month], from: from, to: to).month ?? 0
        case .quarter: return (calendar.dateComponents([.month], from: from, to: to).month ?? 0) / 3
        case .year: return calendar.dateComponents([.year], from: from, to: to).year ?? 0
        }
    }

    /// A Gregorian calendar in `zone`.
    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }
}

/// How children are named: `p4` as pg_partman 4 names them (`_p2026_09`, `_p2026q3`, `_p2026w36`,
/// `_p2026_09_01`, `_p2026`), `p5` as pg_partman 5 does (`_p20260901` whatever the interval).
enum PartitionNaming: String, ParameterChoice {
    case p4, p5

    /// The suffix after `_p` of the child starting at `start` (in `calendar`'s zone).
    func suffix(for start: Date, interval: PartitionInterval, in calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .yearForWeekOfYear, .weekOfYear], from: start)
        let year = parts.year ?? 0
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        switch (self, interval) {
        case (.p5, _): return String(format: "%04d", year) + two(parts.month) + two(parts.day)
        case (.p4, .year): return String(format: "%04d", year)
        case (.p4, .quarter): return String(format: "%04dq%d", year, ((parts.month ?? 1) - 1) / 3 + 1)
        case (.p4, .month): return String(format: "%04d_", year) + two(parts.month)
        case (.p4, .week): return String(format: "%04dw", parts.yearForWeekOfYear ?? year) + two(parts.weekOfYear)
        case (.p4, .day): return String(format: "%04d_", year) + two(parts.month) + "_" + two(parts.day)
        }
    }

    /// The child's name: the parent's name, shortened when needed so that `_p` and the whole suffix fit
    /// PostgreSQL's 63-byte names, as pg_partman's `check_name_length` does (it counts characters; a name
    /// of multi-byte characters is shortened further, on a character boundary, to fit the bytes).
    static func childName(parent: String, suffix: String) -> String {
        let stem = parent.count + suffix.count >= 61 ? String(parent.prefix(max(61 - suffix.count, 0))) : parent
        return fitBytes(stem, "_p" + suffix)
    }

    /// The default partition's name: `PARENT_default`, shortened the same way.
    static func defaultName(parent: String) -> String {
        let ending = "_default"
        let stem = parent.count + ending.count >= 63 ? String(parent.prefix(63 - ending.count)) : parent
        return fitBytes(stem, ending)
    }

    private static func fitBytes(_ stem: String, _ ending: String) -> String {
        var stem = stem
        while stem.utf8.count + ending.utf8.count > 63, !stem.isEmpty { stem.removeLast() }
        return stem + ending
    }
}
