import Foundation
import Testing

@testable import Pipelines

/// Each parameter type: what it reads, how it shows, and a clear problem (never a trap) for what it refuses.
@Suite struct StageParameterTypesTests {
    let context = ParameterContext(baseDirectory: "/srv/p", databaseNames: ["vendure", "erp"])

    func decode<Value: ParameterValue>(_ type: Value.Type, _ yaml: String) throws -> Value {
        let node = try #require(try LanguageFixtures.parse("v: \(yaml)\n").root["v"])
        return try Value.decode(node, in: context)
    }

    func problem<Value: ParameterValue>(_ type: Value.Type, _ yaml: String) -> String? {
        do {
            _ = try decode(type, yaml)
            return nil
        } catch let error as ParameterProblem {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func integersBeyond64BitsAreRefusedNotWrapped() throws {
        #expect(try decode(Int.self, "-42") == -42)
        #expect(problem(Int.self, "99999999999999999999") == "the number '99999999999999999999' is too large (the most is 9223372036854775807)")
        #expect(problem(Int.self, "12x") == "expected an integer, found '12x'")
        #expect(problem(Int.self, "[1]") == "expected an integer, found a sequence")
    }

    @Test func durationsReadUnitsAndStayInRange() throws {
        #expect(try decode(Duration.self, "500ms") == .milliseconds(500))
        #expect(try decode(Duration.self, "26h") == .seconds(26 * 3600))
        #expect(try decode(Duration.self, "1h30m") == .seconds(5400))
        #expect(try decode(Duration.self, "7d") == .seconds(7 * 86_400))
        #expect(try decode(Duration.self, "90") == .seconds(90))
        #expect(try decode(Duration.self, "1h30m").parameterDisplay == "1h30m")
        #expect(Duration.milliseconds(90_500).text == "1m30s500ms")
        #expect(problem(Duration.self, "9223372036854775807s") == "the duration '9223372036854775807s' is longer than the limit of 3650d")
        #expect(problem(Duration.self, "99999999999999h") == "the duration '99999999999999h' is longer than the limit of 3650d")
        #expect(problem(Duration.self, "3651d") == "the duration '3651d' is longer than the limit of 3650d")
        #expect(problem(Duration.self, "5 min")?.hasPrefix("expected a duration such as") == true)
        #expect(problem(Duration.self, "-1s")?.hasPrefix("expected a duration such as") == true)
    }

    @Test func timeZonesAreIANANamesWithDidYouMean() throws {
        #expect(try decode(TimeZoneID.self, "America/Los_Angeles").timeZone.identifier == "America/Los_Angeles")
        #expect(try decode(TimeZoneID.self, "UTC").identifier == "UTC")
        #expect(try decode(TimeZoneID.self, "Africa/Nairobi").timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 3 * 3600)
        #expect(problem(TimeZoneID.self, "America/Los_Angles")?.contains("did you mean 'America/Los_Angeles'?") == true)
        #expect(problem(TimeZoneID.self, "PST")?.contains("abbreviations like PST are not allowed") == true)
    }

    @Test func datesAndDateTimesAreCheckedOnTheCalendar() throws {
        #expect(try decode(CalendarDate.self, "2024-02-29").text == "2024-02-29")
        #expect(problem(CalendarDate.self, "2023-02-29") == "expected a date such as 2024-01-31, found '2023-02-29'")
        #expect(problem(CalendarDate.self, "2024-1-31") != nil)
        let utc = try decode(DateTime.self, "2024-01-31T02:00:00Z")
        #expect(utc.date == Date(timeIntervalSince1970: 1_706_666_400))
        let nairobi = try decode(DateTime.self, "'2024-01-31T05:00:00+03:00'")
        #expect(nairobi == utc)
        #expect(nairobi.offsetSeconds == 10_800)
        #expect(nairobi.parameterDisplay == "2024-01-31T05:00:00+03:00")
        #expect(try decode(DateTime.self, "2024-01-31T02:00:00.250Z").date == utc.date.addingTimeInterval(0.25))
        #expect(problem(DateTime.self, "2024-01-31T02:00:00")?.contains("with its UTC offset") == true)
        #expect(problem(DateTime.self, "2024-01-31T25:00:00Z") != nil)
        #expect(problem(DateTime.self, "2024-13-01T00:00:00Z") != nil)
    }

    @Test func currenciesCarryTheirExponentWithDidYouMean() throws {
        #expect(try decode(CurrencyCode.self, "JPY").exponent == 0)
        #expect(try decode(CurrencyCode.self, "kwd") == CurrencyCode.kwd)
        #expect(problem(CurrencyCode.self, "EURO") == "unknown currency 'EURO' (did you mean 'EUR'?)")
    }

    @Test func byteSizesAreExactDecimalOrBinary() throws {
        #expect(try decode(ByteCount.self, "30MB").bytes == 30_000_000)
        #expect(try decode(ByteCount.self, "512KiB").bytes == 524_288)
        #expect(try decode(ByteCount.self, "1.5GiB").bytes == 1_610_612_736)
        #expect(try decode(ByteCount.self, "100").bytes == 100)
        #expect(try decode(ByteCount.self, "2gib").parameterDisplay == "2GiB")
        #expect(problem(ByteCount.self, "1.5B") == "the size '1.5B' is not a whole number of bytes")
        #expect(problem(ByteCount.self, "99999999999TB") == "the size '99999999999TB' is too large")
        #expect(problem(ByteCount.self, "30 parsecs")?.hasPrefix("expected a size") == true)
    }

    @Test func percentagesAreExactHundredths() throws {
        #expect(try decode(Percentage.self, "20%").hundredths == 2000)
        #expect(try decode(Percentage.self, "12.5%").parameterDisplay == "12.5%")
        #expect(try decode(Percentage.self, "0.05%").parameterDisplay == "0.05%")
        #expect(try decode(Percentage.self, "20").hundredths == 2000)
        #expect(problem(Percentage.self, "1.234%") == "the percentage '1.234%' has more than two decimals")
        #expect(problem(Percentage.self, "-5%") != nil)
        let twenty = Percentage.percent(20)
        #expect(twenty.isExceeded(by: 21, of: 100))
        #expect(!twenty.isExceeded(by: 20, of: 100))
        #expect(twenty.isExceeded(by: Int64.max / 2, of: Int64.max))
    }

    @Test func urlsAreHTTPWithAHostAndShowNoSecrets() throws {
        let url = try decode(WebURL.self, "'https://ops:s3cret@example.com/hook?token=abc&x=1'")
        #expect(url.parameterDisplay == "https://ops:***@example.com/hook?token=***&x=1")
        #expect(problem(WebURL.self, "ftp://example.com/x")?.hasPrefix("expected an http:// or https:// URL") == true)
        #expect(problem(WebURL.self, "https:///path") != nil)
        #expect(problem(WebURL.self, "'http://exa mple.com'") != nil)
        #expect(SecretMask.locator("postgres://u:p@h/db?sslpassword=x&api%5Fkey=y") == "postgres://u:***@h/db?sslpassword=***&api%5Fkey=***")
    }

    @Test func databaseLocatorsAndNamedDatabases() throws {
        #expect(try decode(DatabaseLocator.self, "sqlite:var/x.db") == .sqlite(path: "/srv/p/var/x.db"))
        #expect(try decode(DatabaseLocator.self, "'postgres://u:pw@h/db'").parameterDisplay == "postgres://u:***@h/db")
        #expect(problem(DatabaseLocator.self, "mysql://h/db")?.hasPrefix("unknown database") == true)
        #expect(try decode(DatabaseName.self, "vendure").name == "vendure")
        #expect(problem(DatabaseName.self, "vendur") == "unknown database 'vendur' (did you mean 'vendure'?); declared: vendure, erp")
    }

    @Test func listsAndMapsPointAtTheBadItem() throws {
        #expect(try decode([Int].self, "[1, 2, 3]") == [1, 2, 3])
        #expect(try decode([Int].self, "[]") == [])
        let node = try #require(try LanguageFixtures.parse("v: [1, x, 3]\n").root["v"])
        do {
            _ = try [Int].decode(node, in: context)
            Issue.record("expected a problem")
        } catch {
            #expect(error.message == "item 2: expected an integer, found 'x'")
            #expect(error.location?.description == "t.yaml:1:8")
        }
        let map = try decode(ParameterMap<String>.self, "{ sku: SKU, on_hand: OnHandQuantity }")
        #expect(map.keys == ["sku", "on_hand"])
        #expect(map["on_hand"] == "OnHandQuantity")
        #expect(map.parameterDisplay == "{sku: SKU, on_hand: OnHandQuantity}")
        #expect(problem(ParameterMap<Int>.self, "{ a: 1, b: two }") == "'b': expected an integer, found 'two'")
        #expect(problem([Int].self, "7") == "expected a list such as [a, b], found a scalar")
    }

    @Test func choicesSuggestTheClosestWord() {
        enum Link: String, ParameterChoice { case copy, hardlink }
        #expect(problem(Link.self, "hardlnk") == "expected one of copy, hardlink, found 'hardlnk' (did you mean 'hardlink'?)")
        #expect(Link.typeDescription == "one of copy, hardlink")
    }

    @Test func typesDescribeThemselvesInWords() {
        #expect(Duration.typeDescription.contains("26h"))
        #expect([FilePath].typeName == "list of path")
        #expect(ParameterMap<Duration>.typeName == "map of duration")
        #expect(Int?.typeDescription == "an integer")
    }

    @Test func rangesAreCheckedAndDescribed() throws {
        let count = Parameter<Int>.optional("count", default: 1, doc: "how many").within(1...10)
        #expect(count.erased.rules == ["1 to 10"])
        let node = try #require(try LanguageFixtures.parse("v: 11\n").root["v"])
        do {
            _ = try count.decode(node, in: context)
            Issue.record("expected a problem")
        } catch {
            #expect(error.message == "must be between 1 and 10, found 11")
        }
        #expect(Parameter<String>.required("name", doc: "").isRequired)
        #expect(!Parameter<String?>.optional("name", doc: "").isRequired)
    }
}
