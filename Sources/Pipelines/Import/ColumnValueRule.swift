/// What a typed target column can hold exactly, checked on a file's text before the database sees it:
/// SQLite's type affinity would keep `abc` in an INTEGER column and turn an integer beyond 64 bits into
/// an inexact REAL, and PostgreSQL would fail the whole chunk (or round a numeric). A value that does not
/// fit is a rejected row with its line and column, on both databases.
public enum ColumnValueRule: Sendable, Equatable {
    /// Whole numbers within the column's range.
    case integer(bits: Int)
    /// Decimal numbers; for PostgreSQL's `numeric(precision, scale)` within its digits, for SQLite's
    /// NUMERIC affinity within the 15 significant digits a REAL keeps.
    case decimal(precision: Int?, scale: Int?)
    /// Floating-point numbers that do not overflow.
    case float
    case boolean
    /// Anything (text, dates, JSON, …: the database checks those).
    case any

    /// The rule for a column declared as `type` (SQLite's declared type, or PostgreSQL's `format_type`).
    public static func forColumn(declared type: String, dialect: SQLDialect) -> ColumnValueRule {
        let upper = type.uppercased()
        switch dialect {
        case .sqlite:
            // SQLite's affinity rules, in their order.
            if upper.contains("INT") { return .integer(bits: 64) }
            if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") || upper.contains("BLOB") { return .any }
            if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") { return .float }
            if upper.hasPrefix("NUMERIC") || upper.hasPrefix("DECIMAL") { return .decimal(precision: 15, scale: nil) }
            return .any
        case .postgres:
            switch upper {
            case "SMALLINT": return .integer(bits: 16)
            case "INTEGER": return .integer(bits: 32)
            case "BIGINT": return .integer(bits: 64)
            case "REAL", "DOUBLE PRECISION": return .float
            case "BOOLEAN": return .boolean
            case "NUMERIC": return .decimal(precision: nil, scale: nil)
            default:
                guard upper.hasPrefix("NUMERIC("), upper.hasSuffix(")") else { return .any }
                let numbers = upper.dropFirst("NUMERIC(".count).dropLast().split(separator: ",").compactMap { Int($0) }
                guard let precision = numbers.first else { return .any }
                return .decimal(precision: precision, scale: numbers.count > 1 ? numbers[1] : 0)
            }
        }
    }

    /// Why `text` does not fit, or nil when it does. NULL always fits here (NOT NULL is the database's).
    public func problem(with text: Substring) -> String? {
        switch self {
        case .any: return nil
        case .integer(let bits):
            guard let digits = Self.integerDigits(text) else { return "is not a whole number" }
            return Self.fits(digits, negative: text.first == "-", bits: bits) ? nil : "is outside the range of a \(bits)-bit integer"
        case .decimal(let precision, let scale):
            guard let number = Self.decimalParts(text) else { return "is not a decimal number" }
            // SQLite keeps a whole number within 64 bits exactly, as an INTEGER.
            if scale == nil, precision != nil, number.fraction.isEmpty, let digits = Self.integerDigits(text),
                Self.fits(digits, negative: text.first == "-", bits: 64)
            {
                return nil
            }
            let significant = (number.whole + number.fraction).drop { $0 == "0" }.count
            if let scale, number.fraction.count > scale {
                return "has \(number.fraction.count) decimal places; the column keeps \(scale) (it would be rounded)"
            }
            if let precision {
                let wholeLimit = precision - (scale ?? 0)
                if scale != nil, number.whole.drop(while: { $0 == "0" }).count > wholeLimit {
                    return "has more than \(wholeLimit) digits before the decimal point"
                }
                if scale == nil, significant > precision { return "has more than the \(precision) significant digits the column keeps exactly" }
            }
            return nil
        case .float:
            guard Self.isNumberSyntax(text), let value = Double(text) else { return "is not a number" }
            return value.isFinite ? nil : "is too large for a floating-point number"
        case .boolean:
            return ["t", "f", "true", "false", "yes", "no", "on", "off", "1", "0"].contains(text.lowercased())
                ? nil : "is not a boolean (true/false, t/f, yes/no, on/off, 1/0)"
        }
    }

    /// The digits of an optionally signed whole number, leading zeros dropped.
    private static func integerDigits(_ text: Substring) -> Substring? {
        var digits = text
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : trimmed
    }

    private static func fits(_ digits: Substring, negative: Bool, bits: Int) -> Bool {
        let limit = negative ? "\(UInt64(1) << (bits - 1))" : "\((UInt64(1) << (bits - 1)) - 1)"
        return digits.count < limit.count || (digits.count == limit.count && digits <= Substring(limit))
    }

    /// `[-+]digits[.digits]` without an exponent: the exact forms a decimal column takes.
    private static func decimalParts(_ text: Substring) -> (whole: Substring, fraction: Substring)? {
        var rest = text
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if parts.count > 1 && fraction.isEmpty && whole.isEmpty { return nil }
        return (whole, fraction)
    }

    /// JSON-like number syntax (Swift's `Double` also takes `nan`, `inf` and hex).
    private static func isNumberSyntax(_ text: Substring) -> Bool {
        var rest = text
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissa = rest.prefix { $0 != "e" && $0 != "E" }
        let exponent = rest.dropFirst(mantissa.count).dropFirst()
        guard decimalParts(mantissa) != nil else { return false }
        if rest.count == mantissa.count { return true }
        guard integerDigits(exponent) != nil else { return false }
        return true
    }
}

/// The typed columns of an import's target, by the file column they take their value from: what each
/// row is checked against before it is loaded. Empty (and free) for a table of TEXT columns or one to
/// be created.
public struct TypedColumns: Sendable {
    private let checks: [(field: Int, rule: ColumnValueRule, name: String, type: String)]

    /// For the file's `columns` going into a table whose declared types are `types` (none: no table yet).
    public init(columns: [String], types: [String: String], dialect: SQLDialect) {
        checks = columns.enumerated().compactMap { field, name in
            guard let type = types[name] else { return nil }
            let rule = ColumnValueRule.forColumn(declared: type, dialect: dialect)
            return rule == .any ? nil : (field, rule, name, type)
        }
    }

    public var isEmpty: Bool { checks.isEmpty }

    /// The row error of the first field of `record` its column cannot hold exactly, or nil.
    @inline(__always)
    public func problem(in record: RecordBuffer, line: Int) -> RowError? {
        guard !checks.isEmpty else { return nil }
        for check in checks where check.field < record.count {
            guard let text = record.string(check.field), let problem = check.rule.problem(with: Substring(text)) else { continue }
            let shown = text.count > 40 ? text.prefix(40) + "…" : Substring(text)
            return RowError(
                line: line, column: check.field + 1, reason: "'\(shown)' \(problem), as column \(check.name) (\(check.type)) needs")
        }
        return nil
    }
}
