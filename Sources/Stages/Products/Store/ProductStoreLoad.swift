import Pipelines

/// A stored product's rows with the row ids needed to change them.
struct StoredProduct {
    var id: Int64
    var rows = ProductRows()
    var variantIDs: [String: Int64] = [:]
    var groupIDs: [String: Int64] = [:]
    var optionIDs: [OptionRef: Int64] = [:]
}

extension ProductStore {
    /// Reads one product with one query per table (about 15); facet names only when `withFacetNames`.
    func loadProduct(_ id: Int64, withFacetNames: Bool) throws -> StoredProduct {
        var stored = StoredProduct(id: id)
        let product: [SQLValue] = [.integer(id)]
        try read(
            "SELECT language, position, name, slug, description FROM store_product_translations WHERE product_id = $1",
            product
        ) { row in
            stored.rows.translations[row.storeText(0)] = TranslationRow(
                position: row.storeInt(1), name: row.storeText(2), slug: row.storeText(3), description: row.storeText(4))
        }
        try read(
            """
            SELECT l.position, a.source FROM store_product_assets l JOIN store_assets a ON a.id = l.asset_id
            WHERE l.product_id = $1
            """, product
        ) { row in stored.rows.assets[row.storeInt(0)] = row.storeText(1) }
        try read(
            """
            SELECT l.position, f.code, v.code FROM store_product_facet_values l
            JOIN store_facet_values v ON v.id = l.facet_value_id JOIN store_facets f ON f.id = v.facet_id
            WHERE l.product_id = $1
            """, product
        ) { row in
            stored.rows.facetValues[row.storeInt(0)] = FacetValueRef(facetCode: row.storeText(1), valueCode: row.storeText(2))
        }
        try read(
            "SELECT language, name, position, value FROM store_product_custom_fields WHERE product_id = $1", product
        ) { row in
            stored.rows.customFields[CustomFieldKey(language: row.storeText(0), name: row.storeText(1))] =
                CustomFieldRow(position: row.storeInt(2), value: row.storeText(3))
        }
        try loadOptionGroups(into: &stored)
        try loadVariants(into: &stored)
        if withFacetNames { try loadFacetNames(into: &stored) }
        return stored
    }

    private func loadOptionGroups(into stored: inout StoredProduct) throws {
        let product: [SQLValue] = [.integer(stored.id)]
        var codeByGroupID: [Int64: String] = [:]
        try read("SELECT id, code, position FROM store_option_groups WHERE product_id = $1", product) { row in
            let code = row.storeText(1)
            codeByGroupID[row.storeInteger(0)] = code
            stored.groupIDs[code] = row.storeInteger(0)
            stored.rows.optionGroups[code] = OptionGroupRow(position: row.storeInt(2), names: [:], options: [:])
        }
        try read(
            """
            SELECT t.option_group_id, t.language, t.name FROM store_option_group_translations t
            JOIN store_option_groups g ON g.id = t.option_group_id WHERE g.product_id = $1
            """, product
        ) { row in
            guard let code = codeByGroupID[row.storeInteger(0)] else { return }
            stored.rows.optionGroups[code]?.names[row.storeText(1)] = row.storeText(2)
        }
        var refByOptionID: [Int64: OptionRef] = [:]
        try read(
            """
            SELECT o.id, o.option_group_id, o.code, o.position FROM store_options o
            JOIN store_option_groups g ON g.id = o.option_group_id WHERE g.product_id = $1
            """, product
        ) { row in
            guard let groupCode = codeByGroupID[row.storeInteger(1)] else { return }
            let ref = OptionRef(groupCode: groupCode, optionCode: row.storeText(2))
            refByOptionID[row.storeInteger(0)] = ref
            stored.optionIDs[ref] = row.storeInteger(0)
            stored.rows.optionGroups[groupCode]?.options[ref.optionCode] = OptionRow(position: row.storeInt(3), names: [:])
        }
        try read(
            """
            SELECT t.option_id, t.language, t.name FROM store_option_translations t
            JOIN store_options o ON o.id = t.option_id JOIN store_option_groups g ON g.id = o.option_group_id
            WHERE g.product_id = $1
            """, product
        ) { row in
            guard let ref = refByOptionID[row.storeInteger(0)] else { return }
            stored.rows.optionGroups[ref.groupCode]?.options[ref.optionCode]?.names[row.storeText(1)] = row.storeText(2)
        }
    }

    private func loadVariants(into stored: inout StoredProduct) throws {
        let product: [SQLValue] = [.integer(stored.id)]
        var skuByID: [Int64: String] = [:]
        try read(
            "SELECT id, sku, position, tax_category, track_inventory FROM store_variants WHERE product_id = $1", product
        ) { row in
            let sku = row.storeText(1)
            skuByID[row.storeInteger(0)] = sku
            stored.variantIDs[sku] = row.storeInteger(0)
            stored.rows.variants[sku] = VariantRows(
                position: row.storeInt(2), taxCategory: row.storeText(3), trackInventory: row.int64(4).map { $0 != 0 })
        }
        /// Runs a query whose first column is a variant id of this product and hands each row to `apply`.
        func eachVariantRow(_ sql: String, _ apply: (inout VariantRows, any RowView) -> Void) throws {
            try read(sql, product) { row in
                guard let sku = skuByID[row.storeInteger(0)], var variant = stored.rows.variants[sku] else { return }
                apply(&variant, row)
                stored.rows.variants[sku] = variant
            }
        }
        try eachVariantRow(
            """
            SELECT p.variant_id, p.currency, p.currency_exponent, p.amount_minor FROM store_prices p
            JOIN store_variants v ON v.id = p.variant_id WHERE v.product_id = $1
            """
        ) { variant, row in
            variant.prices[row.storeText(1)] = PriceRow(exponent: row.storeInt(2), amountMinor: row.storeInteger(3))
        }
        // The location is filtered here, not in SQL: given `location_id = $2`, SQLite scans every stock
        // level of the location (its index) instead of the product's variants.
        try read(
            """
            SELECT s.variant_id, s.on_hand, s.location_id FROM store_stock_levels s
            JOIN store_variants v ON v.id = s.variant_id WHERE v.product_id = $1
            """, product
        ) { row in
            guard row.storeInteger(2) == defaultLocationID, let sku = skuByID[row.storeInteger(0)] else { return }
            stored.rows.variants[sku]?.stockOnHand = row.storeInteger(1)
        }
        try eachVariantRow(
            """
            SELECT l.variant_id, l.position, a.source FROM store_variant_assets l
            JOIN store_assets a ON a.id = l.asset_id JOIN store_variants v ON v.id = l.variant_id
            WHERE v.product_id = $1
            """
        ) { variant, row in variant.assets[row.storeInt(1)] = row.storeText(2) }
        try eachVariantRow(
            """
            SELECT l.variant_id, l.position, f.code, fv.code FROM store_variant_facet_values l
            JOIN store_facet_values fv ON fv.id = l.facet_value_id JOIN store_facets f ON f.id = fv.facet_id
            JOIN store_variants v ON v.id = l.variant_id WHERE v.product_id = $1
            """
        ) { variant, row in
            variant.facetValues[row.storeInt(1)] = FacetValueRef(facetCode: row.storeText(2), valueCode: row.storeText(3))
        }
        try eachVariantRow(
            """
            SELECT l.variant_id, l.position, g.code, o.code FROM store_variant_options l
            JOIN store_options o ON o.id = l.option_id JOIN store_option_groups g ON g.id = o.option_group_id
            JOIN store_variants v ON v.id = l.variant_id WHERE v.product_id = $1
            """
        ) { variant, row in
            variant.options[row.storeInt(1)] = OptionRef(groupCode: row.storeText(2), optionCode: row.storeText(3))
        }
        try eachVariantRow(
            """
            SELECT c.variant_id, c.language, c.name, c.position, c.value FROM store_variant_custom_fields c
            JOIN store_variants v ON v.id = c.variant_id WHERE v.product_id = $1
            """
        ) { variant, row in
            variant.customFields[CustomFieldKey(language: row.storeText(1), name: row.storeText(2))] =
                CustomFieldRow(position: row.storeInt(3), value: row.storeText(4))
        }
    }

    /// The names of every facet value the product or its variants use.
    private func loadFacetNames(into stored: inout StoredProduct) throws {
        let used = """
            SELECT facet_value_id FROM store_product_facet_values WHERE product_id = $1
            UNION SELECT l.facet_value_id FROM store_variant_facet_values l
            JOIN store_variants v ON v.id = l.variant_id WHERE v.product_id = $1
            """
        try read(
            """
            SELECT f.code, fv.code, t.language, t.name FROM store_facet_values fv
            JOIN store_facets f ON f.id = fv.facet_id JOIN store_facet_translations t ON t.facet_id = f.id
            WHERE fv.id IN (\(used))
            """, [.integer(stored.id)]
        ) { row in
            let ref = FacetValueRef(facetCode: row.storeText(0), valueCode: row.storeText(1))
            stored.rows.facetNames[ref, default: FacetNames()].facet[row.storeText(2)] = row.storeText(3)
        }
        try read(
            """
            SELECT f.code, fv.code, t.language, t.name FROM store_facet_values fv
            JOIN store_facets f ON f.id = fv.facet_id JOIN store_facet_value_translations t ON t.facet_value_id = fv.id
            WHERE fv.id IN (\(used))
            """, [.integer(stored.id)]
        ) { row in
            let ref = FacetValueRef(facetCode: row.storeText(0), valueCode: row.storeText(1))
            stored.rows.facetNames[ref, default: FacetNames()].value[row.storeText(2)] = row.storeText(3)
        }
    }
}
