import Foundation

extension Duration: ParameterValue {
    public static var typeName: String { "duration" }
    public static var typeDescription: String { "a duration such as 500ms, 30s, 5m, 26h, 7d or 1h30m" }

    /// The longest duration a file may give: anything longer is a typo, and arithmetic on it must not overflow.
    public static let parameterLimit = Duration.seconds(3650 * 86_400)

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Duration {
        try parse(node.scalar(expecting: "a duration").text)
    }

    /// `250ms`, `2s`, `1m`, `1h`, `2d`, `1h30m`, or a plain number of seconds; at most 3650 days.
    public static func parse(_ text: String) throws(ParameterProblem) -> Duration {
        let problem = ParameterProblem("expected a duration such as 500ms, 2s, 5m or 1h30m, found '\(text)'")
        let limitMilliseconds = Int64(parameterLimit.components.seconds) * 1000
        let tooLong = ParameterProblem("the duration '\(text)' is longer than the limit of 3650d")
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw problem }
        if bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let seconds = Int64(text), seconds <= limitMilliseconds / 1000 else { throw tooLong }
            return .seconds(seconds)
        }
        var total: Int64 = 0
        var index = 0
        while index < bytes.count {
            var amount: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (shifted, overflowA) = amount.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = shifted.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflowA, !overflowB else { throw tooLong }
                amount = next
                index += 1
            }
            guard index > digitsStart else { throw problem }
            let unitStart = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "a"), bytes[index] <= UInt8(ascii: "z") { index += 1 }
            let scale: Int64
            switch String(decoding: bytes[unitStart..<index], as: UTF8.self) {
            case "ms": scale = 1
            case "s": scale = 1000
            case "m": scale = 60_000
            case "h": scale = 3_600_000
            case "d": scale = 86_400_000
            default: throw problem
            }
            let (part, overflowA) = amount.multipliedReportingOverflow(by: scale)
            let (sum, overflowB) = total.addingReportingOverflow(part)
            guard !overflowA, !overflowB, sum <= limitMilliseconds else { throw tooLong }
            total = sum
        }
        return .milliseconds(total)
    }

    public var parameterDisplay: String { text }

    /// The whole milliseconds of the duration.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// The shortest form in days, hours, minutes, seconds and milliseconds: `1h30m`, `500ms`, `0s`.
    public var text: String {
        var rest = milliseconds
        guard rest > 0 else { return "0s" }
        var text = ""
        for (suffix, scale) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        where rest >= scale {
            text += "\(rest / scale)\(suffix)"
            rest %= scale
        }
        return text
    }

    /// The duration in seconds, for APIs that take a `TimeInterval`.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// An IANA time zone name such as `America/Los_Angeles` or `UTC`, checked against the system's tz database.
/// Abbreviations (`PST`) are refused: they are ambiguous and do not follow daylight-saving rules.
public struct TimeZoneID: ParameterValue, Hashable {
    public let identifier: String
    public var timeZone: TimeZone { TimeZone(identifier: identifier) ?? TimeZone(secondsFromGMT: 0) ?? .current }

    public init?(_ identifier: String) {
        guard Self.isKnown(identifier), TimeZone(identifier: identifier) != nil else { return nil }
        self.identifier = identifier
    }

    public static let utc = TimeZoneID(trusted: "UTC")
    private init(trusted identifier: String) { self.identifier = identifier }

    public static var typeName: String { "timezone" }
    public static var typeDescription: String { "an IANA time zone such as UTC, America/Los_Angeles or Africa/Nairobi" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> TimeZoneID {
        let text = try node.scalar(expecting: "a time zone").text
        guard let zone = TimeZoneID(text) else {
            let hint = Suggestion.hint(for: text, among: ["UTC"] + TimeZone.knownTimeZoneIdentifiers)
            throw ParameterProblem(
                "unknown time zone '\(text)'\(hint); use an IANA name such as America/Los_Angeles (abbreviations like PST are not allowed)")
        }
        return zone
    }

    public var parameterDisplay: String { identifier }

    private static func isKnown(_ identifier: String) -> Bool {
        identifier == "UTC" || identifier.hasPrefix("Etc/") || TimeZone.knownTimeZoneIdentifiers.contains(identifier)
    }
}

/// A calendar date, `2024-01-31`, without a time of day or zone.
public struct CalendarDate: ParameterValue, Hashable, Comparable, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// A date the caller computed to be valid.
    init(valid year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, or nil.
    public init?(_ text: Substring) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public static var typeName: String { "date" }
    public static var typeDescription: String { "a date, YYYY-MM-DD (e.g. 2024-01-31)" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> CalendarDate {
        let text = try node.scalar(expecting: "a date").text
        guard let date = CalendarDate(Substring(text)) else {
            throw ParameterProblem("expected a date such as 2024-01-31, found '\(text)'")
        }
        return date
    }

    public var parameterDisplay: String { text }
    public var text: String {
        // Digit by digit: a formatter per date costs more than the rest of an accounting entry.
        var bytes = [UInt8](repeating: UInt8(ascii: "0"), count: 10)
        func put(_ value: Int, at end: Int, digits: Int) {
            var rest = value
            for index in stride(from: end, to: end - digits, by: -1) {
                bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
        }
        put(year, at: 3, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(month, at: 6, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(day, at: 9, digits: 2)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (left: CalendarDate, right: CalendarDate) -> Bool {
        (left.year, left.month, left.day) < (right.year, right.month, right.day)
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// An instant written with its offset from UTC, ISO 8601: `2024-01-31T02:00:00Z`,
/// `2024-01-31T05:00:00+03:00`, with optional fractional seconds. A time without an offset is refused:
/// it would mean a different instant on every machine.
public struct DateTime: ParameterValue, Hashable, Comparable {
    public let date: Date
    /// The offset the value was written with, in seconds east of UTC.
    public let offsetSeconds: Int
    /// As written, normalised (`T`, the offset as `Z` or `±HH:MM`).
    public let text: String

    public static var typeName: String { "date-time" }
    public static var typeDescription: String {
        "a date and time with its UTC offset, e.g. 2024-01-31T02:00:00Z or 2024-01-31T05:00:00+03:00"
    }

    public init?(_ written: String) {
        let bytes = Array(written.utf8)
        guard bytes.count >= 17, bytes.count <= 40 else { return nil }
        let separator = bytes[10]
        guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "t"),
            let day = CalendarDate(Substring(String(decoding: bytes[0..<10], as: UTF8.self)))
        else { return nil }
        let rest = String(decoding: bytes[11...], as: UTF8.self)
        guard let (clock, offset) = Self.splitOffset(rest), let seconds = Self.secondsOfDay(clock) else { return nil }
        var components = DateComponents()
        components.year = day.year
        components.month = day.month
        components.day = day.day
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        guard let midnight = calendar.date(from: components) else { return nil }
        date = midnight.addingTimeInterval(seconds.whole - Double(offset)).addingTimeInterval(seconds.fraction)
        offsetSeconds = offset
        let zone =
            offset == 0
            ? "Z" : String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", abs(offset) / 3600, abs(offset) % 3600 / 60)
        text = "\(day.text)T\(clock)\(zone)"
    }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> DateTime {
        let text = try node.scalar(expecting: "a date and time").text
        guard let value = DateTime(text) else {
            throw ParameterProblem(
                "expected a date and time with its UTC offset such as 2024-01-31T02:00:00Z or 2024-01-31T05:00:00+03:00, found '\(text)'")
        }
        return value
    }

    public var parameterDisplay: String { text }

    public static func < (left: DateTime, right: DateTime) -> Bool { left.date < right.date }
    public static func == (left: DateTime, right: DateTime) -> Bool { left.date == right.date }
    public func hash(into hasher: inout Hasher) { hasher.combine(date) }

    /// `HH:MM[:SS[.fff]]` and the offset after it.
    private static func splitOffset(_ text: String) -> (clock: String, offset: Int)? {
        if text.hasSuffix("Z") || text.hasSuffix("z") { return (String(text.dropLast()), 0) }
        guard let signIndex = text.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
        let zone = text[text.index(after: signIndex)...]
        let parts = zone.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hours = Int(parts[0]), let minutes = Int(parts[1]), hours <= 18, minutes <= 59
        else { return nil }
        let magnitude = hours * 3600 + minutes * 60
        return (String(text[..<signIndex]), text[signIndex] == "-" ? -magnitude : magnitude)
    }

    private static func secondsOfDay(_ clock: String) -> (whole: Double, fraction: Double)? {
        let parts = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts[0].count == 2, parts[1].count == 2,
            let hours = Int(parts[0]), let minutes = Int(parts[1]), hours <= 23, minutes <= 59,
            parts[0].allSatisfy(\.isASCIIDigit), parts[1].allSatisfy(\.isASCIIDigit)
        else { return nil }
        var seconds = 0
        var fraction = 0.0
        if parts.count == 3 {
            let secondParts = parts[2].split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(secondParts.count), secondParts[0].count == 2,
                secondParts.allSatisfy({ !$0.isEmpty && $0.count <= 9 && $0.allSatisfy(\.isASCIIDigit) }),
                let whole = Int(secondParts[0]), whole <= 59
            else { return nil }
            seconds = whole
            if secondParts.count == 2, let digits = Double("0." + secondParts[1]) { fraction = digits }
        }
        return (Double(hours * 3600 + minutes * 60 + seconds), fraction)
    }
}
