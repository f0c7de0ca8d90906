/// Pairs the variants a block wants with a stored product's: first those with the same SKU and option
/// values, then, for a SKU whose variants changed their options, the stored ones left with that SKU in
/// position order. A SKU no two variants share is matched by the SKU alone, as before variants could
/// share one.
struct VariantMatch {
    private var exact: Set<VariantKey>
    /// Stored variants with no desired variant of the same key, by SKU, in position order.
    private var leftBySKU: [String: [VariantKey]] = [:]
    private(set) var matched = Set<VariantKey>()

    /// `isClaimed`: stored variants an earlier part of the same product already took (never matched again).
    init(stored: StoredProduct, desired: Dictionary<VariantKey, VariantRows>.Keys, isClaimed: (VariantKey) throws -> Bool = { _ in false })
        rethrows
    {
        exact = Set(stored.rows.variants.keys.filter { desired.contains($0) })
        let left = stored.rows.variants.filter { !desired.contains($0.key) }.sorted { $0.value.position < $1.value.position }
        for (key, _) in left where try !isClaimed(key) { leftBySKU[key.sku, default: []].append(key) }
    }

    /// The stored variant `key` is for, taken; nil when none is left.
    mutating func take(_ key: VariantKey) -> VariantKey? {
        if exact.remove(key) != nil {
            matched.insert(key)
            return key
        }
        guard var candidates = leftBySKU[key.sku], !candidates.isEmpty else { return nil }
        let taken = candidates.removeFirst()
        leftBySKU[key.sku] = candidates.isEmpty ? nil : candidates
        matched.insert(taken)
        return taken
    }

    /// Stored variants with one of `skus` that no desired variant took.
    func untaken(among skus: Set<String>) -> [VariantKey] {
        leftBySKU.filter { skus.contains($0.key) }.flatMap(\.value).sorted()
    }
}
