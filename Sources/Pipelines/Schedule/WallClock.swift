import Foundation

/// Wall-clock time in one time zone, as whole minutes counted like Unix time (the local date and time read
/// as if it were UTC), and its mapping to instants. A wall time that a daylight-saving change skips has no
/// instant; one that the change repeats maps to its first occurrence. That is what systemd's calendar
/// timers do, so `schedule show` and the generated timers name the same slots.
public struct WallClock: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// The local wall-clock minute an instant falls in.
    func minute(of instant: Date) -> Int64 {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        let local = seconds + Int64(timeZone.secondsFromGMT(for: instant))
        return Self.floorDivide(local, 60)
    }

    /// The first instant showing `minute` on the zone's clocks, or nil when a daylight-saving change skips it.
    func instant(ofMinute minute: Int64) -> Date? {
        let local = minute * 60
        let before = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - 86_400))))
        let after = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local + 86_400))))
        let candidates = Set([before, after]).map { local - $0 }.sorted()
        for candidate in candidates {
            let instant = Date(timeIntervalSince1970: Double(candidate))
            if Int64(timeZone.secondsFromGMT(for: instant)) == local - candidate { return instant }
        }
        return nil
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }
}

/// A day of the proleptic Gregorian calendar, counted from 1970-01-01, with its fields.
struct CivilDay: Sendable, Equatable {
    let number: Int64
    let year: Int
    let month: Int
    let day: Int
    /// 0 is Sunday, as in cron.
    let weekday: Int

    init(number: Int64) {
        self.number = number
        // Howard Hinnant's civil_from_days.
        let z = number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        weekday = Int(((number % 7) + 11) % 7)
    }

    static func containing(minute: Int64) -> CivilDay {
        CivilDay(number: WallClock.floorDivide(minute, 1440))
    }

    var firstMinute: Int64 { number * 1440 }
}
