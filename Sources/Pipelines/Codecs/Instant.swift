import Foundation

/// An instant as whole seconds since 1970-01-01T00:00:00Z, read from the timestamp texts shops and
/// payment gateways write and written back as `YYYY-MM-DDTHH:MM:SSZ`. Calendar arithmetic is integer
/// (days from the civil date), so a million orders need no date formatter.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public init(_ date: Date) { seconds = Int64(date.timeIntervalSince1970.rounded(.down)) }

    public static func < (left: Instant, right: Instant) -> Bool { left.seconds < right.seconds }

    /// Now, or `SOURCE_DATE_EPOCH` when it is set (reproducible runs and tests).
    public static func now() throws -> Instant {
        try SourceDateEpoch.seconds().map(Instant.init(seconds:)) ?? Instant(Date())
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`: what the store keeps; its text order is its time order.
    public var iso: String {
        let (days, second) = seconds.floorDivided(by: 86_400)
        let date = Self.civil(days: days)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", date.year, date.month, date.day, second / 3600, second % 3600 / 60, second % 60)
    }

    public var description: String { iso }

    /// The calendar date this instant falls on in `zone`.
    public func localDate(in zone: TimeZone) -> CalendarDate {
        let offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        return Self.civil(days: (seconds + offset).floorDivided(by: 86_400).quotient)
    }

    /// The calendar date in the zone of `days`, which answers repeated questions quickly.
    public func localDate(in days: LocalDays) -> CalendarDate { days.date(of: self) }

    /// The first instant of `date` in `zone` (midnight, or the first moment after a gap at midnight).
    public static func startOfDay(_ date: CalendarDate, in zone: TimeZone) -> Instant {
        local(days: days(of: date), secondOfDay: 0, in: zone)
    }

    /// Reads `2024-01-15 10:32:11 -0500`, `2024-01-15T10:32:11Z`, `2024-01-15T10:32:11.000+03:00`, and
    /// a time without an offset (`2024-01-15 10:32:11`) or a bare date (midnight) as local time in `zone`.
    /// Fractions of a second are dropped. Nil for anything else.
    public static func parse(_ text: some StringProtocol, zone: TimeZone) -> Instant? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, bytes.count <= 40 else { return nil }
        var index = 0
        func number(_ count: Int, max: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value <= max ? value : nil
        }
        func separator(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4, max: 9999), separator(UInt8(ascii: "-")), let month = number(2, max: 12), separator(UInt8(ascii: "-")),
            let day = number(2, max: 31), let date = CalendarDate(year: year, month: month, day: day)
        else { return nil }
        if bytes.count == 10 { return startOfDay(date, in: zone) }
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes.count >= 16 else { return nil }
        index = 11
        guard let hour = number(2, max: 23), index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
        index += 1
        guard let minute = number(2, max: 59) else { return nil }
        var second = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            guard let value = number(2, max: 60) else { return nil }
            second = min(value, 59)
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let start = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > start else { return nil }
            }
        }
        let secondOfDay = Int64(hour * 3600 + minute * 60 + second)
        if index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        if index == bytes.count { return local(days: days(of: date), secondOfDay: secondOfDay, in: zone) }
        let offset: Int64
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
            offset = 0
        } else {
            guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2, max: 18) else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") { index += 1 }
            guard let minutes = number(2, max: 59) else { return nil }
            offset = sign * Int64(hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else { return nil }
        return Instant(seconds: days(of: date) * 86_400 + secondOfDay - offset)
    }

    /// Local wall-clock time in `zone` as an instant: the offset is found for the instant itself, so
    /// a time in a daylight-saving gap moves forward and one in an overlap takes the earlier offset.
    private static func local(days: Int64, secondOfDay: Int64, in zone: TimeZone) -> Instant {
        let wall = days * 86_400 + secondOfDay
        var offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall))))
        offset = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(wall - offset))))
        return Instant(seconds: wall - offset)
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    public static func days(of date: CalendarDate) -> Int64 {
        let year = Int64(date.month <= 2 ? date.year - 1 : date.year)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let month = Int64(date.month)
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + Int64(date.day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date `days` after 1970-01-01, clamped to years 1…9999.
    public static func civil(days: Int64) -> CalendarDate {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        return CalendarDate(valid: min(max(year, 1), 9999), month, day)
    }
}

extension Int64 {
    /// Division rounding toward −∞, with a remainder that is never negative.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}

/// The local calendar days of one zone, for many instants: the zone's offset is asked of the time zone
/// database once per UTC day (and kept for days with no transition in them), not once per instant.
public final class LocalDays {
    public let zone: TimeZone
    private var offsets: [Int64: Int64] = [:]

    public init(_ zone: TimeZone) { self.zone = zone }

    public func date(of instant: Instant) -> CalendarDate {
        let day = instant.seconds.floorDivided(by: 86_400).quotient
        let offset: Int64
        if let known = offsets[day] {
            offset = known
        } else {
            let start = Date(timeIntervalSince1970: TimeInterval(day * 86_400))
            let first = Int64(zone.secondsFromGMT(for: start))
            let end = TimeInterval((day + 1) * 86_400)
            let changes =
                zone.nextDaylightSavingTimeTransition(after: start).map { $0.timeIntervalSince1970 < end } ?? false
                || Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: end - 1))) != first
            if changes || offsets.count > 100_000 { return instant.localDate(in: zone) }
            offsets[day] = first
            offset = first
        }
        return Instant.civil(days: (instant.seconds + offset).floorDivided(by: 86_400).quotient)
    }
}
