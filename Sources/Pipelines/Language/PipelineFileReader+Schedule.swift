import Foundation

/// Which slot of its schedule a pipeline is loaded for: `slot` when given, else the latest slot of the
/// trigger at or before `now` (ignoring the window; the scheduler decides what is due).
public struct SlotChoice: Sendable {
    public var now: Date
    public var slot: Date?

    public init(now: Date = Date(), slot: Date? = nil) {
        self.now = now
        self.slot = slot
    }
}

extension PipelineFileReader {
    static let scheduleKeys = ["every", "at", "cron", "timezone", "window", "catch_up", "grace", "random_delay", "params"]

    /// `schedule: { every: 30m | at: "02:00" | cron: "...", timezone, window: { days, hours }, catch_up, grace,
    /// random_delay, params }`.
    mutating func readSchedule(_ entry: Entry?) -> Schedule? {
        guard let entry, !entry.value.isNull else { return nil }
        guard case .mapping(let pairs) = entry.value.value else {
            report(entry.value.location, "'schedule' must be a mapping such as { every: 30m, timezone: UTC }, found \(entry.value.kindDescription)")
            return nil
        }
        let fields = entries(of: pairs, allowed: Self.scheduleKeys, place: " in 'schedule'")
        let triggers = ["every", "at", "cron"].compactMap { fields[$0] }
        guard triggers.count == 1, let triggerEntry = triggers.first else {
            let place = triggers.count > 1 ? triggers[1].key.location : entry.key.location
            report(place, "a schedule takes exactly one of 'every', 'at' and 'cron'")
            return nil
        }
        let context = ParameterContext(baseDirectory: baseDirectory)
        let zone = fields["timezone"].flatMap { decodeValue(TimeZoneID.self, $0, context) } ?? .utc
        let catchUp = fields["catch_up"].flatMap { field -> Schedule.CatchUp? in
            guard let text = text(field) else { return nil }
            guard let value = Schedule.CatchUp(rawValue: text) else {
                let words = Schedule.CatchUp.allCases.map(\.rawValue)
                report(field.value.location, "'catch_up' must be one of \(words.joined(separator: ", ")), found '\(text)'" + Suggestion.hint(for: text, among: words))
                return nil
            }
            return value
        } ?? .latest
        let randomDelay = fields["random_delay"].flatMap { decodeValue(Duration.self, $0, context) } ?? .zero
        let grace = fields["grace"].flatMap { decodeValue(Duration.self, $0, context) } ?? randomDelay + .seconds(600)
        let window = fields["window"].flatMap { readWindow($0) }
        let params = fields["params"].map { readScheduleParams($0) } ?? []
        guard let (trigger, rules) = readTrigger(triggerEntry) else { return nil }
        let schedule = Schedule(
            trigger: trigger, triggerRules: rules, zone: zone, window: window, catchUp: catchUp, grace: grace,
            randomDelay: randomDelay, params: params, location: entry.key.location)
        if schedule.slots(after: Date(), limit: 1).isEmpty {
            report(
                triggerEntry.value.location,
                window == nil ? "this schedule never fires" : "no slot of this schedule falls inside its window")
        }
        return schedule
    }

    mutating func decodeValue<Value: ParameterValue>(_ type: Value.Type, _ entry: Entry, _ context: ParameterContext) -> Value? {
        do {
            return try Value.decode(entry.value, in: context)
        } catch {
            report(entry.value.location, "'\(entry.name)': \(error.message)")
            return nil
        }
    }

    private mutating func readTrigger(_ entry: Entry) -> (Schedule.Trigger, [CalendarRule])? {
        switch entry.name {
        case "every":
            guard let duration = decodeValue(Duration.self, entry, ParameterContext(baseDirectory: baseDirectory)) else { return nil }
            let milliseconds = duration.milliseconds
            guard milliseconds % 60_000 == 0, milliseconds > 0, 86_400_000 % milliseconds == 0 else {
                report(entry.value.location, "'every' must be whole minutes that divide a day evenly (1m, 5m, 15m, 30m, 1h, 2h, 6h, 12h, 24h…), found '\(duration.text)'")
                return nil
            }
            let step = Int(milliseconds / 60_000)
            return (.every(minutes: step), [CalendarRule(minutes: MinuteSet(stride(from: 0, to: 1440, by: step)))])
        case "at":
            var items: [YAMLNode] = [entry.value]
            if case .sequence(let nodes) = entry.value.value { items = nodes }
            var times: [Int] = []
            for item in items {
                guard let text = item.scalarText, let minute = ScheduleWindow.minuteOfDay(Substring(text)), minute < 1440 else {
                    report(item.location, "'at' takes times of day such as \"02:00\" (or a list of them), found \(item.scalarText.map { "'\($0)'" } ?? item.kindDescription)")
                    return nil
                }
                times.append(minute)
            }
            guard !times.isEmpty else {
                report(entry.value.location, "'at' needs at least one time of day")
                return nil
            }
            let sorted = Array(Set(times)).sorted()
            return (.at(sorted), [CalendarRule(minutes: MinuteSet(sorted))])
        default:
            guard let text = text(entry) else { return nil }
            do {
                let expression = try CronExpression(text)
                return (.cron(text), expression.rules)
            } catch {
                report(entry.value.location, error.message)
                return nil
            }
        }
    }

    private mutating func readWindow(_ entry: Entry) -> ScheduleWindow? {
        guard case .mapping(let pairs) = entry.value.value else {
            report(entry.value.location, "'window' must be a mapping such as { days: Mon-Fri, hours: \"09:00-19:00\" }, found \(entry.value.kindDescription)")
            return nil
        }
        let fields = entries(of: pairs, allowed: ["days", "hours"], place: " in 'window'")
        var weekdays = CalendarRule.allWeekdays
        var hours = (start: 0, end: 1440)
        if let days = fields["days"], let text = text(days) {
            do { weekdays = try ScheduleWindow.weekdays(text) } catch { report(days.value.location, error.message) }
        }
        if let entry = fields["hours"], let text = text(entry) {
            do { hours = try ScheduleWindow.hours(text) } catch { report(entry.value.location, error.message) }
        }
        return ScheduleWindow(weekdays: weekdays, start: hours.start, end: hours.end)
    }

    private mutating func readScheduleParams(_ entry: Entry) -> [(name: String, node: YAMLNode)] {
        guard case .mapping(let pairs) = entry.value.value else {
            report(entry.value.location, "the schedule's 'params' must be a mapping such as { day: \"${SCHEDULED_DATE}\" }, found \(entry.value.kindDescription)")
            return []
        }
        var params: [(name: String, node: YAMLNode)] = []
        for (key, value) in pairs {
            guard let name = key.scalarText, value.scalarText != nil else {
                report(value.location, "a schedule param is a name and a string value")
                continue
            }
            if !params.contains(where: { $0.name == name }) { params.append((name, value)) }
        }
        return params
    }

    /// The slot the file is loaded for, and the param values the schedule gives it (declared params only;
    /// the others are reported at their key).
    mutating func chooseSlot(
        _ schedule: Schedule?, _ choice: SlotChoice, declared: [String], environment: inout [String: String],
        at location: SourceLocation
    ) -> (slot: Date?, overrides: [(name: String, value: String)]) {
        guard let schedule else {
            if choice.slot != nil { report(location, "--slot needs a schedule, and this file has no 'schedule'") }
            return (nil, [])
        }
        if let wanted = choice.slot, !schedule.isSlot(wanted) {
            let before = schedule.latestSlot(atOrBefore: wanted, windowed: false)
            let after = schedule.slots(after: wanted, limit: 1, windowed: false).first
            let nearest = [before, after].compactMap { $0 }.map(Schedule.utcText).joined(separator: " and ")
            report(schedule.location, "\(Schedule.utcText(wanted)) is not a slot of this schedule (\(schedule.summary)); the nearest: \(nearest)")
            return (nil, [])
        }
        guard let slot = choice.slot ?? schedule.latestSlot(atOrBefore: choice.now, windowed: false)
            ?? schedule.slots(after: choice.now, limit: 1, windowed: false).first
        else { return (nil, []) }
        environment.merge(schedule.variables(for: slot)) { _, slotValue in slotValue }
        let interpolator = Interpolator(environment: environment)
        var overrides: [(name: String, value: String)] = []
        for (name, node) in schedule.params {
            guard declared.contains(name) else {
                report(node.location, "the schedule sets param '\(name)', which 'params' does not declare" + Suggestion.hint(for: name, among: declared))
                continue
            }
            let substitution = interpolator.substitute(node)
            diagnostics += substitution.diagnostics
            overrides.append((name, substitution.node.scalarText ?? ""))
        }
        return (slot, overrides)
    }
}
