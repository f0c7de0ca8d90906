import Pipelines

extension ProductStore {
    /// Stores one product block inside the caller's open transaction.
    ///
    /// The product is the one owning the block's SKUs (the first SKU found decides; variants of other
    /// products are moved to it), else the one with one of the block's slugs, else a new one. Only rows
    /// that differ are written; variants the stored product has and the block lacks are deleted; prices in
    /// other currencies than the block's are kept. Asset paths are stored as given.
    ///
    /// Throws `PipelineError.data` when the block cannot be stored (a slug of another product, a SKU
    /// twice, an option value its group lacks).
    public func upsert(_ block: ProductBlock) throws -> UpsertResult {
        sharedIDs = SharedRowIDs()
        let desired = try ProductRows(desired: block)
        var owners = try lookUpOwners(skus: block.variants.map(\.sku), slugs: desired.slugKeys)
        var stored: [Int64: StoredProduct] = [:]
        return try upsert(block, desired, owners: &owners, stored: &stored, now: timestamp())
    }

    /// `upsert(block)` with the owners of the block's SKUs and slugs already looked up; brings `owners` up
    /// to date with what it wrote.
    ///
    /// `stored` holds products read ahead (`loadProducts`) as they are in the database; a product missing
    /// there is read when needed. Whatever the block changes is dropped from `stored`, so a later block
    /// reads it again.
    func upsert(
        _ block: ProductBlock, _ desired: ProductRows, owners: inout StoredOwners, stored cache: inout [Int64: StoredProduct],
        now: String
    ) throws -> UpsertResult {
        rowsWritten = 0
        var result = UpsertResult()
        func storedProduct(_ id: Int64) throws -> StoredProduct {
            if let product = cache[id] { return product }
            let product = try loadProduct(id, withFacetNames: false)
            cache[id] = product
            return product
        }
        let productID = try owningProduct(block, desired, owners: owners)
        var stored = try productID.map(storedProduct) ?? StoredProduct(id: try insertProduct(now: now))
        result.productID = stored.id

        var productChanged = try syncProductRows(desired, &stored)
        productChanged = try syncFacetNames(desired.facetNames) || productChanged
        var otherProducts: [Int64: StoredProduct] = [:]
        let synced = try syncVariants(desired, &stored, owners: owners, others: &otherProducts, load: storedProduct, now: now)
        result += synced.result
        for (key, id) in stored.variantIDs.sorted(by: { $0.key < $1.key }) where !synced.matched.contains(key) {
            try write("DELETE FROM store_variants WHERE id = $1", [.integer(id)])
            owners.bySKU[key.sku] = nil
            result.variantsDeleted += 1
        }
        owners.record(stored, desired)
        try countProduct(stored.id, isNew: productID == nil, changed: productChanged, into: &result, now: now)
        result.rowsWritten = rowsWritten
        if rowsWritten > 0 {
            cache[stored.id] = nil
            for id in otherProducts.keys { cache[id] = nil }
        }
        return result
    }

    /// The stored product a block is for: the one owning its SKUs (the first SKU found decides), else the
    /// one with one of its slugs; nil for a new product. A slug of another product is a data error.
    func owningProduct(_ block: ProductBlock, _ desired: ProductRows, owners: StoredOwners) throws -> Int64? {
        let matchedBySKU = block.variants.lazy.compactMap { owners.bySKU[$0.sku] }.first
        var slugOwners: [String: Int64] = [:]
        for (language, translation) in desired.translations {
            slugOwners[language] = owners.bySlug[SlugKey(language: language, slug: translation.slug)]
        }
        let productID = matchedBySKU ?? slugOwners.sorted(by: { $0.key < $1.key }).first?.value
        for (language, owner) in slugOwners.sorted(by: { $0.key < $1.key }) where owner != productID {
            throw PipelineError(
                .data,
                "product at line \(block.line): the slug '\(desired.translations[language]?.slug ?? "")' (\(language)) "
                    + "belongs to another stored product than its SKUs")
        }
        return productID
    }

    func insertProduct(now: String) throws -> Int64 {
        try insertReturningID(
            "INSERT INTO store_products (created_at, updated_at) VALUES ($1, $2) RETURNING id", [.text(now), .text(now)])
    }

    /// Writes the desired variants, in position order, taking over those another product owns (read
    /// through `load`; its other variants with the block's SKUs are deleted, since a SKU belongs to one
    /// product); the outcomes counted, and the stored variants of `stored` that were matched.
    /// `isClaimed`: stored variants an earlier part of the product took.
    func syncVariants(
        _ desired: ProductRows, _ stored: inout StoredProduct, owners: StoredOwners, others: inout [Int64: StoredProduct],
        load: (Int64) throws -> StoredProduct, now: String, isClaimed: (VariantKey) throws -> Bool = { _ in false }
    ) throws -> (result: UpsertResult, matched: Set<VariantKey>) {
        var result = UpsertResult()
        var new: [(key: VariantKey, rows: VariantRows)] = []
        var match = try VariantMatch(stored: stored, desired: desired.variants.keys, isClaimed: isClaimed)
        var otherMatches: [Int64: VariantMatch] = [:]
        for (key, variant) in desired.variantsInPositionOrder {
            var found: (rows: VariantRows, id: Int64, moved: Bool)?
            if let storedKey = match.take(key), let rows = stored.rows.variants[storedKey], let id = stored.variantIDs[storedKey] {
                found = (rows, id, false)
            } else if let owner = owners.bySKU[key.sku], owner != stored.id {
                if others[owner] == nil {
                    let other = try load(owner)
                    others[owner] = other
                    otherMatches[owner] = try VariantMatch(stored: other, desired: desired.variants.keys, isClaimed: isClaimed)
                }
                if let storedKey = otherMatches[owner]?.take(key), let rows = others[owner]?.rows.variants[storedKey],
                    let id = others[owner]?.variantIDs[storedKey]
                {
                    found = (rows, id, true)
                }
            }
            guard let found else {
                new.append((key, variant))
                continue
            }
            let outcome = try syncVariant(
                desired: variant, stored: found.rows, id: found.id, moved: found.moved, product: stored, now: now)
            switch outcome {
            case .updated: result.variantsUpdated += 1
            case .unchanged: result.variantsUnchanged += 1
            }
        }
        try insertNewVariants(new, of: stored, now: now)
        result.variantsCreated += new.count
        let skus = Set(desired.variants.keys.map(\.sku))
        for (owner, otherMatch) in otherMatches.sorted(by: { $0.key < $1.key }) {
            for key in otherMatch.untaken(among: skus) {
                guard let id = others[owner]?.variantIDs[key] else { continue }
                try write("DELETE FROM store_variants WHERE id = $1", [.integer(id)])
                result.variantsDeleted += 1
            }
        }
        return (result, match.matched)
    }

    /// Counts the product as created, updated (stamping `updated_at`) or unchanged, from what was written
    /// of it and its variants.
    func countProduct(_ id: Int64, isNew: Bool, changed: Bool, into result: inout UpsertResult, now: String) throws {
        if isNew {
            result.productsCreated = 1
        } else if changed || result.variantsCreated + result.variantsUpdated + result.variantsDeleted > 0 {
            try stampUpdated(.products, id: id, now: now)
            result.productsUpdated = 1
        } else {
            result.productsUnchanged = 1
        }
    }

    enum Outcome { case updated, unchanged }

    // MARK: - Product rows

    /// Writes the product's own rows that differ; returns whether any did.
    func syncProductRows(_ desired: ProductRows, _ stored: inout StoredProduct) throws -> Bool {
        let product = SQLValue.integer(stored.id)
        var changed = try sync(stored.rows.translations, desired.translations) { language, row, isStored in
            if isStored {
                try write("DELETE FROM store_product_translations WHERE product_id = $1 AND language = $2", [product, .text(language)])
            }
            if let row {
                try write(
                    """
                    INSERT INTO store_product_translations (product_id, language, position, name, slug, description)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    [product, .text(language), .integer(Int64(row.position)), .text(row.name), .text(row.slug), .text(row.description)])
            }
        }
        changed = try sync(stored.rows.assets, desired.assets) { position, source, isStored in
            if isStored {
                try write("DELETE FROM store_product_assets WHERE product_id = $1 AND position = $2", [product, .integer(Int64(position))])
            }
            if let source {
                try write(
                    "INSERT INTO store_product_assets (product_id, position, asset_id) VALUES ($1, $2, $3)",
                    [product, .integer(Int64(position)), .integer(try assetID(source))])
            }
        } || changed
        changed = try sync(stored.rows.facetValues, desired.facetValues) { position, ref, isStored in
            if isStored {
                try write(
                    "DELETE FROM store_product_facet_values WHERE product_id = $1 AND position = $2", [product, .integer(Int64(position))])
            }
            if let ref {
                try write(
                    "INSERT INTO store_product_facet_values (product_id, position, facet_value_id) VALUES ($1, $2, $3)",
                    [product, .integer(Int64(position)), .integer(try facetValueID(ref))])
            }
        } || changed
        changed = try sync(stored.rows.customFields, desired.customFields) { key, row, isStored in
            if isStored {
                try write(
                    "DELETE FROM store_product_custom_fields WHERE product_id = $1 AND language = $2 AND name = $3",
                    [product, .text(key.language), .text(key.name)])
            }
            if let row {
                try write(
                    "INSERT INTO store_product_custom_fields (product_id, language, name, position, value) VALUES ($1, $2, $3, $4, $5)",
                    [product, .text(key.language), .text(key.name), .integer(Int64(row.position)), .text(row.value)])
            }
        } || changed
        changed = try syncOptionGroups(desired.optionGroups, &stored) || changed
        return changed
    }

    private func syncOptionGroups(_ desired: [String: OptionGroupRow], _ stored: inout StoredProduct) throws -> Bool {
        var changed = false
        for (code, id) in stored.groupIDs.sorted(by: { $0.key < $1.key }) where desired[code] == nil {
            try write("DELETE FROM store_option_groups WHERE id = $1", [.integer(id)])
            changed = true
        }
        for (code, group) in desired.sorted(by: { $0.value.position < $1.value.position }) {
            let storedGroup = stored.rows.optionGroups[code]
            let groupID: Int64
            if let existing = stored.groupIDs[code] {
                groupID = existing
                if storedGroup?.position != group.position {
                    try write("UPDATE store_option_groups SET position = $1 WHERE id = $2", [.integer(Int64(group.position)), .integer(groupID)])
                    changed = true
                }
            } else {
                groupID = try insertReturningID(
                    "INSERT INTO store_option_groups (product_id, position, code) VALUES ($1, $2, $3) RETURNING id",
                    [.integer(stored.id), .integer(Int64(group.position)), .text(code)])
                stored.groupIDs[code] = groupID
                changed = true
            }
            changed = try sync(storedGroup?.names ?? [:], group.names) { language, name, isStored in
                if isStored {
                    try write(
                        "DELETE FROM store_option_group_translations WHERE option_group_id = $1 AND language = $2",
                        [.integer(groupID), .text(language)])
                }
                if let name {
                    try write(
                        "INSERT INTO store_option_group_translations (option_group_id, language, name) VALUES ($1, $2, $3)",
                        [.integer(groupID), .text(language), .text(name)])
                }
            } || changed
            changed = try syncOptions(group.options, stored: storedGroup?.options ?? [:], groupCode: code, groupID: groupID, &stored) || changed
        }
        return changed
    }

    private func syncOptions(
        _ desired: [String: OptionRow], stored storedOptions: [String: OptionRow], groupCode: String, groupID: Int64,
        _ stored: inout StoredProduct
    ) throws -> Bool {
        var changed = false
        for (code, option) in desired.sorted(by: { $0.key < $1.key }) {
            let ref = OptionRef(groupCode: groupCode, optionCode: code)
            let optionID: Int64
            if let existing = stored.optionIDs[ref] {
                optionID = existing
                if storedOptions[code]?.position != option.position {
                    try write("UPDATE store_options SET position = $1 WHERE id = $2", [.integer(Int64(option.position)), .integer(optionID)])
                    changed = true
                }
            } else {
                optionID = try insertReturningID(
                    "INSERT INTO store_options (option_group_id, position, code) VALUES ($1, $2, $3) RETURNING id",
                    [.integer(groupID), .integer(Int64(option.position)), .text(code)])
                stored.optionIDs[ref] = optionID
                changed = true
            }
            changed = try sync(storedOptions[code]?.names ?? [:], option.names) { language, name, isStored in
                if isStored {
                    try write(
                        "DELETE FROM store_option_translations WHERE option_id = $1 AND language = $2", [.integer(optionID), .text(language)])
                }
                if let name {
                    try write(
                        "INSERT INTO store_option_translations (option_id, language, name) VALUES ($1, $2, $3)",
                        [.integer(optionID), .text(language), .text(name)])
                }
            } || changed
        }
        for code in storedOptions.keys.sorted() where desired[code] == nil {
            let ref = OptionRef(groupCode: groupCode, optionCode: code)
            if let id = stored.optionIDs.removeValue(forKey: ref) {
                try write("DELETE FROM store_options WHERE id = $1", [.integer(id)])
                changed = true
            }
        }
        return changed
    }

    /// Calls `replace(key, desired, isStored)` for every key whose value differs (nil: the row goes away),
    /// in key order; returns whether any did. `replace` deletes the old row when `isStored` (never a row
    /// that is not there) and inserts the new one.
    func sync<Key: Comparable, Value: Equatable>(
        _ stored: [Key: Value], _ desired: [Key: Value], replace: (Key, Value?, Bool) throws -> Void
    ) throws -> Bool {
        var changed = false
        for key in Set(stored.keys).union(desired.keys).sorted() where stored[key] != desired[key] {
            try replace(key, desired[key], stored[key] != nil)
            changed = true
        }
        return changed
    }
}
