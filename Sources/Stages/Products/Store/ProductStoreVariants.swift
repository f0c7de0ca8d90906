import Pipelines

extension ProductStore {
    /// Writes a stored variant's rows that differ from `stored` (new variants go in bulk:
    /// `insertNewVariants`).
    func syncVariant(
        desired: VariantRows, stored: VariantRows, id: Int64, moved: Bool, product: StoredProduct,
        now: String
    ) throws -> Outcome {
        let trackInventory: SQLValue = desired.trackInventory.map { .integer($0 ? 1 : 0) } ?? .null
        var changed = false
        if moved || stored.position != desired.position || stored.taxCategory != desired.taxCategory
            || stored.trackInventory != desired.trackInventory
        {
            try write(
                "UPDATE store_variants SET product_id = $1, position = $2, tax_category = $3, track_inventory = $4 WHERE id = $5",
                [.integer(product.id), .integer(Int64(desired.position)), .text(desired.taxCategory), trackInventory, .integer(id)])
            changed = true
        }
        var current = stored
        if moved {
            // The options belong to the old product's groups: link the new product's instead.
            try write("DELETE FROM store_variant_options WHERE variant_id = $1", [.integer(id)])
            current.options = [:]
        }
        changed = try syncVariantChildren(desired, stored: current, id: id, product: product) || changed
        guard changed else { return .unchanged }
        try stampUpdated(.variants, id: id, now: now)
        return .updated
    }

    private func syncVariantChildren(_ desired: VariantRows, stored: VariantRows, id: Int64, product: StoredProduct) throws -> Bool {
        let variant = SQLValue.integer(id)
        // Only the block's currencies: prices in other currencies stay as they are.
        let storedPrices = stored.prices.filter { desired.prices[$0.key] != nil }
        // Prices and stock, the values edited most, are updated in place: one statement, not two.
        var changed = try sync(storedPrices, desired.prices) { currency, price, isStored in
            guard let price else { return }  // Never: the stored prices are the desired currencies'.
            let exponent = SQLValue.integer(Int64(price.exponent))
            if isStored {
                try write(
                    "UPDATE store_prices SET currency_exponent = $1, amount_minor = $2 WHERE variant_id = $3 AND currency = $4",
                    [exponent, .integer(price.amountMinor), variant, .text(currency)])
            } else {
                try write(
                    "INSERT INTO store_prices (variant_id, currency, currency_exponent, amount_minor) VALUES ($1, $2, $3, $4)",
                    [variant, .text(currency), exponent, .integer(price.amountMinor)])
            }
        }
        if stored.stockOnHand != desired.stockOnHand {
            let location = SQLValue.integer(defaultLocationID)
            switch (stored.stockOnHand, desired.stockOnHand) {
            case (.some, .some(let onHand)):
                try write(
                    "UPDATE store_stock_levels SET on_hand = $1 WHERE variant_id = $2 AND location_id = $3",
                    [.integer(onHand), variant, location])
            case (.some, nil):
                try write("DELETE FROM store_stock_levels WHERE variant_id = $1 AND location_id = $2", [variant, location])
            case (nil, .some(let onHand)):
                try write(
                    "INSERT INTO store_stock_levels (variant_id, location_id, on_hand) VALUES ($1, $2, $3)",
                    [variant, location, .integer(onHand)])
            case (nil, nil):
                break
            }
            changed = true
        }
        changed = try sync(stored.assets, desired.assets) { position, source, isStored in
            if isStored {
                try write("DELETE FROM store_variant_assets WHERE variant_id = $1 AND position = $2", [variant, .integer(Int64(position))])
            }
            if let source {
                try write(
                    "INSERT INTO store_variant_assets (variant_id, position, asset_id) VALUES ($1, $2, $3)",
                    [variant, .integer(Int64(position)), .integer(try assetID(source))])
            }
        } || changed
        changed = try sync(stored.facetValues, desired.facetValues) { position, ref, isStored in
            if isStored {
                try write(
                    "DELETE FROM store_variant_facet_values WHERE variant_id = $1 AND position = $2", [variant, .integer(Int64(position))])
            }
            if let ref {
                try write(
                    "INSERT INTO store_variant_facet_values (variant_id, position, facet_value_id) VALUES ($1, $2, $3)",
                    [variant, .integer(Int64(position)), .integer(try facetValueID(ref))])
            }
        } || changed
        changed = try sync(stored.options, desired.options) { position, ref, isStored in
            if isStored {
                try write("DELETE FROM store_variant_options WHERE variant_id = $1 AND position = $2", [variant, .integer(Int64(position))])
            }
            if let ref {
                guard let optionID = product.optionIDs[ref] else {
                    throw PipelineError(.internal, "option '\(ref.optionCode)' of group '\(ref.groupCode)' was not stored")
                }
                try write(
                    "INSERT INTO store_variant_options (variant_id, position, option_id) VALUES ($1, $2, $3)",
                    [variant, .integer(Int64(position)), .integer(optionID)])
            }
        } || changed
        changed = try sync(stored.customFields, desired.customFields) { key, row, isStored in
            if isStored {
                try write(
                    "DELETE FROM store_variant_custom_fields WHERE variant_id = $1 AND language = $2 AND name = $3",
                    [variant, .text(key.language), .text(key.name)])
            }
            if let row {
                try write(
                    "INSERT INTO store_variant_custom_fields (variant_id, language, name, position, value) VALUES ($1, $2, $3, $4, $5)",
                    [variant, .text(key.language), .text(key.name), .integer(Int64(row.position)), .text(row.value)])
            }
        } || changed
        return changed
    }

    /// Sets the facets' and facet values' names the block gives; names in other languages stay. The stored
    /// names are read once per `upsert` call and kept in `sharedIDs`.
    func syncFacetNames(_ names: [FacetValueRef: FacetNames]) throws -> Bool {
        var changed = false
        for (ref, wanted) in names.sorted(by: { $0.key < $1.key }) {
            let facet = try facetID(ref.facetCode)
            let value = try facetValueID(ref)
            let storedFacet = try sharedIDs.facetNames[facet] ?? namesByLanguage(
                "SELECT language, name FROM store_facet_translations WHERE facet_id = $1", facet)
            let storedValue = try sharedIDs.facetValueNames[value] ?? namesByLanguage(
                "SELECT language, name FROM store_facet_value_translations WHERE facet_value_id = $1", value)
            sharedIDs.facetNames[facet] = storedFacet.merging(wanted.facet) { _, new in new }
            sharedIDs.facetValueNames[value] = storedValue.merging(wanted.value) { _, new in new }
            changed = try sync(storedFacet.filter { wanted.facet[$0.key] != nil }, wanted.facet) { language, name, isStored in
                if isStored {
                    try write("DELETE FROM store_facet_translations WHERE facet_id = $1 AND language = $2", [.integer(facet), .text(language)])
                }
                if let name {
                    try write(
                        "INSERT INTO store_facet_translations (facet_id, language, name) VALUES ($1, $2, $3)",
                        [.integer(facet), .text(language), .text(name)])
                }
            } || changed
            changed = try sync(storedValue.filter { wanted.value[$0.key] != nil }, wanted.value) { language, name, isStored in
                if isStored {
                    try write(
                        "DELETE FROM store_facet_value_translations WHERE facet_value_id = $1 AND language = $2",
                        [.integer(value), .text(language)])
                }
                if let name {
                    try write(
                        "INSERT INTO store_facet_value_translations (facet_value_id, language, name) VALUES ($1, $2, $3)",
                        [.integer(value), .text(language), .text(name)])
                }
            } || changed
        }
        return changed
    }

    /// Names by language from a query of `language, name` rows for `id`.
    private func namesByLanguage(_ sql: String, _ id: Int64) throws -> [String: String] {
        var names: [String: String] = [:]
        try read(sql, [.integer(id)]) { names[$0.storeText(0)] = $0.storeText(1) }
        return names
    }
}
