/// Typed rows for `BulkInserter.insert(_:)`, packed flat: each value is a kind and a number, and the
/// bytes of all text values follow one another in one array. Adding a value makes no object and
/// emptying the rows releases nothing, which `[SQLValue]` (an enum holding strings) cannot offer.
/// Adding is inlinable: it runs once per value, in the importers' modules.
public struct PackedRows: Sendable {
    @usableFromInline
    struct Value: Sendable {
        @usableFromInline var kind: Kind
        /// The integer; for text, where its bytes end in `text`.
        @usableFromInline var number: Int64

        @inlinable init(_ kind: Kind, _ number: Int64) {
            self.kind = kind
            self.number = number
        }
    }

    @usableFromInline
    enum Kind: UInt8, Sendable {
        case null, integer, text
    }

    public let columnCount: Int
    @usableFromInline var values: [Value] = []
    @usableFromInline var text: [UInt8] = []

    public init(columnCount: Int) { self.columnCount = max(columnCount, 1) }

    public var valueCount: Int { values.count }
    public var rowCount: Int { values.count / columnCount }
    public var isEmpty: Bool { values.isEmpty }

    @inlinable
    public mutating func appendNull() { values.append(Value(.null, 0)) }

    @inlinable
    public mutating func append(_ value: Int64) { values.append(Value(.integer, value)) }

    @inlinable
    public mutating func append(_ value: String) {
        var value = value
        value.withUTF8 { text.append(contentsOf: $0) }
        values.append(Value(.text, Int64(text.count)))
    }

    /// Empties the rows, keeping the room they took.
    public mutating func removeAll() {
        values.removeAll(keepingCapacity: true)
        text.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the values of each run of `rowsPerRun` rows, then of each remaining row: what a
    /// prepared multi-row INSERT binds. `text` holds the bytes of every text value (valid only during
    /// `body`), read in order from `textStart` with `Value.text(in:from:)`.
    func forEachRun(
        rowsPerRun: Int,
        _ body: (_ rows: Int, _ values: UnsafeBufferPointer<Value>, _ text: UnsafeRawBufferPointer, _ textStart: inout Int)
            throws -> Void
    ) rethrows {
        try values.withUnsafeBufferPointer { values in
            try text.withUnsafeBytes { text in
                var start = 0
                var textStart = 0
                while start < values.count {
                    let rows = values.count - start >= rowsPerRun * columnCount ? rowsPerRun : 1
                    try body(rows, UnsafeBufferPointer(rebasing: values[start..<start + rows * columnCount]), text, &textStart)
                    start += rows * columnCount
                }
            }
        }
    }
}

extension PackedRows.Value {
    /// A text value's bytes, which start at `start` in `text`; moves `start` past them.
    func text(in text: UnsafeRawBufferPointer, from start: inout Int) -> UnsafeRawBufferPointer {
        let end = Int(number)
        defer { start = end }
        return UnsafeRawBufferPointer(rebasing: text[start..<end])
    }
}

/// A value `PackedRows` can hold, so that rows can be added with their values' own types.
public protocol PackedValue {
    func append(to rows: inout PackedRows)
}

extension Int64: PackedValue {
    @inlinable public func append(to rows: inout PackedRows) { rows.append(self) }
}

extension Int: PackedValue {
    @inlinable public func append(to rows: inout PackedRows) { rows.append(Int64(self)) }
}

extension String: PackedValue {
    @inlinable public func append(to rows: inout PackedRows) { rows.append(self) }
}

extension Bool: PackedValue {
    @inlinable public func append(to rows: inout PackedRows) { rows.append(self ? 1 : 0) }
}

extension Optional: PackedValue where Wrapped: PackedValue {
    @inlinable public func append(to rows: inout PackedRows) {
        if let value = self { value.append(to: &rows) } else { rows.appendNull() }
    }
}
