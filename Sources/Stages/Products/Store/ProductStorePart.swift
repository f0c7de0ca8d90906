import Pipelines

/// A product stored part by part (a block too large to hold whole): what its parts so far did. Its SKUs
/// and the positions given to its options are kept in temporary SQLite files, so memory holds one part.
final class PartlyStoredProduct {
    let productID: Int64
    let line: Int
    let isNew: Bool
    var changed = false
    /// Variants created, updated and unchanged by the parts so far.
    var variants = UpsertResult()
    /// The variants of the parts so far (`VariantKey.text`).
    let variantKeys: SeenSKUs
    /// Keys `group code NUL option code`, each with the position given to the option.
    let options: SeenSKUs
    var nextOptionPosition: [String: Int] = [:]

    init(productID: Int64, line: Int, isNew: Bool) throws {
        self.productID = productID
        self.line = line
        self.isNew = isNew
        variantKeys = try SeenSKUs(batchSize: 4_096, filterBits: 1 << 22, cacheKiB: 1_024)
        options = try SeenSKUs(batchSize: 4_096, filterBits: 1 << 22, cacheKiB: 1_024)
    }

    func close() {
        variantKeys.close()
        options.close()
    }

    static func optionKey(_ group: String, _ code: String) -> String { "\(group)\u{0}\(code)" }
}

extension ProductStore {
    /// Stores one part of a large product inside the caller's open transaction, with the outcome of
    /// `upsert` on the whole block: the first part decides the product (by its SKUs, else its slugs),
    /// options are positioned in order of first use over all parts, and the last part deletes the
    /// variants and options no part had and counts the product. Stored variants and options are read
    /// for the part's SKUs and option codes only.
    func upsert(part desired: DesiredProduct, owners: inout StoredOwners, now: String) throws -> UpsertResult {
        rowsWritten = 0
        let block = desired.block
        guard let part = block.part else { throw PipelineError(.internal, "a whole product was stored as a part") }
        if part.index == 0 {
            partlyStored?.close()
            partlyStored = nil
            let found = try owningProduct(block, desired.rows, owners: owners)
            partlyStored = try PartlyStoredProduct(
                productID: try found ?? insertProduct(now: now), line: block.line, isNew: found == nil)
        }
        guard let product = partlyStored, product.line == block.line else {
            throw PipelineError(.internal, "a part of the product at line \(block.line) came without its first part")
        }
        var rows = desired.rows
        try positionOptions(&rows, product)
        // The keys of earlier parts are claimed: a stored variant one of them took is not taken again.
        let claimed = { (key: VariantKey) in try product.variantKeys.firstLine(of: key.text) != nil }
        for key in desired.variants.map(\.key) where try product.variantKeys.record(key.text, line: block.line) != nil {
            throw PipelineError(.data, "product at line \(block.line) lists the SKU '\(key.sku)' twice" + ProductRows.sameOptions(key))
        }
        let keys = ProductPartKeys(skus: desired.skus, optionCodes: rows.optionGroups.mapValues { Array($0.options.keys) })
        // In a bulk load (nothing indexed), a new product's variants are not read: its earlier parts' are
        // all it has, and those are claimed (their keys never come again).
        let readKeys = assumesNewProducts && product.isNew ? ProductPartKeys(skus: [], optionCodes: keys.optionCodes) : keys
        func load(_ id: Int64) throws -> StoredProduct {
            try loadProducts([id], withFacetNames: false, only: readKeys)[id] ?? StoredProduct(id: id)
        }
        var stored = try load(product.productID)
        product.changed = try syncProductRows(rows, &stored) || product.changed
        product.changed = try syncFacetNames(rows.facetNames) || product.changed
        var others: [Int64: StoredProduct] = [:]
        var result = try syncVariants(rows, &stored, owners: owners, others: &others, load: load, now: now, isClaimed: claimed).result
        result.productID = product.productID
        product.variants += result
        owners.record(stored, rows)
        if part.isLast {
            partlyStored = nil
            defer { product.close() }
            // A new product has no variant or option that no part had.
            if !product.isNew {
                result.variantsDeleted = try deleteVariants(of: product, owners: &owners)
                product.variants.variantsDeleted = result.variantsDeleted
                product.changed = try deleteOptions(of: product) || product.changed
            }
            var total = product.variants
            try countProduct(product.productID, isNew: product.isNew, changed: product.changed, into: &total, now: now)
            (result.productsCreated, result.productsUpdated, result.productsUnchanged) =
                (total.productsCreated, total.productsUpdated, total.productsUnchanged)
        }
        result.rowsWritten = rowsWritten
        return result
    }

    /// Gives the part's options their positions in the whole product: an option seen in an earlier part
    /// keeps its position, a new one takes the group's next.
    private func positionOptions(_ rows: inout ProductRows, _ product: PartlyStoredProduct) throws {
        for (code, group) in rows.optionGroups {
            for option in group.options.sorted(by: { $0.value.position < $1.value.position }).map(\.key) {
                let key = PartlyStoredProduct.optionKey(code, option)
                let position: Int
                if let given = try product.options.firstLine(of: key) {
                    position = given
                } else {
                    position = product.nextOptionPosition[code, default: 0]
                    product.nextOptionPosition[code] = position + 1
                    _ = try product.options.record(key, line: position)
                }
                rows.optionGroups[code]?.options[option]?.position = position
            }
        }
    }

    /// Rows a page of the scans for what the parts did not have.
    private static let scanPage = 1_000

    /// Deletes the product's stored variants that no part had; returns how many.
    private func deleteVariants(of product: PartlyStoredProduct, owners: inout StoredOwners) throws -> Int {
        var deleted = 0
        var after: (position: Int64, id: Int64) = (-1, 0)
        while true {
            var page: [(position: Int64, id: Int64, sku: String)] = []
            try read(
                """
                SELECT position, id, sku FROM store_variants WHERE product_id = $1 AND (position, id) > ($2, $3)
                ORDER BY position, id LIMIT \(Self.scanPage)
                """, [.integer(product.productID), .integer(after.position), .integer(after.id)]
            ) { row in page.append((row.storeInteger(0), row.storeInteger(1), row.storeText(2))) }
            guard let last = page.last else { return deleted }
            after = (last.position, last.id)
            var options: [Int64: [(position: Int, code: String)]] = [:]
            try eachBatch(
                of: page.map(\.id),
                """
                SELECT l.variant_id, l.position, o.code FROM store_variant_options l JOIN store_options o ON o.id = l.option_id
                WHERE l.variant_id
                """
            ) { options[$0.storeInteger(0), default: []].append(($0.storeInt(1), $0.storeText(2))) }
            for variant in page {
                let codes = (options[variant.id] ?? []).sorted { $0.position < $1.position }.map(\.code)
                guard try product.variantKeys.firstLine(of: VariantKey(sku: variant.sku, options: codes).text) == nil else { continue }
                try write("DELETE FROM store_variants WHERE id = $1", [.integer(variant.id)])
                owners.bySKU[variant.sku] = nil
                deleted += 1
            }
        }
    }

    /// Deletes the product's stored options that no part used; returns whether there were any.
    private func deleteOptions(of product: PartlyStoredProduct) throws -> Bool {
        var groups: [(id: Int64, code: String)] = []
        try read("SELECT id, code FROM store_option_groups WHERE product_id = $1 ORDER BY id", [.integer(product.productID)]) {
            groups.append(($0.storeInteger(0), $0.storeText(1)))
        }
        var deleted = false
        for group in groups {
            // Option codes are never empty.
            var after = ""
            while true {
                var page: [(id: Int64, code: String)] = []
                try read(
                    """
                    SELECT id, code FROM store_options WHERE option_group_id = $1 AND code > $2
                    ORDER BY code LIMIT \(Self.scanPage)
                    """, [.integer(group.id), .text(after)]
                ) { page.append(($0.storeInteger(0), $0.storeText(1))) }
                guard let last = page.last else { break }
                after = last.code
                for option in page
                where try product.options.firstLine(of: PartlyStoredProduct.optionKey(group.code, option.code)) == nil {
                    try write("DELETE FROM store_options WHERE id = $1", [.integer(option.id)])
                    deleted = true
                }
            }
        }
        return deleted
    }
}
