/// Typed rows for `BulkInserter.insert(_:)`, packed flat: each value is a kind and a number, and the
/// bytes of all text values follow one another in one array. Adding a value makes no object and
/// emptying the rows releases nothing, which `[SQLValue]` (an enum holding strings) cannot offer.
/// Adding is inlinable: it runs once per value, in the importers' modules.
public struct PackedRows: Sendable {
    @usableFromInline
    struct Value: Sendable {
        @usableFromInline var kind: Kind
        /// A reference's slot (`appendReference`).
        @usableFromInline var slot: UInt8
        /// The integer; for text, where its bytes end in `text`; for a reference, its index.
        @usableFromInline var number: Int64

        @inlinable init(_ kind: Kind, _ number: Int64, slot: UInt8 = 0) {
            self.kind = kind
            self.number = number
            self.slot = slot
        }
    }

    @usableFromInline
    enum Kind: UInt8, Sendable {
        case null, integer, text
        /// An integer not known yet, resolved by `resolveReferences` before the rows are inserted.
        case reference
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

    /// An integer the rows' maker does not know yet (the id of a row not inserted yet): `index` in its
    /// `slot`, replaced by `resolveReferences` before the rows go to the database.
    @inlinable
    public mutating func appendReference(slot: UInt8, index: Int) { values.append(Value(.reference, Int64(index), slot: slot)) }

    /// Replaces every reference by the integer `resolve` gives for its slot and index.
    public mutating func resolveReferences(_ resolve: (_ slot: UInt8, _ index: Int) throws -> Int64) rethrows {
        for position in values.indices where values[position].kind == .reference {
            let value = values[position]
            values[position] = Value(.integer, try resolve(value.slot, Int(value.number)))
        }
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

extension DatabaseError {
    /// The misuse error of `BulkInserter.insert(_:)` given packed rows that do not fit the insert's columns.
    static func requireFitting(_ rows: PackedRows, columns: Int, statement: String) throws {
        try requireWholeRows(rows.valueCount, columns: columns, statement: statement)
        guard rows.columnCount == columns else {
            throw DatabaseError(.misuse, "rows of \(rows.columnCount) columns for \(columns)", statement: statement)
        }
    }

    /// The misuse error of `BulkInserter.insert(_:)` given a reference `PackedRows.resolveReferences` did not replace.
    static func unresolvedReference(statement: String) -> DatabaseError {
        DatabaseError(.misuse, "a reference of the rows was not resolved", statement: statement)
    }
}
