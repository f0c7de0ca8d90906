import Foundation

/// When scheduled runs may happen: some weekdays, between two times of day (the end exclusive), in the
/// schedule's time zone. `days: Mon-Fri, hours: "09:00-19:00"` with `every: 30m` has its last slot at 18:30.
public struct ScheduleWindow: Sendable, Equatable {
    /// Bit `w` for weekday w (0 Sunday … 6 Saturday).
    let weekdays: UInt8
    /// Minutes of the day: `start` inclusive, `end` exclusive (at most 1440, i.e. 24:00).
    let start: Int
    let end: Int

    struct Problem: Error {
        let message: String
    }

    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let fullDayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    init(weekdays: UInt8 = CalendarRule.allWeekdays, start: Int = 0, end: Int = 1440) {
        self.weekdays = weekdays
        self.start = start
        self.end = end
    }

    func contains(minute: Int64) -> Bool {
        let day = CivilDay.containing(minute: minute)
        let minuteOfDay = Int(minute - day.firstMinute)
        return weekdays & (1 << UInt8(day.weekday)) != 0 && minuteOfDay >= start && minuteOfDay < end
    }

    /// Narrows a trigger's rule to the window.
    func restrict(_ rule: CalendarRule) -> CalendarRule {
        var restricted = rule
        restricted.weekdays &= weekdays
        restricted.minutes = rule.minutes.filter { $0 >= start && $0 < end }
        return restricted
    }

    /// `Mon-Fri`, `Sat,Sun`, `Mon-Wed,Fri`, `Fri-Mon` (a range may run over the weekend), `Monday`.
    static func weekdays(_ text: String) throws(Problem) -> UInt8 {
        var bits: UInt8 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count) else { throw Problem(message: "'\(item)' is not a day or a range of days such as Mon-Fri") }
            let first = try day(ends[0])
            let last = ends.count == 2 ? try day(ends[1]) : first
            var current = first
            while true {
                bits |= 1 << UInt8(current)
                if current == last { break }
                current = (current + 1) % 7
            }
        }
        return bits
    }

    private static func day(_ text: Substring) throws(Problem) -> Int {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let index = dayNames.firstIndex(where: { $0.lowercased() == word }) ?? fullDayNames.firstIndex(of: word) {
            return index
        }
        throw Problem(message: "unknown day '\(text)'" + Suggestion.hint(for: String(text), among: dayNames) + "; use Mon, Tue, … Sun")
    }

    /// `09:00-19:00`; the end is exclusive and may be `24:00`; a window ends after it starts, on the same day.
    static func hours(_ text: String) throws(Problem) -> (start: Int, end: Int) {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let start = minuteOfDay(ends[0]), let end = minuteOfDay(ends[1]) else {
            throw Problem(message: "expected hours such as \"09:00-19:00\", found '\(text)'")
        }
        guard end > start else {
            throw Problem(message: "the window '\(text)' must end after it starts on the same day (up to 24:00)")
        }
        return (start, end)
    }

    /// `HH:MM` from 00:00 to 24:00.
    static func minuteOfDay(_ text: Substring) -> Int? {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), let hours = Int(parts[0]), let minutes = Int(parts[1]),
            minutes < 60, hours * 60 + minutes <= 1440
        else { return nil }
        return hours * 60 + minutes
    }

    var summary: String {
        var parts: [String] = []
        if weekdays != CalendarRule.allWeekdays { parts.append(Self.daysText(weekdays)) }
        if start != 0 || end != 1440 { parts.append("\(Self.clockText(start))-\(Self.clockText(end))") }
        return parts.joined(separator: " ")
    }

    static func daysText(_ weekdays: UInt8) -> String {
        (1...7).map { $0 % 7 }.filter { weekdays & (1 << UInt8($0)) != 0 }.map { dayNames[$0] }.joined(separator: ",")
    }

    static func clockText(_ minuteOfDay: Int) -> String {
        let hours = minuteOfDay / 60
        let minutes = minuteOfDay % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }
}
