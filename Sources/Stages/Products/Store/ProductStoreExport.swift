import Pipelines

extension ProductStore {
    static let exportPageSize = 500

    /// Streams every stored product as a block, ordered by product id, variants by position.
    ///
    /// Memory holds one page of products (`exportPageSize`), read with about 17 queries a page.
    ///
    /// `currency` picks the price each variant is exported with; without it a variant with several prices
    /// uses the alphabetically first currency. Throws `PipelineError.data` for a variant without a price
    /// (in `currency`, when given). For a consistent snapshot, call inside a transaction.
    public func products(currency: String? = nil, _ body: (ProductBlock) throws -> Void) throws {
        var lastID: Int64 = 0
        while true {
            // One page of ids at a time: PostgreSQL cannot run the per-product queries while a query streams.
            var page: [Int64] = []
            try read(
                "SELECT id FROM store_products WHERE id > $1 ORDER BY id LIMIT $2",
                [.integer(lastID), .integer(Int64(Self.exportPageSize))]
            ) { row in
                if let id = row.int64(0) { page.append(id) }
            }
            let stored = try loadProducts(page, withFacetNames: true)
            for id in page {
                guard let product = stored[id] else { continue }
                try body(try Self.block(from: product, currency: currency))
            }
            guard let last = page.last, page.count == Self.exportPageSize else { return }
            lastID = last
        }
    }

    /// The stored product with `productID`, or nil.
    public func product(id productID: Int64, currency: String? = nil) throws -> ProductBlock? {
        var exists = false
        try read("SELECT 1 FROM store_products WHERE id = $1", [.integer(productID)]) { _ in exists = true }
        guard exists else { return nil }
        return try Self.block(from: try loadProduct(productID, withFacetNames: true), currency: currency)
    }

    static func block(from stored: StoredProduct, currency: String?) throws -> ProductBlock {
        let rows = stored.rows
        let languages = rows.languages
        let translations = languages.compactMap { language in
            rows.translations[language].map { translation in
                ProductTranslation(
                    languageCode: language, name: translation.name, slug: translation.slug,
                    description: translation.description,
                    customFields: customFields(rows.customFields, language: language))
            }
        }
        let groups = rows.optionGroups.sorted { $0.value.position < $1.value.position }
        let optionGroups = groups.map { _, group in
            let options = group.options.sorted { $0.value.position < $1.value.position }
            return OptionGroup(
                translations: languages.compactMap { language in
                    group.names[language].map { name in
                        OptionGroupTranslation(
                            languageCode: language, name: name,
                            values: options.map { code, option in option.names[language] ?? code })
                    }
                })
        }
        var variants: [ProductVariant] = []
        for (key, variant) in rows.variantsInPositionOrder {
            let sku = key.sku
            let variantTranslations = languages.map { language in
                VariantTranslation(
                    languageCode: language,
                    optionValues: variant.options.sorted { $0.key < $1.key }.map { _, ref in
                        rows.optionGroups[ref.groupCode]?.options[ref.optionCode]?.names[language] ?? ref.optionCode
                    },
                    customFields: customFields(variant.customFields, language: language))
            }
            variants.append(
                ProductVariant(
                    sku: sku, price: try price(of: variant, sku: sku, currency: currency),
                    taxCategory: variant.taxCategory, stockOnHand: variant.stockOnHand.map { Int($0) },
                    trackInventory: variant.trackInventory, assetPaths: ordered(variant.assets),
                    facets: facets(variant.facetValues, names: rows.facetNames, languages: languages),
                    translations: variantTranslations))
        }
        return ProductBlock(
            translations: translations, assetPaths: ordered(rows.assets),
            facets: facets(rows.facetValues, names: rows.facetNames, languages: languages),
            optionGroups: optionGroups, variants: variants)
    }

    private static func price(of variant: VariantRows, sku: String, currency: String?) throws -> Money {
        let chosen = currency.map { code in variant.prices[code].map { (code, $0) } } ?? variant.prices.min { $0.key < $1.key }
        guard let (code, row) = chosen else {
            throw PipelineError(.data, "the variant '\(sku)' has no price" + (currency.map { " in \($0)" } ?? ""))
        }
        let known = CurrencyCode(code).flatMap { $0.exponent == row.exponent ? $0 : nil }
        return Money(minorUnits: row.amountMinor, currency: known ?? CurrencyCode(code: code, exponent: row.exponent))
    }

    private static func ordered(_ byPosition: [Int: String]) -> [String] {
        byPosition.sorted { $0.key < $1.key }.map(\.value)
    }

    private static func customFields(_ fields: [CustomFieldKey: CustomFieldRow], language: String) -> [CustomFieldValue] {
        fields.filter { $0.key.language == language }.sorted { $0.value.position < $1.value.position }
            .map { CustomFieldValue(name: $0.key.name, value: $0.value.value) }
    }

    private static func facets(
        _ byPosition: [Int: FacetValueRef], names: [FacetValueRef: FacetNames], languages: [String]
    ) -> [FacetAssignment] {
        byPosition.sorted { $0.key < $1.key }.map { _, ref in
            let known = names[ref] ?? FacetNames()
            return FacetAssignment(
                translations: languages.compactMap { language in
                    guard let facet = known.facet[language], let value = known.value[language] else { return nil }
                    return FacetValueTranslation(languageCode: language, facet: facet, value: value)
                })
        }
    }
}
