import Pipelines

/// Turns the trimmed cells of one well-formed CSV row into the product it starts or the variant it
/// holds, the way Vendure's `ImportParser` reads them, with a `RowError` for the first problem found.
struct ProductRowReader {
    let header: ProductCSVHeader
    let currency: CurrencyCode

    private func cell(_ cells: [String], _ column: ProductColumn, _ language: String) -> (text: String, index: Int)? {
        header.index(column, language: language).map { (cells[$0], $0) }
    }

    private func text(_ cells: [String], _ column: ProductColumn, _ language: String) -> String {
        cell(cells, column, language)?.text ?? ""
    }

    /// The product a row starts, without variants; option groups have no values yet.
    func product(from cells: [String], line: Int) throws(RowError) -> ProductBlock {
        let languages = header.languages
        let translations = languages.map { language in
            ProductTranslation(
                languageCode: language, name: text(cells, .name, language), slug: slug(language) { cells[$0] },
                description: text(cells, .description, language),
                customFields: customFields(header.productCustomFields, cells, language))
        }
        let facets = try translatedFacets(cells, column: .facets, line: line)
        let groupNames = try translatedLists(cells, column: .optionGroups, line: line)
        let optionGroups = (0..<(groupNames.first?.values.count ?? 0)).map { position in
            OptionGroup(translations: groupNames.map {
                OptionGroupTranslation(languageCode: $0.language, name: $0.values[position], values: [])
            })
        }
        return ProductBlock(
            line: line, translations: translations, assetPaths: Self.list(text(cells, .assets, languages[0])),
            facets: facets, optionGroups: optionGroups, variants: [])
    }

    /// The product's slug in `language`: as written, else made from its name. `cell` gives a column's
    /// trimmed text.
    func slug(_ language: String, _ cell: (Int) -> String) -> String {
        let written = header.index(.slug, language: language).map(cell) ?? ""
        return written.isEmpty ? ProductSlug.fromName(header.index(.name, language: language).map(cell) ?? "") : written
    }

    /// The variant a row holds. `optionGroupCount` is the number of option groups of its product, or nil
    /// when the product row itself was bad and the count cannot be checked.
    func variant(from cells: [String], line: Int, optionGroupCount: Int?) throws(RowError) -> ProductVariant {
        let main = header.languages[0]
        func fail(_ column: ProductColumn, _ reason: String) -> RowError {
            RowError(line: line, column: (header.index(column, language: main) ?? 0) + 1, reason: reason)
        }
        let sku = text(cells, .sku, main)
        guard !sku.isEmpty else { throw fail(.sku, "the sku is missing") }
        let (price, stockOnHand) = try values(line: line) { cells[$0] }
        let trackText = text(cells, .trackInventory, main)
        var trackInventory: Bool?
        if !trackText.isEmpty {
            switch trackText.lowercased() {
            case "true", "1", "yes": trackInventory = true
            case "false", "0", "no": trackInventory = false
            default: throw fail(.trackInventory, "trackInventory '\(trackText)' is not true, false or empty")
            }
        }
        if let optionGroupCount {
            for index in header.optionValueColumns where Self.listCount(cells[index]) != optionGroupCount {
                throw RowError(
                    line: line, column: index + 1,
                    reason: "The number of optionValues in column '\(header.names[index])' must match the number of optionGroups")
            }
        }
        let translations = header.languages.map { language in
            VariantTranslation(
                languageCode: language, optionValues: Self.list(text(cells, .optionValues, language)),
                customFields: customFields(header.variantCustomFields, cells, language))
        }
        return ProductVariant(
            line: line, sku: sku, price: price, taxCategory: text(cells, .taxCategory, main),
            stockOnHand: stockOnHand, trackInventory: trackInventory,
            assetPaths: Self.list(text(cells, .variantAssets, main)),
            facets: try translatedFacets(cells, column: .variantFacets, line: line), translations: translations)
    }

    /// A variant row's price and stock figure (nil when its cell is empty), from `cell`, which gives a
    /// column's trimmed cell.
    func values(line: Int, _ cell: (Int) -> String) throws(RowError) -> (price: Money, stockOnHand: Int?) {
        let main = header.languages[0]
        func fail(_ column: ProductColumn, _ reason: String) -> RowError {
            RowError(line: line, column: (header.index(column, language: main) ?? 0) + 1, reason: reason)
        }
        let price: Money
        do {
            price = try Money.parse(header.index(.price, language: main).map(cell) ?? "", currency: currency)
        } catch {
            throw fail(.price, "bad price: \(error)")
        }
        let stockText = header.index(.stockOnHand, language: main).map(cell) ?? ""
        guard !stockText.isEmpty else { return (price, nil) }
        guard let stock = Int(stockText) else { throw fail(.stockOnHand, "stockOnHand '\(stockText)' is not a whole number") }
        return (price, stock)
    }

    private func customFields(_ fields: [CustomFieldColumns], _ cells: [String], _ language: String) -> [CustomFieldValue] {
        fields.compactMap { field in field.index(language: language).map { CustomFieldValue(name: field.name, value: cells[$0]) } }
    }

    /// A `|`-separated cell in every language; every language must list as many entries.
    private func translatedLists(_ cells: [String], column: ProductColumn, line: Int) throws(RowError)
        -> [(language: String, values: [String], index: Int)]
    {
        var lists: [(language: String, values: [String], index: Int)] = []
        // Most rows leave the column empty (variant facets, a variant row's option groups): no list to make.
        guard header.languages.contains(where: { language in cell(cells, column, language).map { !$0.text.isEmpty } ?? false })
        else { return lists }
        for language in header.languages {
            guard let (text, index) = cell(cells, column, language) else { continue }
            let values = Self.list(text)
            if let first = lists.first, first.values.count != values.count {
                throw RowError(
                    line: line, column: index + 1,
                    reason: "column '\(header.names[index])' lists \(values.count) entries but '\(header.names[first.index])' lists \(first.values.count)")
            }
            lists.append((language, values, index))
        }
        return lists
    }

    private func translatedFacets(_ cells: [String], column: ProductColumn, line: Int) throws(RowError) -> [FacetAssignment] {
        let lists = try translatedLists(cells, column: column, line: line)
        var facets = (0..<(lists.first?.values.count ?? 0)).map { _ in FacetAssignment(translations: []) }
        for list in lists {
            for (position, entry) in list.values.enumerated() {
                // The value may contain ':'; the facet name cannot. Found as a byte, as Vendure splits code units.
                guard let colon = entry.utf8.firstIndex(of: UInt8(ascii: ":")) else {
                    throw RowError(line: line, column: list.index + 1, reason: "bad facet '\(entry)': expected facet:value")
                }
                let facet = String(entry[..<colon]).trimmingPadding()
                let value = String(entry[entry.utf8.index(after: colon)...]).trimmingPadding()
                guard !facet.isEmpty, !value.isEmpty else {
                    throw RowError(line: line, column: list.index + 1, reason: "bad facet '\(entry)': the facet and the value must not be empty")
                }
                facets[position].translations.append(FacetValueTranslation(languageCode: list.language, facet: facet, value: value))
            }
        }
        return facets
    }

    /// `list(text).count` without making the entries: an entry is dropped when all its bytes are padding.
    static func listCount(_ text: String) -> Int {
        var count = 0
        var hasContent = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "|") {
                if hasContent { count += 1 }
                hasContent = false
            } else if !byte.isCellPadding {
                hasContent = true
            }
        }
        return hasContent ? count + 1 : count
    }

    /// Vendure's `parseStringArray`: split on `|` (a byte, as Vendure splits code units), trim, drop empty
    /// entries.
    static func list(_ text: String) -> [String] {
        var entries: [String] = []
        var start = text.utf8.startIndex
        while start < text.utf8.endIndex {
            let end = text.utf8[start...].firstIndex(of: UInt8(ascii: "|")) ?? text.utf8.endIndex
            // Most cells hold one entry: the whole text, not a copy.
            let entry = (start == text.utf8.startIndex && end == text.utf8.endIndex ? text : String(text[start..<end])).trimmingPadding()
            if !entry.isEmpty { entries.append(entry) }
            start = end == text.utf8.endIndex ? end : text.utf8.index(after: end)
        }
        return entries
    }
}
