import Foundation
import Testing

@testable import Pipelines

/// Slots against known instants: daylight-saving changes, a zone without them, month ends, leap days,
/// every cron field form, windows.
@Suite(.timeLimit(.minutes(1))) struct ScheduleSlotTests {
    static func schedule(_ lines: String, slot: Date? = nil) throws -> Schedule {
        let pipeline = try LanguageFixtures.loader.load(
            contents: Array("name: s\nschedule:\n\(lines)\nstages:\n  - { id: a, uses: echo, with: { message: hi } }\n".utf8),
            file: "s.yaml", baseDirectory: "/srv", environment: [:], slot: SlotChoice(slot: slot))
        return try #require(pipeline.schedule)
    }

    static func at(_ text: String) throws -> Date { try #require(DateTime(text)).date }

    static func next(_ schedule: Schedule, after text: String, _ count: Int) throws -> [String] {
        schedule.slots(after: try at(text), limit: count).map(Schedule.utcText)
    }

    @Test func aDailySlotInTheSkippedHourOfMarchIsSkippedThatDay() throws {
        let daily = try Self.schedule("  at: \"02:30\"\n  timezone: America/Los_Angeles")
        #expect(try Self.next(daily, after: "2026-03-06T00:00:00Z", 4) == [
            "2026-03-06T10:30:00Z", "2026-03-07T10:30:00Z", "2026-03-09T09:30:00Z", "2026-03-10T09:30:00Z",
        ])
    }

    @Test func thirtyMinuteSlotsJumpTheSkippedHourAndRunTheRepeatedHourOnce() throws {
        let every = try Self.schedule("  every: 30m\n  timezone: America/Los_Angeles")
        #expect(try Self.next(every, after: "2026-03-08T09:20:00Z", 3) == [
            "2026-03-08T09:30:00Z", "2026-03-08T10:00:00Z", "2026-03-08T10:30:00Z",
        ])
        // 01:00 and 01:30 happen twice on 1 November; the slots are their first occurrences (PDT).
        #expect(try Self.next(every, after: "2026-11-01T07:50:00Z", 4) == [
            "2026-11-01T08:00:00Z", "2026-11-01T08:30:00Z", "2026-11-01T10:00:00Z", "2026-11-01T10:30:00Z",
        ])
        let daily = try Self.schedule("  at: \"01:30\"\n  timezone: America/Los_Angeles")
        #expect(try Self.next(daily, after: "2026-10-31T00:00:00Z", 3) == [
            "2026-10-31T08:30:00Z", "2026-11-01T08:30:00Z", "2026-11-02T09:30:00Z",
        ])
        #expect(daily.localText(try Self.at("2026-11-01T08:30:00Z")) == "2026-11-01T01:30:00-07:00")
    }

    @Test func aBusinessHoursWindowStaysAtLocalHoursAcrossTheChange() throws {
        let window = try Self.schedule(
            "  every: 30m\n  timezone: America/Los_Angeles\n  window: { days: Mon-Fri, hours: \"09:00-19:00\" }")
        // Friday 6 March (PST) ends at 18:30 local; Monday 9 March (PDT) starts at 09:00 local.
        #expect(try Self.next(window, after: "2026-03-07T02:00:00Z", 3) == [
            "2026-03-07T02:30:00Z", "2026-03-09T16:00:00Z", "2026-03-09T16:30:00Z",
        ])
        #expect(window.latestSlot(atOrBefore: try Self.at("2026-03-07T03:10:00Z")).map(Schedule.utcText) == "2026-03-07T02:30:00Z")
        #expect(!window.isInWindow(try Self.at("2026-03-07T03:00:00Z")))  // 19:00 local: the end is exclusive
        #expect(window.isInWindow(try Self.at("2026-03-07T02:59:00Z")))
        #expect(!window.isInWindow(try Self.at("2026-03-07T18:00:00Z")))  // Saturday
    }

    @Test func nairobiHasNoDaylightSaving() throws {
        let nairobi = try Self.schedule("  at: [\"00:00\", \"02:00\"]\n  timezone: Africa/Nairobi")
        #expect(try Self.next(nairobi, after: "2026-03-28T00:00:00Z", 4) == [
            "2026-03-28T21:00:00Z", "2026-03-28T23:00:00Z", "2026-03-29T21:00:00Z", "2026-03-29T23:00:00Z",
        ])
        #expect(nairobi.localDate(try Self.at("2026-03-28T21:00:00Z")) == "2026-03-29")
    }

    @Test func monthEndsAndLeapDays() throws {
        let thirtyFirst = try Self.schedule("  cron: \"0 6 31 * *\"")
        #expect(try Self.next(thirtyFirst, after: "2026-01-31T07:00:00Z", 3) == [
            "2026-03-31T06:00:00Z", "2026-05-31T06:00:00Z", "2026-07-31T06:00:00Z",
        ])
        let leap = try Self.schedule("  cron: \"0 12 29 2 *\"")
        #expect(try Self.next(leap, after: "2026-01-01T00:00:00Z", 2) == ["2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"])
        #expect(leap.latestSlot(atOrBefore: try Self.at("2027-06-01T00:00:00Z")).map(Schedule.utcText) == "2024-02-29T12:00:00Z")
    }

    @Test(arguments: [
        ("*/15 * * * *", ["2026-01-05T10:15:00Z", "2026-01-05T10:30:00Z", "2026-01-05T10:45:00Z"]),
        ("5,35 10 * * *", ["2026-01-05T10:35:00Z", "2026-01-06T10:05:00Z", "2026-01-06T10:35:00Z"]),
        ("0 9-11 * * *", ["2026-01-05T11:00:00Z", "2026-01-06T09:00:00Z", "2026-01-06T10:00:00Z"]),
        ("0 8-20/6 * * *", ["2026-01-05T14:00:00Z", "2026-01-05T20:00:00Z", "2026-01-06T08:00:00Z"]),
        ("50/5 10 * * *", ["2026-01-05T10:50:00Z", "2026-01-05T10:55:00Z", "2026-01-06T10:50:00Z"]),
        ("0 0 * jan,FEB sun", ["2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z", "2026-01-25T00:00:00Z"]),
        ("0 0 * * 7", ["2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z", "2026-01-25T00:00:00Z"]),
        ("0 0 * * 1-5/2", ["2026-01-07T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-12T00:00:00Z"]),
        // Both day fields restricted: the 13th or a Friday (crontab's rule).
        ("0 0 13 * 5", ["2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"]),
        ("@daily", ["2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z"]),
        ("@hourly", ["2026-01-05T11:00:00Z", "2026-01-05T12:00:00Z", "2026-01-05T13:00:00Z"]),
        ("@monthly", ["2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"]),
        ("@weekly", ["2026-01-11T00:00:00Z", "2026-01-18T00:00:00Z", "2026-01-25T00:00:00Z"]),
    ])
    func cronFieldForms(expression: String, expected: [String]) throws {
        // 2026-01-05 is a Monday; the search starts at 10:10 UTC.
        let cron = try Self.schedule("  cron: \"\(expression)\"")
        #expect(try Self.next(cron, after: "2026-01-05T10:10:00Z", 3) == expected)
    }

    @Test func badSchedulesAreRefusedWithTheirPlace() {
        func errors(_ lines: String) -> [String] {
            LanguageFixtures.errors("name: s\nschedule:\n\(lines)\nstages:\n  - { id: a, uses: echo, with: { message: hi } }\n")
        }
        #expect(errors("  cron: \"61 * * * *\"") == ["pipelines/x.yaml:3:9: '61' in the minute field must be a number from 0 to 59"])
        #expect(errors("  cron: \"0 0 * *\"") == [
            "pipelines/x.yaml:3:9: a cron expression has 5 fields (minute hour day-of-month month day-of-week), found 4 in '0 0 * *'"
        ])
        #expect(errors("  cron: \"0 5-2 * * *\"") == ["pipelines/x.yaml:3:9: the range '5-2' in the hour field runs backwards"])
        #expect(errors("  cron: \"0 0 30 2 *\"") == ["pipelines/x.yaml:3:9: this schedule never fires"])
        #expect(errors("  every: 7m") == [
            "pipelines/x.yaml:3:10: 'every' must be whole minutes that divide a day evenly (1m, 5m, 15m, 30m, 1h, 2h, 6h, 12h, 24h…), found '7m'"
        ])
        #expect(errors("  every: 30m\n  at: \"02:00\"") == ["pipelines/x.yaml:4:3: a schedule takes exactly one of 'every', 'at' and 'cron'"])
        #expect(errors("  at: \"25:00\"") == ["pipelines/x.yaml:3:7: 'at' takes times of day such as \"02:00\" (or a list of them), found '25:00'"])
        #expect(errors("  at: \"02:00\"\n  window: { days: Mon-Fry }") == [
            "pipelines/x.yaml:4:19: unknown day 'Fry' (did you mean 'Fri'?); use Mon, Tue, … Sun"
        ])
        #expect(errors("  at: \"02:00\"\n  window: { hours: \"19:00-09:00\" }") == [
            "pipelines/x.yaml:4:20: the window '19:00-09:00' must end after it starts on the same day (up to 24:00)"
        ])
        #expect(errors("  at: \"02:00\"\n  window: { hours: \"09:00-19:00\" }") == [
            "pipelines/x.yaml:3:7: no slot of this schedule falls inside its window"
        ])
        #expect(errors("  at: \"02:00\"\n  timezone: PST") .first?.hasPrefix("pipelines/x.yaml:4:13: 'timezone': unknown time zone 'PST'") == true)
        #expect(errors("  at: \"02:00\"\n  catch_up: some") == [
            "pipelines/x.yaml:4:13: 'catch_up' must be one of latest, all, none, found 'some' (did you mean 'none'?)"
        ])
        #expect(errors("  at: \"02:00\"\n  params: { day: \"${SCHEDULED_DATE}\" }") == [
            "pipelines/x.yaml:4:18: the schedule sets param 'day', which 'params' does not declare"
        ])
    }

    @Test func theSlotSetsParamsAndIsPartOfTheIdentity() throws {
        let yaml = """
            name: s
            params: { day: "2000-01-01", shop: main }
            schedule: { at: "02:00", timezone: Africa/Nairobi, params: { day: "${SCHEDULED_DATE}" } }
            stages:
              - { id: a, uses: echo, with: { message: "${day} ${SCHEDULED_TIME}" } }
            """
        func load(_ slot: String) throws -> Pipeline {
            try LanguageFixtures.loader.load(
                contents: Array(yaml.utf8), file: "s.yaml", baseDirectory: "/srv", environment: [:],
                slot: SlotChoice(slot: try Self.at(slot)))
        }
        let first = try load("2026-03-01T02:00:00+03:00")
        let second = try load("2026-03-02T02:00:00+03:00")
        #expect(first.params.map(\.value) == ["2026-03-01", "main"])
        #expect(first.stages[0].resolvedParameters.first { $0.name == "message" }?.value == "\"2026-03-01 2026-03-01T02:00:00+03:00\"")
        let (one, two) = (try RunIdentity(pipeline: first), try RunIdentity(pipeline: second))
        #expect(one.key != two.key)
        #expect(one.series == two.series)
        #expect(one.params["SCHEDULED_TIME"] == "2026-02-28T23:00:00Z")
        #expect(throws: DiagnosticList.self) { try load("2026-03-01T02:30:00+03:00") }
    }
}
