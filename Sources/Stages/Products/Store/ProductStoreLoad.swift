import Pipelines

/// A stored product's rows with the row ids needed to change them.
struct StoredProduct {
    var id: Int64
    var rows = ProductRows()
    var variantIDs: [VariantKey: Int64] = [:]
    var groupIDs: [String: Int64] = [:]
    var optionIDs: [OptionRef: Int64] = [:]
}

/// The variants and options a part of a product has: the only ones read of a large stored product.
struct ProductPartKeys {
    var skus: [String]
    /// Option codes by option group code.
    var optionCodes: [String: [String]]
}

extension StoredOwners {
    /// Every stored product owning one of the SKUs or slugs.
    var productIDs: [Int64] { Array(Set(bySKU.values).union(bySlug.values)) }
}

extension ProductStore {
    /// The prices (every currency) and stock levels (at the default location) of the variants `ids`.
    func readValues(
        ofVariants ids: [Int64], prices: (Int64, (currency: String, row: PriceRow)) -> Void, stock: (Int64, Int64) -> Void
    ) throws {
        try eachBatch(of: ids, "SELECT variant_id, currency, currency_exponent, amount_minor FROM store_prices WHERE variant_id") { row in
            prices(row.storeInteger(0), (row.storeText(1), PriceRow(exponent: row.storeInt(2), amountMinor: row.storeInteger(3))))
        }
        // The location is filtered here, not in SQL: given `location_id = $2`, SQLite scans every stock
        // level of the location (its index) instead of looking the variants up.
        let location = defaultLocationID
        try eachBatch(of: ids, "SELECT variant_id, on_hand, location_id FROM store_stock_levels WHERE variant_id") { row in
            if row.storeInteger(2) == location { stock(row.storeInteger(0), row.storeInteger(1)) }
        }
    }

    /// Reads one product; see `loadProducts`.
    func loadProduct(_ id: Int64, withFacetNames: Bool) throws -> StoredProduct {
        try loadProducts([id], withFacetNames: withFacetNames)[id] ?? StoredProduct(id: id)
    }

    /// Reads products with one query per table (about 15) for all of them (SQLite: per `lookupBatch`
    /// keys); facet names only when `withFacetNames`. An id that is not stored reads as a product without
    /// rows.
    ///
    /// With `only`, of their variants and options only those with these SKUs and codes: a part of a
    /// product too large to read whole.
    func loadProducts(_ ids: [Int64], withFacetNames: Bool, only: ProductPartKeys? = nil) throws -> [Int64: StoredProduct] {
        var loader = ProductsLoad(ids: ids, only: only)
        try loader.readProductRows(self)
        try loader.readOptionGroups(self)
        try loader.readVariants(self)
        if withFacetNames { try loader.readFacetNames(self) }
        return loader.byID
    }
}

/// The state of one `loadProducts`: the products read so far, in an array so that rows are added in
/// place, where each product is, and which product each option belongs to.
private struct ProductsLoad {
    var products: [StoredProduct]
    let ids: [Int64]
    let productIndex: [Int64: Int]
    var options: [Int64: (product: Int, ref: OptionRef)] = [:]
    /// Facet values the products and their variants use, collected for `readFacetNames`.
    var facetValueIDs = Set<Int64>()
    let only: ProductPartKeys?

    init(ids: [Int64], only: ProductPartKeys?) {
        self.only = only
        self.ids = Array(Set(ids))
        products = self.ids.map { StoredProduct(id: $0) }
        productIndex = Dictionary(uniqueKeysWithValues: self.ids.enumerated().map { ($0.element, $0.offset) })
    }

    var byID: [Int64: StoredProduct] { Dictionary(uniqueKeysWithValues: products.map { ($0.id, $0) }) }

    /// Runs a query whose first column is a product id and hands each row to `apply`, with the product
    /// and its place in `products`.
    mutating func eachProductRow(
        _ store: ProductStore, _ select: String, _ apply: (inout StoredProduct, _ index: Int, any RowView) -> Void
    ) throws {
        try eachProductRow(store, select, by: ids, apply)
    }

    /// `eachProductRow` for a query matching other keys than the product ids; rows of other products are
    /// left out.
    mutating func eachProductRow<Key: LookupKey>(
        _ store: ProductStore, _ select: String, by keys: [Key],
        _ apply: (inout StoredProduct, _ index: Int, any RowView) -> Void
    ) throws {
        try store.eachBatch(of: keys, select) { row in
            guard let index = productIndex[row.storeInteger(0)] else { return }
            apply(&products[index], index, row)
        }
    }

    mutating func readProductRows(_ store: ProductStore) throws {
        try eachProductRow(
            store, "SELECT product_id, language, position, name, slug, description FROM store_product_translations WHERE product_id"
        ) { product, _, row in
            product.rows.translations[row.storeText(1)] = TranslationRow(
                position: row.storeInt(2), name: row.storeText(3), slug: row.storeText(4), description: row.storeText(5))
        }
        try eachProductRow(
            store,
            """
            SELECT l.product_id, l.position, a.source FROM store_product_assets l JOIN store_assets a ON a.id = l.asset_id
            WHERE l.product_id
            """
        ) { product, _, row in product.rows.assets[row.storeInt(1)] = row.storeText(2) }
        var usedFacetValues: [Int64] = []
        try eachProductRow(
            store,
            """
            SELECT l.product_id, l.position, f.code, v.code, v.id FROM store_product_facet_values l
            JOIN store_facet_values v ON v.id = l.facet_value_id JOIN store_facets f ON f.id = v.facet_id
            WHERE l.product_id
            """
        ) { product, _, row in
            product.rows.facetValues[row.storeInt(1)] = FacetValueRef(facetCode: row.storeText(2), valueCode: row.storeText(3))
            usedFacetValues.append(row.storeInteger(4))
        }
        facetValueIDs.formUnion(usedFacetValues)
        try eachProductRow(
            store, "SELECT product_id, language, name, position, value FROM store_product_custom_fields WHERE product_id"
        ) { product, _, row in
            product.rows.customFields[CustomFieldKey(language: row.storeText(1), name: row.storeText(2))] = CustomFieldRow(
                position: row.storeInt(3), value: row.storeText(4))
        }
    }

    /// Option groups by product, then their translations and options by group id, then the options'
    /// translations by option id: each query by its table's own key.
    mutating func readOptionGroups(_ store: ProductStore) throws {
        var groups: [Int64: (product: Int, code: String)] = [:]
        try eachProductRow(store, "SELECT product_id, id, code, position FROM store_option_groups WHERE product_id") {
            product, index, row in
            let code = row.storeText(2)
            groups[row.storeInteger(1)] = (index, code)
            product.groupIDs[code] = row.storeInteger(1)
            product.rows.optionGroups[code] = OptionGroupRow(position: row.storeInt(3), names: [:], options: [:])
        }
        let groupIDs = Array(groups.keys)
        try store.eachBatch(
            of: groupIDs, "SELECT option_group_id, language, name FROM store_option_group_translations WHERE option_group_id"
        ) { row in
            guard let group = groups[row.storeInteger(0)] else { return }
            products[group.product].rows.optionGroups[group.code]?.names[row.storeText(1)] = row.storeText(2)
        }
        func eachOption(_ apply: (any RowView) -> Void) throws {
            let select = "SELECT option_group_id, id, code, position FROM store_options WHERE"
            guard let only else { return try store.eachBatch(of: groupIDs, "\(select) option_group_id", apply) }
            // Group ids are the store's own integers, safe to write into the statement.
            for (id, group) in groups.sorted(by: { $0.key < $1.key }) {
                try store.eachBatch(of: only.optionCodes[group.code] ?? [], "\(select) option_group_id = \(id) AND code", apply)
            }
        }
        try eachOption { row in
            guard let group = groups[row.storeInteger(0)] else { return }
            let ref = OptionRef(groupCode: group.code, optionCode: row.storeText(2))
            options[row.storeInteger(1)] = (group.product, ref)
            products[group.product].optionIDs[ref] = row.storeInteger(1)
            products[group.product].rows.optionGroups[group.code]?.options[ref.optionCode] = OptionRow(
                position: row.storeInt(3), names: [:])
        }
        try store.eachBatch(of: Array(options.keys), "SELECT option_id, language, name FROM store_option_translations WHERE option_id") {
            row in
            guard let option = options[row.storeInteger(0)] else { return }
            products[option.product].rows.optionGroups[option.ref.groupCode]?.options[option.ref.optionCode]?
                .names[row.storeText(1)] = row.storeText(2)
        }
    }

    /// Variants by product, then their rows by variant id. Reads the options first (`readOptionGroups`).
    mutating func readVariants(_ store: ProductStore) throws {
        var variants: [(product: Int, id: Int64, sku: String, rows: VariantRows)] = []
        var variantIndex: [Int64: Int] = [:]
        func readVariant(_: inout StoredProduct, _ index: Int, _ row: any RowView) {
            let (id, sku) = (row.storeInteger(1), row.storeText(2))
            variantIndex[id] = variants.count
            let rows = VariantRows(
                position: row.storeInt(3), taxCategory: row.storeText(4), trackInventory: row.int64(5).map { $0 != 0 })
            variants.append((index, id, sku, rows))
        }
        let select = "SELECT product_id, id, sku, position, tax_category, track_inventory FROM store_variants WHERE"
        if let only {
            try eachProductRow(store, "\(select) sku", by: Array(Set(only.skus)), readVariant)
        } else {
            try eachProductRow(store, "\(select) product_id", readVariant)
        }
        let variantIDs = Array(variantIndex.keys)
        /// Runs a query whose first column is a variant id and hands each row to `apply`.
        func eachVariantRow(_ select: String, _ apply: (inout VariantRows, any RowView) -> Void) throws {
            try store.eachBatch(of: variantIDs, select) { row in
                guard let index = variantIndex[row.storeInteger(0)] else { return }
                apply(&variants[index].rows, row)
            }
        }
        try store.readValues(ofVariants: variantIDs) { id, price in
            guard let index = variantIndex[id] else { return }
            variants[index].rows.prices[price.currency] = price.row
        } stock: { id, onHand in
            guard let index = variantIndex[id] else { return }
            variants[index].rows.stockOnHand = onHand
        }
        try eachVariantRow(
            "SELECT l.variant_id, l.position, a.source FROM store_variant_assets l JOIN store_assets a ON a.id = l.asset_id WHERE l.variant_id"
        ) { variant, row in variant.assets[row.storeInt(1)] = row.storeText(2) }
        var usedFacetValues: [Int64] = []
        try eachVariantRow(
            """
            SELECT l.variant_id, l.position, f.code, fv.code, fv.id FROM store_variant_facet_values l
            JOIN store_facet_values fv ON fv.id = l.facet_value_id JOIN store_facets f ON f.id = fv.facet_id
            WHERE l.variant_id
            """
        ) { variant, row in
            variant.facetValues[row.storeInt(1)] = FacetValueRef(facetCode: row.storeText(2), valueCode: row.storeText(3))
            usedFacetValues.append(row.storeInteger(4))
        }
        facetValueIDs.formUnion(usedFacetValues)
        // A variant links options of its own product's groups, all read by `readOptionGroups`; for a part,
        // those of the part's option codes, and the others a stored variant links are named here.
        var optionRefs = options.mapValues(\.ref)
        var unread: [(variant: Int, position: Int, option: Int64)] = []
        try store.eachBatch(of: variantIDs, "SELECT variant_id, position, option_id FROM store_variant_options WHERE variant_id") {
            row in
            guard let index = variantIndex[row.storeInteger(0)] else { return }
            if let ref = optionRefs[row.storeInteger(2)] {
                variants[index].rows.options[row.storeInt(1)] = ref
            } else {
                unread.append((index, row.storeInt(1), row.storeInteger(2)))
            }
        }
        try store.eachBatch(
            of: Array(Set(unread.map(\.option))),
            "SELECT o.id, g.code, o.code FROM store_options o JOIN store_option_groups g ON g.id = o.option_group_id WHERE o.id"
        ) { row in optionRefs[row.storeInteger(0)] = OptionRef(groupCode: row.storeText(1), optionCode: row.storeText(2)) }
        for link in unread { variants[link.variant].rows.options[link.position] = optionRefs[link.option] }
        try eachVariantRow(
            "SELECT variant_id, language, name, position, value FROM store_variant_custom_fields WHERE variant_id"
        ) { variant, row in
            variant.customFields[CustomFieldKey(language: row.storeText(1), name: row.storeText(2))] =
                CustomFieldRow(position: row.storeInt(3), value: row.storeText(4))
        }
        // Keyed once their options are known.
        for variant in variants {
            let key = VariantKey(sku: variant.sku, options: variant.rows.optionCodes)
            guard products[variant.product].variantIDs.updateValue(variant.id, forKey: key) == nil else {
                throw PipelineError(
                    .data,
                    "the store has two variants of one product with the SKU '\(variant.sku)'" + ProductRows.sameOptions(key)
                        + "; delete one of them")
            }
            products[variant.product].rows.variants[key] = variant.rows
        }
    }

    /// The names of every facet value the products or their variants use, given to each product that uses it.
    mutating func readFacetNames(_ store: ProductStore) throws {
        var names: [FacetValueRef: FacetNames] = [:]
        let facetValues = Array(facetValueIDs)
        let translations: [(join: String, names: WritableKeyPath<FacetNames, [String: String]>)] = [
            ("store_facet_translations t ON t.facet_id = f.id", \.facet),
            ("store_facet_value_translations t ON t.facet_value_id = fv.id", \.value),
        ]
        for translation in translations {
            try store.eachBatch(
                of: facetValues,
                """
                SELECT f.code, fv.code, t.language, t.name FROM store_facet_values fv
                JOIN store_facets f ON f.id = fv.facet_id JOIN \(translation.join)
                WHERE fv.id
                """
            ) { row in
                let ref = FacetValueRef(facetCode: row.storeText(0), valueCode: row.storeText(1))
                names[ref, default: FacetNames()][keyPath: translation.names][row.storeText(2)] = row.storeText(3)
            }
        }
        for index in products.indices {
            let rows = products[index].rows
            let used = Set(rows.facetValues.values).union(rows.variants.values.flatMap { $0.facetValues.values })
            products[index].rows.facetNames = names.filter { used.contains($0.key) }
        }
    }
}
