/// A record `CSVReader.peekPlainRecord` found at the reader's position without copying its fields: one
/// that `next(into:)` would read without an error and with the same two fields. Its byte pointers point
/// into the reader's buffer: valid until the reader is next read, skipped or moved.
public struct CSVPlainRecord {
    /// The line the record starts at.
    public let line: Int
    /// Its bytes, line break included.
    public let length: Int
    let lineBreaks: Int
    /// Where the reader was when it was peeked: `skip` takes only the record at its position.
    let offset: Int64
    /// The two fields asked for, as `RecordBuffer.field` gives them (nil for an unquoted empty field, NULL).
    public let first: UnsafeRawBufferPointer?
    public let second: UnsafeRawBufferPointer?
}

/// The scan behind `CSVReader.peekPlainRecord`: where a record ends and where two of its fields are,
/// in one pass over its bytes and without copying them, for records simple enough to be sure of. A
/// record is plain when it ends in LF or CRLF, is valid UTF-8 and is not blank, has both fields, those
/// two are unquoted or quoted without a doubled quote inside, and none of its fields has a quote where
/// `CSVReader` would see an error, a lone CR, or padding around a quoted field. Anything else is for
/// the full parser (`CSVReader.next(into:)`), whose rules these are a part of.
enum CSVPlainScan {
    enum Outcome {
        case plain(length: Int, lineBreaks: Int, first: Range<Int>?, second: Range<Int>?)
        /// The record is not plain, or `firstMustBeEmpty` and its first field is not.
        case notPlain
        /// The record may go on past the bytes given.
        case needsMore
    }

    /// Scans the record at the start of `bytes` for the fields at `first` and `second`. With
    /// `firstMustBeEmpty`, a record whose field `first` has more than padding (spaces, tabs) is not plain,
    /// and the scan stops there.
    static func scan(
        _ window: UnsafeRawBufferPointer, first: Int, second: Int, firstMustBeEmpty: Bool, delimiter: UInt8, trimsPadding: Bool
    ) -> Outcome {
        // A delimiter that is not ASCII could split a character the whole record's check takes as valid.
        guard delimiter < 0x80 else { return .notPlain }
        guard let base = window.baseAddress else { return .needsMore }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let count = window.count
        let quote = CSVReader.quote, lineFeed = CSVReader.lineFeed, carriageReturn = CSVReader.carriageReturn
        let space = CSVReader.space, tab = CSVReader.tab
        let last = max(first, second)
        var index = 0
        var field = 0
        var lineBreaks = 0
        var firstRange: Range<Int>?
        var secondRange: Range<Int>?
        var content: Range<Int>?
        /// Moves `index` past the quoted field it is at; nil when the record is plain so far, else the outcome.
        /// `doubled`: the field holds a doubled quote.
        func skipQuotedField(doubled: inout Bool) -> Outcome? {
            index += 1
            while true {
                while index < count && bytes[index] != quote {
                    if bytes[index] == lineFeed { lineBreaks += 1 } else if bytes[index] == carriageReturn { return .notPlain }
                    index += 1
                }
                // The byte after a quote says whether it closes the field.
                guard index + 1 < count else { return .needsMore }
                guard bytes[index + 1] == quote else { break }
                doubled = true
                index += 2
            }
            index += 1
            // A closing quote is followed by the delimiter or the line break (padding is for the full parser).
            let next = bytes[index]
            return next == delimiter || next == lineFeed || next == carriageReturn ? nil : .notPlain
        }
        fields: while true {
            if index < count && bytes[index] == quote {
                let start = index + 1
                var doubled = false
                if let outcome = skipQuotedField(doubled: &doubled) { return outcome }
                if doubled && (field == first || field == second) { return .notPlain }
                content = start..<index - 1
            } else {
                let start = index
                if trimsPadding && index < count && (bytes[index] == space || bytes[index] == tab) {
                    // Padding before an opening quote is not data: for the full parser.
                    var probe = index + 1
                    while probe < count && (bytes[probe] == space || bytes[probe] == tab) { probe += 1 }
                    guard probe < count else { return .needsMore }
                    if bytes[probe] == quote { return .notPlain }
                }
                while index < count {
                    let byte = bytes[index]
                    if byte == delimiter { break }
                    if byte <= quote && (byte == quote || byte == lineFeed || byte == carriageReturn) { break }
                    index += 1
                }
                guard index < count else { return .needsMore }
                if bytes[index] == quote { return .notPlain }
                content = start == index ? nil : start..<index
            }
            if field == first {
                if firstMustBeEmpty, let content, !(content.allSatisfy { bytes[$0] == space || bytes[$0] == tab }) { return .notPlain }
                firstRange = content
            }
            if field == second { secondRange = content }
            let byte = bytes[index]
            if byte == delimiter {
                index += 1
                field += 1
                if field > last { break fields }
                continue fields
            }
            if byte == lineFeed {
                index += 1
                lineBreaks += 1
            } else if let outcome = carriageReturnEnds() {
                return outcome
            }
            // Too few fields, or a blank line (one NULL field).
            guard field >= last, field > 0 || content != nil else { return .notPlain }
            return finish(length: index)
        }
        // The fields after the last one asked for: only where the record ends matters, and that no quote
        // is where the full parser would find an error. Every byte that could matter is at most a quote.
        while true {
            while index < count && bytes[index] > quote { index += 1 }
            guard index < count else { return .needsMore }
            let byte = bytes[index]
            if byte == lineFeed {
                index += 1
                lineBreaks += 1
                return finish(length: index)
            }
            if byte == carriageReturn { return carriageReturnEnds() ?? finish(length: index) }
            if byte == quote {
                // Only a field can start with one.
                guard bytes[index - 1] == delimiter else { return .notPlain }
                var doubled = false
                if let outcome = skipQuotedField(doubled: &doubled) { return outcome }
                continue
            }
            index += 1
        }

        /// At a CR: nil when it ends the record with an LF (`index` and `lineBreaks` then past them), else
        /// the outcome.
        func carriageReturnEnds() -> Outcome? {
            guard index + 1 < count else { return .needsMore }
            guard bytes[index + 1] == lineFeed else { return .notPlain }
            index += 2
            lineBreaks += 1
            return nil
        }
        func finish(length: Int) -> Outcome {
            let record = UnsafeRawBufferPointer(start: base, count: length)
            guard UTF8Validation.isASCII(record) || UTF8Validation.isValid(record) else { return .notPlain }
            return .plain(length: length, lineBreaks: lineBreaks, first: firstRange, second: secondRange)
        }
    }
}
