import Foundation
import Pipelines
import Testing

/// The systemd units and crontab lines `pipeline schedule` writes, checked by systemd's own tools and by
/// the shell.
@Suite(.timeLimit(.minutes(3))) struct ScheduleUnitsTests {
    static let schedules = [
        ("business-hours", "every: 30m\n  timezone: America/Los_Angeles\n  window: { days: Mon-Fri, hours: \"09:15-18:45\" }"),
        ("dst-every", "every: 30m\n  timezone: America/Los_Angeles"),
        ("dst-daily", "at: [\"01:30\", \"02:30\"]\n  timezone: America/Los_Angeles"),
        ("nairobi-cron", "cron: \"15,45 8-17/3 1,15 * Mon\"\n  timezone: Africa/Nairobi"),
        ("leap", "cron: \"0 12 29 2 *\"\n  timezone: UTC"),
        ("weekend-window", "cron: \"*/20 * * * *\"\n  timezone: Europe/Berlin\n  window: { days: Sat-Sun, hours: \"22:00-24:00\" }"),
    ]
    static let baseTimes = ["2026-03-06T18:00:00Z", "2026-03-08T08:50:00Z", "2026-10-31T23:00:00Z", "2026-11-01T07:50:00Z"]

    static func write(_ name: String, _ schedule: String, in scratch: Scratch) throws -> String {
        try scratch.write(
            "\(name).yaml",
            "name: \(name)\nschedule:\n  \(schedule)\nstages:\n  - { id: a, uses: sql.run, with: { sql: \"SELECT 1\" } }\n")
    }

    /// The next `count` elapses after `base` of all the timer's `OnCalendar=` lines together, by systemd.
    static func systemdElapses(_ timer: String, after base: String, count: Int) throws -> [String] {
        let expressions = timer.split(separator: "\n").filter { $0.hasPrefix("OnCalendar=") }.map { String($0.dropFirst(11)) }
        var elapses: [String] = []
        let baseText = base.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
        for expression in expressions {
            let result = try ExternalTool.run(
                ["systemd-analyze", "calendar", "--iterations=\(count)", "--base-time=\(baseText)", expression],
                environment: ["TZ": "UTC"])
            #expect(result.status == 0, "systemd-analyze calendar '\(expression)': \(result.stderr)")
            for line in result.stdout.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("Next elapse:") || trimmed.hasPrefix("Iter. #") else { continue }
                let words = trimmed.split(separator: " ")
                guard words.count >= 4, words.last == "UTC" else { continue }
                elapses.append("\(words[words.count - 3])T\(words[words.count - 2])Z")
            }
        }
        return Array(Set(elapses).sorted().prefix(count))
    }

    @Test(arguments: schedules)
    func systemdAgreesWithScheduleShowOnTheNextTenSlots(name: String, schedule: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try Self.write(name, schedule, in: scratch)
        let written = try PipelineProcess.run(["schedule", "systemd", file, "--out", scratch.file("units")])
        #expect(written.status == 0, "\(written.stderr)")
        let timer = try scratch.read("units/pipeline-\(name).timer")
        let verify = try ExternalTool.run([
            "systemd-analyze", "verify", scratch.file("units/pipeline-\(name).timer"), scratch.file("units/pipeline-\(name).service"),
        ])
        // Only what it says of our units counts: on some machines it also warns about units of the system's own.
        #expect(verify.status == 0 && !verify.stderr.contains("pipeline-"), "systemd-analyze verify: \(verify.stderr)")
        for base in Self.baseTimes {
            let shown = try PipelineProcess.run(["schedule", "show", file, "--from", base, "--count", "10"])
            #expect(shown.status == 0, "\(shown.stderr)")
            let ours = shown.stdout.split(separator: "\n").drop { !$0.hasPrefix("next 10 slots") }.dropFirst()
                .compactMap { $0.split(separator: " ").last.map(String.init) }
            #expect(ours.count == 10)
            #expect(try Self.systemdElapses(timer, after: base, count: 10) == ours, "\(name) from \(base)")
        }
    }

    @Test func theUnitsRunTheFileKeepTryLaterFromFailingAndInstallOffline() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try Self.write(
            "nightly", "at: \"02:00\"\n  timezone: America/Los_Angeles\n  catch_up: none\n  random_delay: 5m", in: scratch)
        let root = scratch.file("root")
        let installed = try PipelineProcess.run(["schedule", "systemd", file, "--install", "--root", root])
        #expect(installed.status == 0, "\(installed.stderr)")
        let unitFolder = root + "/etc/systemd/system"
        let service = try String(contentsOfFile: unitFolder + "/pipeline-nightly.service", encoding: .utf8)
        let timer = try String(contentsOfFile: unitFolder + "/pipeline-nightly.timer", encoding: .utf8)
        #expect(service.contains("\nExecStart=\(PipelineProcess.binary) run \(file)\n") || service.contains(" run \(file)\n"))
        #expect(service.contains("\nSuccessExitStatus=75 143\n"))
        #expect(service.contains("\nWorkingDirectory=\(scratch.path)\n"))
        #expect(timer.contains("\nOnCalendar=*-*-* 02:00:00 America/Los_Angeles\n"))
        #expect(timer.contains("\nPersistent=false\n") && timer.contains("\nRandomizedDelaySec=300\n"))
        let link = unitFolder + "/timers.target.wants/pipeline-nightly.timer"
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link).hasSuffix("pipeline-nightly.timer"))
        #expect(installed.stdout.contains("enabled pipeline-nightly.timer"))
    }

    @Test func theCrontabLineRunsDueThroughTheShellWithAwkwardPaths() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("it's 100% shop"), withIntermediateDirectories: true)
        let file = try scratch.write(
            "it's 100% shop/poll.yaml",
            "name: poll\nschedule: { every: 15m, timezone: Africa/Nairobi }\nstages:\n  - { id: a, uses: sql.run, with: { sql: \"SELECT 1\" } }\n")
        let printed = try PipelineProcess.run(["schedule", "cron", file])
        #expect(printed.status == 0)
        let entry = try #require(printed.stdout.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty })
        #expect(entry.hasPrefix("* * * * * cd "))
        #expect(entry.contains("100\\% shop"))
        // What cron hands the shell: `\%` becomes `%`.
        let command = String(entry.dropFirst(10)).replacingOccurrences(of: "\\%", with: "%")
        let first = try ExternalTool.run(["sh", "-c", command])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("finished"))
        let second = try ExternalTool.run(["sh", "-c", command])
        #expect(second.status == 0 && second.stderr.isEmpty && second.stdout.isEmpty)
    }
}
