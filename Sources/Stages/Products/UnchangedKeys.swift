import Pipelines

/// The SKUs and slugs of the blocks the whole-file check found unchanged, which it does not record in
/// `SeenSKUs` and `SeenSlugs`: recording every SKU of a file is most of the check's time, and an
/// unchanged block's SKUs and slugs are those of its stored product, which owns them in the store.
///
/// They are kept as hashes in two Bloom filters of fixed size, and the unchanged products with where
/// their blocks start in a temporary database, so memory stays bounded. A SKU or slug of a block read in
/// full that the filter may hold is looked up in the store: when its owner's block was found unchanged
/// earlier in the file, the line that used it first is that block's.
///
/// The filters are small (1 MiB and 256 KiB), so that an insert mostly stays in the processor's cache:
/// a false positive costs one store lookup, and only for a block read in full (at 1,000,000 variants
/// about one SKU in twenty).
final class UnchangedKeys {
    private let skus = BloomFilter(bits: 1 << 23)
    private let slugs = BloomFilter(bits: 1 << 21)
    private let store: ProductSourceIndex
    /// The line of the first row with the SKU in the block at the position, read again from the file.
    private let rowLine: (String, ReaderPosition) throws -> Int?
    private let starts: UnchangedStarts

    init(store: ProductSourceIndex, rowLine: @escaping (String, ReaderPosition) throws -> Int?) throws {
        self.store = store
        self.rowLine = rowLine
        starts = try UnchangedStarts()
    }

    deinit { close() }

    /// Closes the database of the blocks' starts, which deletes its file.
    func close() { starts.close() }

    /// Records the block at `start`, found unchanged: the stored product `productID`, the
    /// `BloomFilter.hash(of:)` of its SKUs and of its slugs' `SeenSlugs.key`s.
    func add(_ productID: Int64, at start: ReaderPosition, skuHashes: [UInt64], slugHashes: [UInt64]) throws {
        try starts.add(productID, at: start)
        for hash in skuHashes { skus.insert(hash) }
        for hash in slugHashes { slugs.insert(hash) }
    }

    /// The line of the row of an unchanged block before that uses `sku`, if one does.
    func line(ofSKU sku: String) throws -> Int? {
        guard skus.mayContain(BloomFilter.hash(of: sku)), let owner = try store.owner(ofSKU: sku),
            let start = try starts.start(of: owner)
        else { return nil }
        return try rowLine(sku, start) ?? start.line
    }

    /// The line of the unchanged product before that has `slug`, if one does.
    func line(ofSlug slug: SlugKey) throws -> Int? {
        guard slugs.mayContain(BloomFilter.hash(of: SeenSlugs.key(slug))), let owner = try store.owner(of: slug) else { return nil }
        return try starts.start(of: owner)?.line
    }
}
