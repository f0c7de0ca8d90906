/// One figure a stage kind reports, declared once beside its parameters: its name (snake_case, the key in
/// run records, logs and metrics), what it counts, and a one-line doc.
///
/// `read`, `written`, `rejected` and `skipped` are the conventional names for rows a stage reads,
/// writes, rejects and leaves as they were; a kind adds its own (`products_created`, `partitions_dropped`).
public struct Counter: Sendable, Hashable {
    public let name: String
    /// What one unit is, plural: `rows`, `products`, `bytes`.
    public let unit: String
    public let doc: String

    public init(_ name: String, unit: String, doc: String) {
        self.name = name
        self.unit = unit
        self.doc = doc
    }

    public static func == (left: Counter, right: Counter) -> Bool { left.name == right.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// The values of a stage's counters. Counters a stage does not set are 0.
public struct StageCounts: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var values: [String: Int64] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (Counter, Int64)...) {
        for (counter, value) in elements { values[counter.name] = value }
    }

    public init(named values: [String: Int64]) { self.values = values }

    public subscript(counter: Counter) -> Int64 {
        get { values[counter.name] ?? 0 }
        set { values[counter.name] = newValue }
    }

    /// In the order of `declared`, with each counter's value (0 when unset).
    public func ordered(by declared: [Counter]) -> [(counter: Counter, value: Int64)] {
        declared.map { ($0, values[$0.name] ?? 0) }
    }

    /// Names this stage set that its kind does not declare: a bug in the stage.
    func undeclared(among declared: [Counter]) -> [String] {
        let names = Set(declared.map(\.name))
        return values.keys.filter { !names.contains($0) }.sorted()
    }
}
