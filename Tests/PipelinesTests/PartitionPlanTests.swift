import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// Interval arithmetic in a time zone, pg_partman's names, and the plan of one maintenance run, worked
/// out without a database.
@Suite(.timeLimit(.minutes(1))) struct PartitionPlanTests {
    static func instant(_ text: String) -> Date { DateTime(text)?.date ?? .distantPast }
    static let utc = PartitionInterval.calendar(TimeZone(identifier: "UTC") ?? .current)

    @Test func monthsAndWeeksFollowTheZonesCalendar() throws {
        let losAngeles = PartitionInterval.calendar(try #require(TimeZone(identifier: "America/Los_Angeles")))
        let march = PartitionInterval.month.start(of: Self.instant("2026-03-08T10:00:00Z"), in: losAngeles)
        #expect(march == Self.instant("2026-03-01T00:00:00-08:00"))
        #expect(PartitionInterval.month.advance(march, by: 1, in: losAngeles) == Self.instant("2026-04-01T00:00:00-07:00"))
        let nairobi = PartitionInterval.calendar(try #require(TimeZone(identifier: "Africa/Nairobi")))
        #expect(PartitionInterval.month.start(of: Self.instant("2026-12-31T22:00:00Z"), in: nairobi) == Self.instant("2027-01-01T00:00:00+03:00"))
        #expect(PartitionInterval.month.start(of: Self.instant("2026-12-31T22:00:00Z"), in: Self.utc) == Self.instant("2026-12-01T00:00:00Z"))
        #expect(PartitionInterval.week.start(of: Self.instant("2026-12-06T12:00:00Z"), in: Self.utc) == Self.instant("2026-11-30T00:00:00Z"))
        #expect(PartitionInterval.week.start(of: Self.instant("2026-11-30T00:00:00Z"), in: Self.utc) == Self.instant("2026-11-30T00:00:00Z"))
        #expect(PartitionInterval.quarter.start(of: Self.instant("2026-12-06T00:00:00Z"), in: Self.utc) == Self.instant("2026-10-01T00:00:00Z"))
        #expect(PartitionInterval.year.advance(Self.instant("2026-01-01T00:00:00Z"), by: -2, in: Self.utc) == Self.instant("2024-01-01T00:00:00Z"))
        #expect(PartitionInterval.month.count(from: Self.instant("2026-09-01T00:00:00Z"), to: Self.instant("2027-01-01T00:00:00Z"), in: Self.utc) == 4)
    }

    @Test func namesFollowPgPartman() {
        let start = Self.instant("2026-11-30T00:00:00Z")
        let names = PartitionInterval.allCases.map { PartitionNaming.p4.suffix(for: PartitionInterval.start($0)(of: start, in: Self.utc), interval: $0, in: Self.utc) }
        #expect(names == ["2026_11_30", "2026w49", "2026_11", "2026q4", "2026"])
        #expect(PartitionNaming.p4.suffix(for: Self.instant("2027-01-01T00:00:00Z"), interval: .week, in: Self.utc) == "2026w53")
        #expect(PartitionNaming.p5.suffix(for: Self.instant("2026-10-01T00:00:00Z"), interval: .quarter, in: Self.utc) == "20261001")
        let long = String(repeating: "a", count: 60)
        let child = PartitionNaming.childName(parent: long, suffix: "2026_09")
        #expect(child == String(repeating: "a", count: 54) + "_p2026_09" && child.utf8.count == 63)
        #expect(PartitionNaming.childName(parent: "journal_entries", suffix: "2026_09") == "journal_entries_p2026_09")
        #expect(PartitionNaming.defaultName(parent: long) == String(repeating: "a", count: 55) + "_default")
        let wide = String(repeating: "é", count: 40)
        #expect(PartitionNaming.childName(parent: wide, suffix: "2026_09").utf8.count <= 63)
    }

    static func inputs(children: [PartitionChild] = [], defaultRows: [(Date, Int64, Date, Date)] = [], now: String = "2026-12-06T12:00:00Z")
        -> PartitionPlan.Inputs
    {
        PartitionPlan.Inputs(
            parent: "journal_entries", interval: .month, naming: .p4, calendar: utc, premake: 4, start: nil, now: instant(now),
            maxNewPerRun: 60, children: children, hasDefault: !children.isEmpty,
            defaultRows: defaultRows.map { (start: $0.0, rows: $0.1, first: $0.2, last: $0.3) })
    }

    @Test func aNewSetGetsPremakeIntervalsEachSideAndADefault() {
        let plan = PartitionPlan.make(Self.inputs())
        #expect(plan.createsDefault)
        #expect(plan.creates.map(\.name) == (8...12).map { String(format: "journal_entries_p2026_%02d", $0) } + (1...4).map { "journal_entries_p2027_0\($0)" })
        #expect(plan.creates.first?.from == Self.instant("2026-08-01T00:00:00Z"))
        #expect(plan.creates.last?.to == Self.instant("2027-05-01T00:00:00Z"))
    }

    @Test func skippedRunsAreCaughtUpAndExistingChildrenKept() {
        let existing = (5...9).map { month in
            PartitionChild(
                name: "journal_entries_p2026_0\(month)", from: Self.instant(String(format: "2026-%02d-01T00:00:00Z", month)),
                to: Self.instant(String(format: "2026-%02d-01T00:00:00Z", month + 1)))
        }
        let plan = PartitionPlan.make(Self.inputs(children: existing))
        #expect(!plan.createsDefault)
        #expect(plan.creates.map(\.name) == ["journal_entries_p2026_10", "journal_entries_p2026_11", "journal_entries_p2026_12"] + (1...4).map { "journal_entries_p2027_0\($0)" })
        #expect(PartitionPlan.make(Self.inputs(children: existing + plan.creates)).creates.isEmpty, "a second run has nothing to do")
    }

    @Test func defaultRowsGetTheirChildUnlessTooFarAhead() {
        let existing = [PartitionChild(name: "journal_entries_p2026_12", from: Self.instant("2026-12-01T00:00:00Z"), to: Self.instant("2027-05-01T00:00:00Z"))]
        let past = Self.instant("2025-05-01T00:00:00Z")
        let typo = Self.instant("2206-05-01T00:00:00Z")
        let plan = PartitionPlan.make(
            Self.inputs(
                children: existing,
                defaultRows: [(typo, 2, Self.instant("2206-05-03T00:00:00Z"), Self.instant("2206-05-09T00:00:00Z")), (past, 7, past, past)]))
        #expect(plan.drains == [past])
        #expect(plan.creates.map(\.name) == ["journal_entries_p2025_05"])
        #expect(plan.capped?.rows == 2 && plan.capped?.first == Self.instant("2206-05-03T00:00:00Z"))
    }
}
