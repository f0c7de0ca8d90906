import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) as crontab(5) reads it:
/// `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n`, lists, month and weekday names
/// (`JAN`, `MON`), 7 for Sunday, and the `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` macros.
/// When both day fields are restricted, a day matches when either does (crontab's rule).
struct CronExpression: Sendable {
    let text: String
    let rules: [CalendarRule]

    struct Problem: Error {
        let message: String
    }

    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String]
    }

    private static let fields = [
        Field(name: "minute", range: 0...59, names: []),
        Field(name: "hour", range: 0...23, names: []),
        Field(name: "day of month", range: 1...31, names: []),
        Field(
            name: "month", range: 1...12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
        Field(name: "day of week", range: 0...7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
    ]

    private static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    init(_ written: String) throws(Problem) {
        text = written
        let trimmed = written.trimmingCharacters(in: .whitespaces)
        var expanded = trimmed
        if trimmed.hasPrefix("@") {
            guard let macro = Self.macros[trimmed.lowercased()] else {
                throw Problem(message: "unknown cron macro '\(trimmed)': use @hourly, @daily, @weekly, @monthly or @yearly")
            }
            expanded = macro
        }
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw Problem(
                message: "a cron expression has 5 fields (minute hour day-of-month month day-of-week), found \(parts.count) in '\(written)'")
        }
        var sets: [Set<Int>] = []
        for (part, field) in zip(parts, Self.fields) { sets.append(try Self.values(part, field)) }
        var weekdays = sets[4]
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        let minutes = MinuteSet(sets[1].flatMap { hour in sets[0].map { hour * 60 + $0 } })
        let months = sets[3].reduce(UInt16(0)) { $0 | 1 << UInt16($1) }
        let days = sets[2].reduce(UInt32(0)) { $0 | 1 << UInt32($1) }
        let weekdayBits = weekdays.reduce(UInt8(0)) { $0 | 1 << UInt8($1) }
        if parts[2].hasPrefix("*") || parts[4].hasPrefix("*") {
            rules = [CalendarRule(months: months, days: days, weekdays: weekdayBits, minutes: minutes)]
        } else {
            rules = [
                CalendarRule(months: months, days: days, weekdays: CalendarRule.allWeekdays, minutes: minutes),
                CalendarRule(months: months, days: CalendarRule.allDays, weekdays: weekdayBits, minutes: minutes),
            ]
        }
    }

    private static func values(_ part: String, _ field: Field) throws(Problem) -> Set<Int> {
        var values: Set<Int> = []
        for item in part.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw Problem(message: "empty list item in the \(field.name) field '\(part)'") }
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw Problem(message: "more than one '/' in the \(field.name) field '\(item)'") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1, number <= field.range.upperBound + 1 else {
                    throw Problem(message: "the step '\(pieces[1])' in the \(field.name) field must be a number from 1 to \(field.range.upperBound + 1)")
                }
                step = number
            }
            let span = pieces[0]
            let low: Int
            let high: Int
            if span == "*" {
                (low, high) = (field.range.lowerBound, field.range.upperBound)
            } else {
                let ends = span.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw Problem(message: "'\(span)' in the \(field.name) field is not a range a-b") }
                low = try value(ends[0], field)
                high = ends.count == 2 ? try value(ends[1], field) : (pieces.count == 2 ? field.range.upperBound : low)
                guard low <= high else {
                    throw Problem(message: "the range '\(span)' in the \(field.name) field runs backwards")
                }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, _ field: Field) throws(Problem) -> Int {
        if let index = field.names.firstIndex(of: text.uppercased()) { return index + (field.range.lowerBound == 1 ? 1 : 0) }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let number = Int(text), field.range.contains(number) else {
            let names = field.names.isEmpty ? "" : " or a name (\(field.names.first ?? "")…\(field.names.last ?? ""))"
            throw Problem(
                message: "'\(text)' in the \(field.name) field must be a number from \(field.range.lowerBound) to \(field.range.upperBound)\(names)")
        }
        return number
    }
}
