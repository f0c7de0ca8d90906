import Foundation

/// The systemd units and crontab lines that run a scheduled pipeline: a `.timer` whose `OnCalendar=` lines
/// name exactly the schedule's slots, and a `.service` that runs `pipeline run FILE`; or one crontab line
/// that runs `pipeline due FILE` every minute (cron knows no time zones or windows; `due` does).
public struct ScheduleUnits: Sendable {
    public let pipeline: Pipeline
    public let schedule: Schedule
    /// The absolute path of the `pipeline` executable, and of the pipeline file.
    public let executable: String
    public let file: String
    /// User units (`systemctl --user`): no network-online target there.
    public let user: Bool

    public init(pipeline: Pipeline, executable: String, user: Bool) throws(PipelineError) {
        guard let schedule = pipeline.schedule else { throw PipelineError(.config, "\(pipeline.file) has no 'schedule'") }
        self.pipeline = pipeline
        self.schedule = schedule
        self.executable = executable
        file = pipeline.file.hasPrefix("/") ? pipeline.file : pipeline.baseDirectory + "/" + FileSupport.fileName(of: pipeline.file)
        self.user = user
    }

    public var unitName: String { "pipeline-\(pipeline.name)" }

    public var service: String {
        var lines = ["[Unit]", "Description=pipeline \(Self.escaped(pipeline.name)) (\(Self.escaped(file)))"]
        if !user { lines += ["Wants=network-online.target", "After=network-online.target"] }
        lines += [
            "", "[Service]", "Type=oneshot", "WorkingDirectory=\(Self.escaped(pipeline.baseDirectory))",
            "ExecStart=\(Self.quoted(executable)) run \(Self.quoted(file))",
            "# 75: another run holds the slot, try later; 143: stopped by SIGTERM, resumes at the next start",
            "SuccessExitStatus=75 143",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    public var timer: String {
        var lines = ["[Unit]", "Description=\(Self.escaped(schedule.summary)): pipeline \(Self.escaped(pipeline.name))", "", "[Timer]"]
        lines += onCalendar.map { "OnCalendar=\($0)" }
        lines.append("Persistent=\(schedule.catchUp == .none ? "false" : "true")")
        lines.append("AccuracySec=1s")
        if schedule.randomDelay > .zero { lines.append("RandomizedDelaySec=\(Int64(schedule.randomDelay.timeInterval))") }
        lines += ["Unit=\(unitName).service", "", "[Install]", "WantedBy=timers.target"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// systemd calendar expressions whose union is the schedule's slots: one per rule and per group of hours
    /// sharing their minutes, e.g. `Mon,Tue,Wed,Thu,Fri *-*-* 09..18:00,30:00 America/Los_Angeles`.
    public var onCalendar: [String] {
        var expressions: [String] = []
        for rule in schedule.rules {
            let weekdays =
                rule.weekdays == CalendarRule.allWeekdays ? "" : ScheduleWindow.daysText(rule.weekdays) + " "
            let months = rule.months == CalendarRule.allMonths ? "*" : Self.list((1...12).filter { rule.months & (1 << UInt16($0)) != 0 })
            let days = rule.days == CalendarRule.allDays ? "*" : Self.list((1...31).filter { rule.days & (1 << UInt32($0)) != 0 })
            var groups: [(hours: [Int], minutes: [Int])] = []
            let byHour = Dictionary(grouping: rule.minutes.ascending, by: { $0 / 60 })
            for hour in byHour.keys.sorted() {
                let minutes = (byHour[hour] ?? []).map { $0 % 60 }
                if let index = groups.firstIndex(where: { $0.minutes == minutes }) {
                    groups[index].hours.append(hour)
                } else {
                    groups.append(([hour], minutes))
                }
            }
            for group in groups {
                let hours = group.hours.count == 24 ? "*" : Self.list(group.hours)
                let minutes = group.minutes.count == 60 ? "*" : Self.list(group.minutes)
                expressions.append("\(weekdays)*-\(months)-\(days) \(hours):\(minutes):00 \(schedule.zone.identifier)")
            }
        }
        return expressions
    }

    /// The crontab entry: every minute, `pipeline due FILE`, which is quiet when nothing is due.
    public var crontab: String {
        let command = "cd \(Self.shellQuoted(pipeline.baseDirectory)) && \(Self.shellQuoted(executable)) due \(Self.shellQuoted(file))"
        return """
            # pipeline \(pipeline.name) (\(file)): \(schedule.summary)
            # Cron has no time zones or windows: `pipeline due` runs every minute and starts the slots that are due
            # in the schedule's time zone, catches up after downtime, never overlaps a running slot, and prints
            # nothing when nothing is due.
            * * * * * \(command.replacingOccurrences(of: "%", with: "\\%"))

            """
    }

    /// Two-digit numbers, runs of three or more as `a..b`: `09..18`, `00,30`.
    static func list(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
            if end - index >= 2 {
                parts.append("\(two(numbers[index]))..\(two(numbers[end]))")
            } else {
                parts += numbers[index...end].map(two)
            }
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// A value systemd reads literally: `%` specifiers and `$` variables escaped.
    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// A word of `ExecStart=` or a path setting, in double quotes when it holds a space or a quote.
    static func quoted(_ text: String) -> String {
        let escaped = escaped(text).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return escaped.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" }) ? "\"\(escaped)\"" : escaped
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
