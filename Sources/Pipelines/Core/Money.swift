/// An ISO 4217 currency and its exponent: how many decimal digits its minor unit has (JPY 0, USD 2,
/// KWD 3, CLF 4).
public struct CurrencyCode: Sendable, Hashable, CustomStringConvertible {
    /// The three upper-case letters, e.g. `USD`.
    public let code: String
    public let exponent: Int

    /// A currency from the ISO 4217 table; nil for an unknown code. Case-insensitive.
    public init?(_ code: String) {
        let upper = code.uppercased()
        guard let exponent = Self.exponents[upper] else { return nil }
        self.code = upper
        self.exponent = exponent
    }

    /// A currency outside the table (e.g. a private unit), with the exponent given.
    public init(code: String, exponent: Int) {
        precondition(exponent >= 0 && exponent <= 9, "currency exponent out of range")
        self.code = code
        self.exponent = exponent
    }

    public var description: String { code }

    public static let usd = CurrencyCode(code: "USD", exponent: 2)
    public static let eur = CurrencyCode(code: "EUR", exponent: 2)
    public static let gbp = CurrencyCode(code: "GBP", exponent: 2)
    public static let jpy = CurrencyCode(code: "JPY", exponent: 0)
    public static let kwd = CurrencyCode(code: "KWD", exponent: 3)

    /// Every code the table knows.
    public static var knownCodes: [String] { exponents.keys.sorted() }

    private static let exponents: [String: Int] = {
        var table: [String: Int] = [:]
        for code in twoDigitCodes.split(separator: " ") { table[String(code)] = 2 }
        for code in zeroDigitCodes.split(separator: " ") { table[String(code)] = 0 }
        for code in threeDigitCodes.split(separator: " ") { table[String(code)] = 3 }
        for code in fourDigitCodes.split(separator: " ") { table[String(code)] = 4 }
        return table
    }()

    private static let zeroDigitCodes =
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
    private static let threeDigitCodes = "BHD IQD JOD KWD LYD OMR TND"
    private static let fourDigitCodes = "CLF UYW"
    private static let twoDigitCodes = """
        AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD \
        CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL \
        GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD \
        LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN \
        PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL \
        THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VES VED WST XCD XCG YER ZAR ZMW ZWG ZWL
        """
}

/// Why a price text is not an amount of money.
public enum MoneyParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case negative(String)
    case notANumber(String)
    case tooManyFractionDigits(String, currency: CurrencyCode)
    case tooLarge(String)

    public var description: String {
        switch self {
        case .empty: "the price is empty"
        case .negative(let text): "the price '\(text)' is negative"
        case .notANumber(let text): "the price '\(text)' is not a decimal number"
        case .tooManyFractionDigits(let text, let currency):
            "the price '\(text)' has more than \(currency.exponent) decimal digits, the most \(currency.code) allows"
        case .tooLarge(let text): "the price '\(text)' is too large"
        }
    }
}

/// An exact amount of money: integer minor units of a currency (cents for USD, yen for JPY, fils for
/// KWD). Decimal text is converted digit by digit; binary floating point is never involved.
public struct Money: Sendable, Hashable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: CurrencyCode

    public init(minorUnits: Int64, currency: CurrencyCode) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Parses non-negative decimal text such as `45.3`, `8999` or `0.310` (KWD). More fractional digits
    /// than the currency's exponent is an error, not a rounding.
    public static func parse(_ text: some StringProtocol, currency: CurrencyCode) throws(MoneyParseError) -> Money {
        let written = String(text)
        let bytes = Array(written.utf8)
        guard !bytes.isEmpty else { throw .empty }
        if bytes.first == UInt8(ascii: "-") { throw .negative(written) }
        var index = 0
        var units: Int64 = 0
        var integerDigits = 0
        var fractionDigits = 0
        func appendDigit(_ byte: UInt8) throws(MoneyParseError) {
            let (shifted, overflowShift) = units.multipliedReportingOverflow(by: 10)
            let (sum, overflowAdd) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflowShift || overflowAdd { throw .tooLarge(written) }
            units = sum
        }
        while index < bytes.count, isDigit(bytes[index]) {
            try appendDigit(bytes[index])
            integerDigits += 1
            index += 1
        }
        guard integerDigits > 0 else { throw .notANumber(written) }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, isDigit(bytes[index]) {
                fractionDigits += 1
                if fractionDigits > currency.exponent { throw .tooManyFractionDigits(written, currency: currency) }
                try appendDigit(bytes[index])
                index += 1
            }
            guard fractionDigits > 0 else { throw .notANumber(written) }
        }
        guard index == bytes.count else { throw .notANumber(written) }
        for _ in fractionDigits..<currency.exponent { try appendDigit(UInt8(ascii: "0")) }
        return Money(minorUnits: units, currency: currency)
    }

    /// The amount as decimal text with exactly the currency's number of fraction digits: `45.30`,
    /// `8999` (JPY), `0.310` (KWD). `parse` reads it back to the same value.
    public var decimalText: String {
        let magnitude = minorUnits.magnitude
        var digits = String(magnitude)
        let exponent = currency.exponent
        if exponent > 0 {
            if digits.count <= exponent {
                digits = String(repeating: "0", count: exponent - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -exponent))
        }
        return minorUnits < 0 ? "-" + digits : digits
    }

    public var description: String { "\(decimalText) \(currency.code)" }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
