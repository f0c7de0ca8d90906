import Pipelines

/// A product slug in one language; unique in the store.
struct SlugKey: Hashable {
    var language: String
    var slug: String
}

/// A block with the rows it asks the store for.
struct DesiredProduct: Sendable {
    var block: ProductBlock
    var rows: ProductRows

    init(_ block: ProductBlock) throws {
        self.block = block
        rows = try ProductRows(desired: block)
    }
}

/// Which stored product owns each of a chunk's SKUs and slugs; a key that is missing is not stored.
struct StoredOwners {
    var bySKU: [String: Int64] = [:]
    var bySlug: [SlugKey: Int64] = [:]
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
    func upsert(chunk products: [DesiredProduct]) throws -> UpsertResult {
        sharedIDs = SharedRowIDs()
        let now = timestamp()
        let blocks = products.map(\.block)
        let desired = products.map(\.rows)
        var owners = try lookUpOwners(
            skus: blocks.flatMap { $0.variants.map(\.sku) }, slugs: desired.flatMap(\.slugKeys))
        var stored = try loadProducts(owners.productIDs, withFacetNames: false)
        var result = UpsertResult()
        var pending: [(block: ProductBlock, rows: ProductRows)] = []
        var pendingSKUs = Set<String>()
        var pendingSlugs = Set<SlugKey>()

        func flush() throws {
            guard !pending.isEmpty else { return }
            let (inserted, ids) = try insertNewProducts(pending, now: now)
            result += inserted
            for (entry, id) in zip(pending, ids) {
                for sku in entry.rows.variants.keys { owners.bySKU[sku] = id }
                for key in entry.rows.slugKeys { owners.bySlug[key] = id }
            }
            pending = []
            pendingSKUs = []
            pendingSlugs = []
        }

        for (block, rows) in zip(blocks, desired) {
            let skus = block.variants.map(\.sku)
            let slugs = rows.slugKeys
            let isNew =
                skus.allSatisfy { owners.bySKU[$0] == nil && !pendingSKUs.contains($0) }
                && slugs.allSatisfy { owners.bySlug[$0] == nil && !pendingSlugs.contains($0) }
            if isNew {
                pending.append((block, rows))
                pendingSKUs.formUnion(skus)
                pendingSlugs.formUnion(slugs)
            } else {
                try flush()
                result += try upsert(block, rows, owners: &owners, stored: &stored, now: now)
            }
        }
        try flush()
        return result
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

    /// A PostgreSQL array literal of `values`, every element quoted (`"` and `\` escaped), for a bound
    /// `text[]` parameter.
    static func textArrayLiteral(_ values: [String]) -> String {
        var literal = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }
}
