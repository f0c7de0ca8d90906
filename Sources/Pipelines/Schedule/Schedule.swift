import Foundation

/// A pipeline file's `schedule:`: when its runs are due (every N minutes, at fixed times of day, or a cron
/// expression), in which time zone, inside which window, and what happens to slots missed while nothing
/// ran. Slots are wall-clock minutes of the zone (see `WallClock` for daylight-saving changes).
public struct Schedule: Sendable {
    public enum Trigger: Sendable, Equatable {
        /// Minutes that divide a day: slots at local midnight and every `minutes` after.
        case every(minutes: Int)
        /// Minutes of the day.
        case at([Int])
        case cron(String)
    }

    public enum CatchUp: String, Sendable, CaseIterable {
        /// After downtime the latest slot runs once; earlier missed slots are skipped.
        case latest
        /// Every missed slot runs, oldest first.
        case all
        /// A slot runs only on time (within `grace`); missed ones are skipped.
        case none
    }

    public let trigger: Trigger
    public let zone: TimeZoneID
    public let window: ScheduleWindow?
    public let catchUp: CatchUp
    /// How late a slot may start and still count as on time (for `catch_up: none`).
    public let grace: Duration
    /// systemd's `RandomizedDelaySec=`: timers fire up to this much after the slot.
    public let randomDelay: Duration
    /// Params the slot sets, as written (`{ day: "${SCHEDULED_DATE}" }`), with their places.
    let params: [(name: String, node: YAMLNode)]
    public let location: SourceLocation
    let triggerRules: [CalendarRule]
    let rules: [CalendarRule]
    let clock: WallClock

    /// The most slots one catch-up runs; older missed slots are reported and skipped.
    public static let catchUpLimit = 1000
    /// How far slot searches look: a cron day such as 29 February comes at least every 8 years.
    static let searchDays: Int64 = 366 * 9

    init(
        trigger: Trigger, triggerRules: [CalendarRule], zone: TimeZoneID, window: ScheduleWindow?, catchUp: CatchUp,
        grace: Duration, randomDelay: Duration, params: [(name: String, node: YAMLNode)], location: SourceLocation
    ) {
        self.trigger = trigger
        self.zone = zone
        self.window = window
        self.catchUp = catchUp
        self.grace = grace
        self.randomDelay = randomDelay
        self.params = params
        self.location = location
        self.triggerRules = triggerRules
        self.rules = triggerRules.map { window?.restrict($0) ?? $0 }.filter { !$0.isEmpty }
        clock = WallClock(timeZone: zone.timeZone)
    }

    public var paramNames: [String] { params.map(\.name) }

    // MARK: - Slots

    /// Up to `limit` slots after `instant` (not at it), up to `until` when given. `windowed: false` ignores the window.
    public func slots(after instant: Date, limit: Int, until: Date? = nil, windowed: Bool = true) -> [Date] {
        let rules = windowed ? rules : triggerRules
        var slots: [Date] = []
        let first = CivilDay.containing(minute: clock.minute(of: instant)).number - 1
        let end = until.map { CivilDay.containing(minute: clock.minute(of: $0)).number + 1 } ?? Int64.max
        var number = first
        // A search gives up only after `searchDays` without a slot, so that leap days keep coming.
        var lastFound = first
        while number <= end, number - lastFound <= Self.searchDays, slots.count < limit {
            let day = CivilDay(number: number)
            for minute in Self.minutes(of: day, rules) {
                guard let slot = clock.instant(ofMinute: day.firstMinute + Int64(minute)), slot > instant else { continue }
                if let until, slot > until { return slots }
                slots.append(slot)
                lastFound = number
                if slots.count == limit { break }
            }
            number += 1
        }
        return slots
    }

    /// The latest slot at or before `instant`.
    public func latestSlot(atOrBefore instant: Date, windowed: Bool = true) -> Date? {
        let rules = windowed ? rules : triggerRules
        let last = CivilDay.containing(minute: clock.minute(of: instant)).number + 1
        var number = last
        while number >= last - Self.searchDays {
            let day = CivilDay(number: number)
            for minute in Self.minutes(of: day, rules).reversed() {
                if let slot = clock.instant(ofMinute: day.firstMinute + Int64(minute)), slot <= instant { return slot }
            }
            number -= 1
        }
        return nil
    }

    /// Whether `instant` is a slot of the trigger (ignoring the window unless `windowed`).
    public func isSlot(_ instant: Date, windowed: Bool = false) -> Bool {
        let minute = clock.minute(of: instant)
        let day = CivilDay.containing(minute: minute)
        let rules = windowed ? rules : triggerRules
        return clock.instant(ofMinute: minute) == instant
            && Self.minutes(of: day, rules).contains(Int(minute - day.firstMinute))
    }

    /// Whether `instant` lies inside the window (always, without one).
    public func isInWindow(_ instant: Date) -> Bool {
        window?.contains(minute: clock.minute(of: instant)) ?? true
    }

    static func minutes(of day: CivilDay, _ rules: [CalendarRule]) -> [Int] {
        let applying = rules.filter { $0.applies(to: day) }
        guard let first = applying.first else { return [] }
        return applying.dropFirst().reduce(first.minutes) { $0.union($1.minutes) }.ascending
    }

    // MARK: - Text

    /// `every 30m, Mon,Tue,Wed,Thu,Fri 09:00-19:00, America/Los_Angeles, catch_up latest`.
    public var summary: String {
        var parts: [String] =
            switch trigger {
            case .every(let minutes): ["every \(Duration.seconds(minutes * 60).text)"]
            case .at(let times): ["at " + times.map(ScheduleWindow.clockText).joined(separator: ", ")]
            case .cron(let text): ["cron \"\(text)\""]
            }
        if let window, !window.summary.isEmpty { parts.append("window " + window.summary) }
        parts.append(zone.identifier)
        parts.append("catch_up \(catchUp.rawValue)")
        return parts.joined(separator: ", ")
    }

    /// The slot as the zone's clocks show it, with its offset: `2026-03-08T01:30:00-08:00`.
    public func localText(_ slot: Date) -> String {
        let offset = zone.timeZone.secondsFromGMT(for: slot)
        let minute = clock.minute(of: slot)
        let day = CivilDay.containing(minute: minute)
        let clockText = ScheduleWindow.clockText(Int(minute - day.firstMinute))
        let zoneText =
            offset == 0
            ? "Z" : String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", abs(offset) / 3600, abs(offset) % 3600 / 60)
        return "\(Self.dateText(day))T\(clockText):00\(zoneText)"
    }

    /// The slot's date in the zone: `2026-03-08`.
    public func localDate(_ slot: Date) -> String {
        Self.dateText(CivilDay.containing(minute: clock.minute(of: slot)))
    }

    /// `Sun 2026-03-08 01:30 -08:00`, for people.
    public func displayText(_ slot: Date) -> String {
        let minute = clock.minute(of: slot)
        let day = CivilDay.containing(minute: minute)
        let local = localText(slot)
        return "\(ScheduleWindow.dayNames[day.weekday]) \(Self.dateText(day)) \(ScheduleWindow.clockText(Int(minute - day.firstMinute))) \(local.dropFirst(19))"
    }

    /// UTC, ISO 8601, as slots are recorded: `2026-03-08T09:30:00Z`.
    public static func utcText(_ slot: Date) -> String {
        let minute = WallClock.floorDivide(Int64(slot.timeIntervalSince1970.rounded(.down)), 60)
        let day = CivilDay.containing(minute: minute)
        return "\(dateText(day))T\(ScheduleWindow.clockText(Int(minute - day.firstMinute))):00Z"
    }

    static func dateText(_ day: CivilDay) -> String {
        String(format: "%04d-%02d-%02d", day.year, day.month, day.day)
    }

    /// The values a slot gives `${SCHEDULED_TIME}`, `${SCHEDULED_DATE}` and `${SCHEDULED_TIME_UTC}`.
    public func variables(for slot: Date) -> [String: String] {
        ["SCHEDULED_TIME": localText(slot), "SCHEDULED_DATE": localDate(slot), "SCHEDULED_TIME_UTC": Self.utcText(slot)]
    }
}
