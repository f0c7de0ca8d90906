/// Distinct keys in order of first use, each with its position in that order.
struct FirstUseOrder<Key: Hashable & Sendable>: Sendable {
    private(set) var keys: [Key] = []
    private var positions: [Key: Int] = [:]

    /// The position of `key`, added at the end if it is new.
    mutating func index(of key: Key) -> Int {
        if let position = positions[key] { return position }
        positions[key] = keys.count
        keys.append(key)
        return keys.count - 1
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
    }
}

/// The positions of one new product's options among the rows' options, by group position and code, as
/// `addProduct` writes them: groups in position order, each group's codes in ascending order. Searched,
/// not hashed, and its room kept from one product to the next.
struct NewOptionIndexes {
    private var groups: [(position: Int, end: Int)] = []
    private var codes: [String] = []
    private var indexes: [Int] = []

    mutating func removeAll() {
        groups.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        indexes.removeAll(keepingCapacity: true)
    }

    /// The next option of the group being written; codes come in ascending order.
    mutating func add(_ code: String, _ index: Int) {
        codes.append(code)
        indexes.append(index)
    }

    mutating func endGroup(position: Int) { groups.append((position, codes.count)) }

    func index(group position: Int, code: String) -> Int? {
        guard let group = groups.firstIndex(where: { $0.position == position }) else { return nil }
        var low = group == 0 ? 0 : groups[group - 1].end
        var high = groups[group].end
        while low < high {
            let middle = (low + high) / 2
            if codes[middle] < code { low = middle + 1 } else { high = middle }
        }
        return low < groups[group].end && codes[low] == code ? indexes[low] : nil
    }
}
