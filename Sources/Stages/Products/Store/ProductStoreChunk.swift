import Pipelines

/// A product slug in one language; unique in the store.
struct SlugKey: Hashable {
    var language: String
    var slug: String
}

/// A block with the rows it asks the store for, and the keys the writer looks it up by, worked out by
/// the thread that reads the file.
struct DesiredProduct: Sendable {
    var block: ProductBlock
    var rows: ProductRows
    /// In position order; a SKU the product's variants share comes once for each.
    let skus: [String]
    /// The variants' rows in position order, each once.
    let variants: [(key: VariantKey, value: VariantRows)]
    let slugKeys: [SlugKey]
    /// The stored product whose prices and stock levels alone the block changes, as the whole-file check
    /// found (`UnchangedRuns`): the writer takes its SKUs and slugs to be that product's without looking
    /// them up, and checks what it reads back (`loadValues`) as for any block.
    var valuesOf: Int64?

    init(_ block: ProductBlock) throws {
        self.block = block
        rows = try ProductRows(desired: block)
        variants = rows.variantsInPositionOrder
        skus = variants.map(\.key.sku)
        slugKeys = rows.slugKeys
    }
}

/// Which stored product owns each of a chunk's SKUs and slugs; a key that is missing is not stored.
struct StoredOwners {
    var bySKU: [String: Int64] = [:]
    var bySlug: [SlugKey: Int64] = [:]
}

extension StoredOwners {
    /// Takes `product`'s SKUs and slugs to be owned by `id` (nil: by none).
    mutating func assign(keysOf product: DesiredProduct, to id: Int64?) {
        for sku in product.skus { bySKU[sku] = id }
        for key in product.slugKeys { bySlug[key] = id }
    }

    /// After `stored` was written as `desired`: its old slugs go, its new SKUs and slugs are its own.
    mutating func record(_ stored: StoredProduct, _ desired: ProductRows) {
        for (language, translation) in stored.rows.translations {
            bySlug[SlugKey(language: language, slug: translation.slug)] = nil
        }
        for key in desired.variants.keys { bySKU[key.sku] = stored.id }
        for key in desired.slugKeys { bySlug[key] = stored.id }
    }
}

extension ProductRows {
    var slugKeys: [SlugKey] { translations.map { SlugKey(language: $0.key, slug: $0.value.slug) } }
}

extension ProductStore {
    /// Bound parameters per lookup query: well under SQLite's and PostgreSQL's limits.
    static let lookupBatch = 500

    /// Stores a chunk of product blocks inside the caller's open transaction, with the same outcome as
    /// `upsert` block by block in order. Blocks whose SKUs and slugs are all new (not stored, not in an
    /// earlier block of the chunk) are written together with bulk inserts; the others go through the
    /// row-by-row diff of `upsert`.
    public func upsert(chunk blocks: [ProductBlock]) throws -> UpsertResult {
        try upsert(chunk: blocks.map { try DesiredProduct($0) })
    }

    /// `upsert(chunk:)` with each block's rows already worked out (by the thread that read the blocks).
    /// Products are read in place, never copied: a copy retains every string and array inside it.
    func upsert(chunk products: [DesiredProduct]) throws -> UpsertResult {
        try deferringWrites { try upsertDeferringWrites(chunk: products) }
    }

    private func upsertDeferringWrites(chunk products: [DesiredProduct]) throws -> UpsertResult {
        sharedIDs = SharedRowIDs()
        try preloadSharedRows(of: products)
        let now = timestamp()
        // A bulk load's products are all new: the whole-file check rejected SKUs and slugs repeated, so no
        // product of it can own another's, and nothing of them is looked up or kept by key.
        let allNew = assumesNewProducts
        var owners = StoredOwners()
        // Blocks that change their product's prices and stock levels alone: only those are read back.
        var valueBlocks: [Int: (id: Int64, stored: StoredValues)] = [:]
        if !allNew { (owners, valueBlocks) = try ownersAndValueBlocks(products) }
        // A large product is read part by part, never whole.
        var wholeProductOwners = Set<Int64>()
        for index in products.indices where !allNew && products[index].block.part == nil && valueBlocks[index] == nil {
            wholeProductOwners.formUnion(products[index].skus.compactMap { owners.bySKU[$0] })
            wholeProductOwners.formUnion(products[index].slugKeys.compactMap { owners.bySlug[$0] })
        }
        var stored = wholeProductOwners.isEmpty ? [:] : try loadProducts(Array(wholeProductOwners), withFacetNames: false)
        var result = UpsertResult()
        // Where each product was stored from; the products changed otherwise (their SKUs taken over).
        var sources: [Int64: BlockSource] = [:]
        var changedOtherwise = Set<Int64>()
        func noteSource(_ index: Int, storedAs id: Int64?, owners before: [Int64]) {
            guard let id else { return }
            let source = products[index].block.part == nil ? products[index].block.source : nil
            sources[id] = source
            if source == nil { changedOtherwise.insert(id) }
            for other in before where other != id {
                sources[other] = nil
                changedOtherwise.insert(other)
            }
        }
        // New products waiting for one bulk insert: always a run of consecutive products.
        var pending = 0..<0
        var pendingSKUs = Set<String>()
        var pendingSlugs = Set<SlugKey>()

        func flush() throws {
            guard !pending.isEmpty else { return }
            let (inserted, ids) = try insertNewProducts(products[pending], now: now)
            result += inserted
            for (index, id) in zip(pending, ids) {
                if !allNew { owners.assign(keysOf: products[index], to: id) }
                noteSource(index, storedAs: id, owners: [])
            }
            pending = 0..<0
            pendingSKUs.removeAll(keepingCapacity: true)
            pendingSlugs.removeAll(keepingCapacity: true)
        }

        for index in products.indices {
            // Who owns the block's SKUs before it is written (pending new products flushed first): only a
            // block that is not new can take one over.
            func ownersBefore() -> [Int64] { products[index].skus.compactMap { owners.bySKU[$0] } }
            if products[index].block.part != nil {
                try flush()
                let before = ownersBefore()
                let written = try upsert(part: products[index], owners: &owners, now: now)
                if written.rowsWritten > 0 { stored.removeAll() }
                result += written
                noteSource(index, storedAs: written.productID, owners: before)
                continue
            }
            if let (id, values) = valueBlocks[index] {
                try flush()
                let before = ownersBefore()
                result += try upsertValues(products[index], id: id, stored: values, now: now)
                noteSource(index, storedAs: id, owners: before)
                continue
            }
            let isNew =
                allNew
                || products[index].skus.allSatisfy { owners.bySKU[$0] == nil && !pendingSKUs.contains($0) }
                && products[index].slugKeys.allSatisfy { owners.bySlug[$0] == nil && !pendingSlugs.contains($0) }
            if isNew {
                pending = (pending.isEmpty ? index : pending.lowerBound)..<index + 1
                if !allNew {
                    pendingSKUs.formUnion(products[index].skus)
                    pendingSlugs.formUnion(products[index].slugKeys)
                }
            } else {
                try flush()
                let before = ownersBefore()
                let upserted = try upsert(
                    products[index].block, products[index].rows, owners: &owners, stored: &stored, now: now)
                result += upserted
                noteSource(index, storedAs: upserted.productID, owners: before)
            }
        }
        try flush()
        try recordSources(sources, forgetting: changedOtherwise)
        return result
    }

    /// Who owns the chunk's SKUs and slugs in the store; and, when `readsValuesOnly`, the blocks that change
    /// their product's prices and stock levels alone (by index), with what `loadValues` read back of it.
    ///
    /// A block the whole-file check vouched for (`DesiredProduct.valuesOf`) is taken to be its product's
    /// without a lookup. Should the store not bear that out, its keys are looked up after all, and it is
    /// stored as any other block.
    private func ownersAndValueBlocks(_ products: [DesiredProduct]) throws -> (StoredOwners, [Int: (id: Int64, stored: StoredValues)]) {
        let vouched = readsValuesOnly ? products.indices.filter { products[$0].valuesOf != nil && products[$0].block.part == nil } : []
        let isVouched = Set(vouched)
        var owners = try lookUpOwners(of: products, at: products.indices.filter { !isVouched.contains($0) })
        for index in vouched { owners.assign(keysOf: products[index], to: products[index].valuesOf) }
        var valueBlocks: [Int: (id: Int64, stored: StoredValues)] = [:]
        guard readsValuesOnly else { return (owners, valueBlocks) }
        let candidates = valuesCandidates(products, owners: owners)
        for (id, stored) in try loadValues(candidates, of: products) {
            if let index = candidates[id] { valueBlocks[index] = (id, stored) }
        }
        let unconfirmed = vouched.filter { valueBlocks[$0] == nil }
        if !unconfirmed.isEmpty {
            for index in unconfirmed { owners.assign(keysOf: products[index], to: nil) }
            let found = try lookUpOwners(of: products, at: unconfirmed)
            owners.bySKU.merge(found.bySKU) { $1 }
            owners.bySlug.merge(found.bySlug) { $1 }
        }
        return (owners, valueBlocks)
    }

    /// `lookUpOwners` of the SKUs and slugs of the blocks at `indices`.
    private func lookUpOwners(of products: [DesiredProduct], at indices: [Int]) throws -> StoredOwners {
        var skus: [String] = []
        var slugs: [SlugKey] = []
        for index in indices {
            skus += products[index].skus
            slugs += products[index].slugKeys
        }
        return try lookUpOwners(skus: skus, slugs: slugs)
    }

    /// The stored product of each block that may change its prices and stock levels alone (by the block's
    /// index): a whole block with a shape, whose SKUs and slugs all belong to that product, which no other
    /// block of the chunk names.
    private func valuesCandidates(_ products: [DesiredProduct], owners: StoredOwners) -> [Int64: Int] {
        var candidates: [Int64: Int] = [:]
        var blocksNaming: [Int64: Int] = [:]
        for index in products.indices {
            let named = Set(products[index].skus.map { owners.bySKU[$0] } + products[index].slugKeys.map { owners.bySlug[$0] })
            for case let id? in named { blocksNaming[id, default: 0] += 1 }
            guard products[index].block.part == nil, products[index].block.source?.shape != nil, named.count == 1,
                let only = named.first, let id = only
            else { continue }
            candidates[id] = index
        }
        return candidates.filter { blocksNaming[$0.key] == 1 }
    }

    /// The stored owners of `skus` and `slugs`, a few queries per thousand keys.
    func lookUpOwners(skus: [String], slugs: [SlugKey]) throws -> StoredOwners {
        var owners = StoredOwners()
        try eachBatch(of: skus, "SELECT sku, product_id FROM store_variants WHERE sku") { row in
            owners.bySKU[row.storeText(0)] = row.storeInteger(1)
        }
        let wanted = Set(slugs)
        try eachBatch(
            of: Array(Set(slugs.map(\.slug))), "SELECT language, slug, product_id FROM store_product_translations WHERE slug"
        ) { row in
            let key = SlugKey(language: row.storeText(0), slug: row.storeText(1))
            if wanted.contains(key) { owners.bySlug[key] = row.storeInteger(2) }
        }
        return owners
    }
}
