/// A size in bytes: `30MB` (decimal: 30,000,000), `512KiB` (binary: 524,288), `1.5GB`, or a plain number of
/// bytes. Units are case-insensitive; the result is exact or refused.
public struct ByteCount: ParameterValue, Hashable, Comparable {
    public let bytes: Int64

    public init(_ bytes: Int64) { self.bytes = bytes }

    public static var typeName: String { "size" }
    public static var typeDescription: String { "a size such as 512KiB, 30MB or 2GiB (KB = 1000 bytes, KiB = 1024)" }

    private static let units: [String: Int64] = [
        "b": 1, "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "tb": 1_000_000_000_000,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    ]

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> ByteCount {
        let text = try node.scalar(expecting: "a size").text
        let problem = ParameterProblem("expected a size such as 512KiB, 30MB or 2GiB, found '\(text)'")
        let number = text.prefix { $0.isASCIIDigit || $0 == "." }
        let unit = text.dropFirst(number.count).lowercased()
        guard let scale = unit.isEmpty ? 1 : units[unit] else { throw problem }
        guard let value = ExactDecimal(number, scale: scale) else { throw problem }
        switch value {
        case .value(let bytes): return ByteCount(bytes)
        case .overflow: throw ParameterProblem("the size '\(text)' is too large")
        case .fractional: throw ParameterProblem("the size '\(text)' is not a whole number of bytes")
        }
    }

    public var parameterDisplay: String {
        for (suffix, scale) in [("GiB", Int64(1 << 30)), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        for (suffix, scale) in [("GB", Int64(1_000_000_000)), ("MB", 1_000_000), ("KB", 1000)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return "\(bytes)B"
    }

    public static func < (left: ByteCount, right: ByteCount) -> Bool { left.bytes < right.bytes }
}

/// A percentage, `20%`, `12.5%` or `20`, kept exactly in hundredths of a percent (no floating point).
public struct Percentage: ParameterValue, Hashable, Comparable {
    /// 1% is 100.
    public let hundredths: Int64

    public init(hundredths: Int64) { self.hundredths = hundredths }
    public static func percent(_ whole: Int64) -> Percentage { Percentage(hundredths: whole * 100) }

    public static var typeName: String { "percentage" }
    public static var typeDescription: String { "a percentage such as 20% or 12.5% (at most two decimals)" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> Percentage {
        let text = try node.scalar(expecting: "a percentage").text
        let number = text.hasSuffix("%") ? text.dropLast() : Substring(text)
        guard !number.isEmpty, number.allSatisfy({ $0.isASCIIDigit || $0 == "." }),
            let value = ExactDecimal(number, scale: 100)
        else { throw ParameterProblem("expected a percentage such as 20% or 12.5%, found '\(text)'") }
        switch value {
        case .value(let hundredths) where hundredths <= 100_000_000: return Percentage(hundredths: hundredths)
        case .fractional: throw ParameterProblem("the percentage '\(text)' has more than two decimals")
        default: throw ParameterProblem("the percentage '\(text)' is too large")
        }
    }

    public var parameterDisplay: String {
        let whole = hundredths / 100
        let fraction = hundredths % 100
        guard fraction != 0 else { return "\(whole)%" }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)%" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)%"
    }

    /// Whether `part` is more than this percentage of `whole`, computed exactly.
    public func isExceeded(by part: Int64, of whole: Int64) -> Bool {
        guard whole > 0 else { return part > 0 }
        return Int128(part) * 10_000 > Int128(whole) * Int128(hundredths)
    }

    public static func < (left: Percentage, right: Percentage) -> Bool { left.hundredths < right.hundredths }
}

extension CurrencyCode: ParameterValue {
    public static var typeName: String { "currency" }
    public static var typeDescription: String { "an ISO 4217 currency code such as USD, JPY or KWD" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> CurrencyCode {
        let text = try node.scalar(expecting: "a currency code").text
        guard let currency = CurrencyCode(text) else {
            throw ParameterProblem("unknown currency '\(text)'" + Suggestion.hint(for: text, among: knownCodes))
        }
        return currency
    }

    public var parameterDisplay: String { code }
}

/// Decimal text times a power-of-ten or binary scale, computed in integers.
enum ExactDecimal {
    case value(Int64)
    case overflow
    case fractional

    /// Nil when `text` is not `DIGITS[.DIGITS]`.
    init?(_ text: Substring, scale: Int64) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 12 else {
            self = .fractional
            return
        }
        var numerator: Int64 = 0
        for digit in parts[0] + fraction {
            let (shifted, overflowA) = numerator.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.addingReportingOverflow(Int64(digit.wholeNumberValue ?? 0))
            guard !overflowA, !overflowB else {
                self = .overflow
                return
            }
            numerator = next
        }
        var denominator: Int64 = 1
        for _ in 0..<fraction.count { denominator *= 10 }
        let (scaled, overflow) = numerator.multipliedReportingOverflow(by: scale)
        guard !overflow else {
            self = .overflow
            return
        }
        guard scaled % denominator == 0 else {
            self = .fractional
            return
        }
        self = .value(scaled / denominator)
    }
}
