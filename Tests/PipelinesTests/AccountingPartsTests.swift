import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// The parts of orders and accounting that decide on their own: instants and local days, order
/// figures and their tolerance, journal sums, and each writer's layout.
@Suite(.timeLimit(.minutes(1))) struct AccountingPartsTests {
    static let nairobi = TimeZone(identifier: "Africa/Nairobi") ?? .gmt
    static let losAngeles = TimeZone(identifier: "America/Los_Angeles") ?? .gmt

    @Test func instantsReadEveryWayShopsAndGatewaysWriteThem() throws {
        let utc = try #require(Instant.parse("2024-01-15T15:32:11Z", zone: .gmt))
        #expect(utc.iso == "2024-01-15T15:32:11Z")
        #expect(Instant.parse("2024-01-15 10:32:11 -0500", zone: .gmt) == utc)
        #expect(Instant.parse("2024-01-15T18:32:11.000+03:00", zone: .gmt) == utc)
        #expect(Instant.parse("2024-01-15 18:32:11", zone: Self.nairobi) == utc)
        #expect(Instant.parse("2024-01-15", zone: Self.nairobi)?.iso == "2024-01-14T21:00:00Z")
        #expect(Instant.parse("1969-12-31T23:59:59Z", zone: .gmt)?.seconds == -1)
        for bad in ["", "2024-13-01", "2024-01-15T25:00:00Z", "2024-01-15T10:00:00+2500", "yesterday", "2024-01-15T10:00:00Zjunk", "2024-02-30"] {
            #expect(Instant.parse(bad, zone: .gmt) == nil, "\(bad)")
        }
        // Civil-day arithmetic round-trips across centuries and leap days.
        for days: Int64 in [-25_567, -1, 0, 59, 11_016, 19_782, 2_932_896] {
            #expect(Instant.days(of: Instant.civil(days: days)) == days)
        }
    }

    @Test func aLocalDayFollowsTheShopsZoneAcrossMidnightAndDaylightSaving() throws {
        // 23:30 in Nairobi is 20:30 UTC: the same day there, whatever UTC says.
        let lateEvening = try #require(Instant.parse("2026-11-03T23:30:00+03:00", zone: .gmt))
        #expect(lateEvening.localDate(in: Self.nairobi).text == "2026-11-03")
        #expect(try #require(Instant.parse("2026-11-03T21:30:00Z", zone: .gmt)).localDate(in: Self.nairobi).text == "2026-11-04")
        // Los Angeles leaves daylight saving on 2026-11-01: the day after starts at 08:00 UTC.
        let day = try #require(CalendarDate(year: 2026, month: 11, day: 2))
        #expect(Instant.startOfDay(day, in: Self.losAngeles).iso == "2026-11-02T08:00:00Z")
        #expect(Instant.startOfDay(try #require(CalendarDate(year: 2026, month: 10, day: 31)), in: Self.losAngeles).iso == "2026-10-31T07:00:00Z")
    }

    static func order(total: Int64, taxesIncluded: Bool = false, currency: CurrencyCode = .usd) -> Order {
        Order(
            code: "1001", currency: currency, placedAt: Instant(seconds: 0), paidAt: nil, cancelledAt: nil, state: .open, financialStatus: "paid",
            customer: "A", email: "", taxesIncluded: taxesIncluded,
            lines: [
                OrderLine(sku: "A", name: "A", quantity: 2, unitPrice: 1_000, discount: 100),
                OrderLine(sku: "B", name: "B", quantity: 1, unitPrice: 499, discount: 0),
            ],
            shipping: 500, taxes: [OrderTax(name: "VAT 16%", rate: "16", amount: 304, line: 1)],
            discounts: [OrderDiscount(code: "X", amount: 50)], total: total, gateway: "", paymentReference: "", refunds: [])
    }

    @Test func anOrdersTotalMustAddUpWithinTheTolerance() {
        // 2000 + 499 − 150 + 500 + 304 = 3153.
        #expect(Self.order(total: 3153).inconsistency(tolerance: 0) == nil)
        #expect(Self.order(total: 3154).inconsistency(tolerance: 1) == nil)
        #expect(Self.order(total: 3154).rounding == 1)
        let off = Self.order(total: 3155).inconsistency(tolerance: 1)
        #expect(off?.contains("the total 31.55 USD is not lines 24.99 − discounts 1.50 + shipping 5.00 + tax 3.04 = 31.53") == true, "\(off ?? "")")
        // Taxes included: the total does not add them again.
        #expect(Self.order(total: 2849, taxesIncluded: true).inconsistency(tolerance: 0) == nil)
        var refunded = Self.order(total: 3153)
        refunded.refunds = [OrderRefund(key: "r", at: Instant(seconds: 10), amount: 4000, shipping: 0, tax: 0, reason: "")]
        #expect(refunded.inconsistency(tolerance: 0)?.contains("more than the total") == true)
    }

    @Test func moneyFieldsAreExactInEveryExponentAndRefuseWhatTheyCannotHold() throws {
        #expect(try OrderField.money("15.001", .kwd, field: "t") == 15_001)
        #expect(try OrderField.money("4356", .jpy, field: "t") == 4_356)
        #expect(try OrderField.money("-20.00", .usd, field: "t", allowNegative: true) == -2_000)
        #expect(throws: OrderField.Problem.self) { try OrderField.money("1.005", .usd, field: "t") }
        #expect(throws: OrderField.Problem.self) { try OrderField.money("4356.5", .jpy, field: "t") }
        #expect(throws: OrderField.Problem.self) { try OrderField.money("-1", .usd, field: "t") }
        #expect(throws: OrderField.Problem.self) { try OrderField.money("99999999999999999999", .usd, field: "t") }
        #expect(throws: OrderField.Problem.self) { try OrderField.quantity("0", field: "q") }
        #expect(throws: OrderField.Problem.self) { try OrderField.currency("XYZ", default: nil) }
        #expect(OrderField.rate(inName: "VAT 16%") == "16")
        #expect(OrderField.rate(inName: "VAT 7.5%") == "7.5")
        #expect(OrderField.rate(inName: "GST") == "")
    }

    @Test func deepJSONIsRefusedNotRecursedInto() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONValueError.self) { try JSONValue.parse(deep) }
        #expect((try? JSONValue.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))) != nil)
    }

    static func entry(_ id: Int64, _ postings: [(String, Int64)], currency: CurrencyCode = .usd) -> JournalEntry {
        JournalEntry(
            kind: .order, sourceID: id, revision: 0, reference: "\(id)", date: CalendarDate(valid: 2026, 11, 3), currency: currency, name: "Ann \"A\"",
            memo: "Order \(id)", postings: postings.map { Posting(account: $0.0, amount: $0.1) })
    }

    @Test func anEntryKeepsItsPostingsThroughTheLedgersJSON() throws {
        let entry = Self.entry(7, [("Assets:Receivable", 3153), ("Income:Sales", -3153), ("Expenses:Rounding", 0)], currency: .kwd)
        #expect(entry.postings.count == 2, "zero postings are dropped")
        let back = try #require(JournalEntry(kind: .order, sourceID: 7, revision: 0, json: entry.json.serialized))
        #expect(back == entry)
    }

    @Test func aJournalSumsItsEntriesPerAccountDebitsFirst() {
        let lines = Journal.lines(of: [
            Self.entry(1, [("Assets:Receivable", 1000), ("Income:Sales", -1000)]),
            Self.entry(2, [("Assets:Receivable", 500), ("Income:Sales", -400), ("Income:Shipping", -100)]),
            Self.entry(3, [("Assets:Clearing", 1500), ("Assets:Receivable", -1500)]),
        ])
        #expect(lines == [Posting(account: "Assets:Clearing", amount: 1500), Posting(account: "Income:Sales", amount: -1400), Posting(account: "Income:Shipping", amount: -100)])
    }

    @Test func beancountAccountNamesAreCheckedBeforeAnythingIsWritten() {
        #expect(BeancountJournalWriter.problem(withAccount: "Assets:Paystack-Clearing") == nil)
        #expect(BeancountJournalWriter.problem(withAccount: "Assets:1Bank") == nil)
        #expect(BeancountJournalWriter.problem(withAccount: "Revenue:Sales") != nil)
        #expect(BeancountJournalWriter.problem(withAccount: "Assets:cash") != nil)
        #expect(BeancountJournalWriter.problem(withAccount: "Assets:Bank_2") != nil)
        #expect(BeancountJournalWriter.problem(withAccount: "Assets") != nil)
    }

    @Test func datesFollowTheCompanysLocale() throws {
        let date = try #require(CalendarDate(year: 2026, month: 3, day: 7))
        #expect(JournalFormat.DateStyle.monthFirst.text(date) == "03/07/2026")
        #expect(JournalFormat.DateStyle.dayFirst.text(date) == "07/03/2026")
        #expect(JournalFormat.DateStyle.iso.text(date) == "2026-03-07")
    }
}
