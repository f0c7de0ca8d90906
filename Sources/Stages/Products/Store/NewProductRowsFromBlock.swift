import Pipelines

// The new rows of a product block, made from the block itself: the rows `ProductRows(desired:)` describes,
// in the order and with the values storing that description gives, without building its dictionaries.
// Those dictionaries, made for every product and taken apart again, were most of a bulk load's feed thread.

extension NewProductRowsBuilder {
    /// Adds a new product with its variants (a part of one: those variants). Throws where
    /// `ProductRows(desired:)` throws, with a message naming only what failed: the caller takes that path
    /// for the message users see. After a throw the rows hold a part of the product; they are dropped.
    mutating func addProduct(block: ProductBlock) throws {
        let refused = BlockRefusal(line: block.line)
        guard let primary = block.translations.first?.languageCode else { throw refused("no translation") }
        let product = newRow(.product)
        tables.products.add(product, now, now)
        let translations = block.translations
        var previous: String?
        try forEachIndex(translations.count, sortedBy: { translations[$0].languageCode < translations[$1].languageCode }) { index in
            let translation = translations[index]
            guard translation.languageCode != previous else { throw refused("a language twice") }
            previous = translation.languageCode
            tables.translations.add(
                product, translation.languageCode, index, translation.name, translation.slug, translation.description)
        }
        addAssets(block.assetPaths, of: product, into: \.productAssets)
        try addFacetValues(block.facets, primary: primary, of: product, into: \.productFacetValues, refused)
        addCustomFields(of: translations, owner: product, into: \.productCustomFields)
        let groups = try addOptionGroups(block.optionGroups, primary: primary, of: product, refused)
        try checkVariantKeys(block.variants, primary: primary, groups: groups, refused)
        let firstPosition = block.part?.firstVariant ?? 0
        for (index, variant) in block.variants.enumerated() {
            let rows = newRow(.variant)
            tables.variants.add(
                rows, product, firstPosition + index, variant.sku, variant.taxCategory, variant.trackInventory, now, now)
            tables.prices.add(rows, variant.price.currency.code, variant.price.currency.exponent, variant.price.minorUnits)
            if let onHand = variant.stockOnHand { tables.stockLevels.add(rows, locationID, Int64(onHand)) }
            addAssets(variant.assetPaths, of: rows, into: \.variantAssets)
            try addFacetValues(variant.facets, primary: primary, of: rows, into: \.variantFacetValues, refused)
            let values = variant.translations.preferring(primary)?.optionValues ?? []
            for group in 0..<groups {
                guard group < values.count, !values[group].isEmpty, let option = newOptions.index(group: group, code: values[group])
                else { throw refused("variant '\(variant.sku)' has no option value of group \(group + 1)") }
                tables.variantOptions.add(rows, group, NewRowReference(slot: .option, index: option))
            }
            addCustomFields(of: variant.translations, owner: rows, into: \.variantCustomFields)
        }
        noteFacetNames(of: block, primary: primary)
    }

    private mutating func addAssets(
        _ paths: [String], of owner: NewRowReference, into table: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        for (position, path) in paths.enumerated() { addAsset(path, at: position, of: owner, into: table) }
    }

    private mutating func addFacetValues(
        _ facets: [FacetAssignment], primary: String, of owner: NewRowReference,
        into table: WritableKeyPath<NewProductRows, BulkRows>, _ refused: BlockRefusal
    ) throws {
        for (position, assignment) in facets.enumerated() {
            guard let ref = Self.facetValue(assignment, primary: primary) else { throw refused("a facet without a name") }
            addFacetValue(ref, at: position, of: owner, into: table)
        }
    }

    /// A facet value by its names in the product's first language, else in the first language it has.
    private static func facetValue(_ assignment: FacetAssignment, primary: String) -> FacetValueRef? {
        guard let main = assignment.translations.preferring(primary) else { return nil }
        return FacetValueRef(facetCode: main.facet, valueCode: main.value)
    }

    /// The names of the facet values the block uses: within the block the first text given in a language
    /// counts, across blocks the later block's. Walking the block backwards, the last text written is the first.
    private mutating func noteFacetNames(of block: ProductBlock, primary: String) {
        func note(_ facets: [FacetAssignment]) {
            for assignment in facets.reversed() {
                guard let ref = Self.facetValue(assignment, primary: primary) else { continue }
                for translation in assignment.translations.reversed() {
                    let language = translation.languageCode
                    let known = facetNames[ref]
                    guard known?.facet[language] != translation.facet || known?.value[language] != translation.value else { continue }
                    facetNames[ref, default: FacetNames()].facet[language] = translation.facet
                    facetNames[ref, default: FacetNames()].value[language] = translation.value
                }
            }
        }
        for variant in block.variants.reversed() where !variant.facets.isEmpty { note(variant.facets) }
        note(block.facets)
    }

    /// Custom field rows by language and name: the first value a language gives a name counts, at its
    /// position among that language's fields.
    private mutating func addCustomFields<Translation: CustomFieldsInLanguage>(
        of translations: [Translation], owner: NewRowReference, into table: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        guard translations.contains(where: { !$0.customFields.isEmpty }) else { return }
        var fields: [(key: CustomFieldKey, order: Int, position: Int, value: String)] = []
        for translation in translations {
            for (position, field) in translation.customFields.enumerated() {
                fields.append((CustomFieldKey(language: translation.languageCode, name: field.name), fields.count, position, field.value))
            }
        }
        fields.sort { ($0.key, $0.order) < ($1.key, $1.order) }
        for (index, field) in fields.enumerated() where index == 0 || fields[index - 1].key != field.key {
            tables[keyPath: table].add(owner, field.key.language, field.key.name, field.position, field.value)
        }
    }

    /// The product's option groups, their options and their names; returns how many groups there are.
    /// A group's code is its name in the product's first language; an option's, its value there.
    private mutating func addOptionGroups(
        _ groups: [OptionGroup], primary: String, of product: NewRowReference, _ refused: BlockRefusal
    ) throws -> Int {
        newOptions.removeAll()
        for (position, group) in groups.enumerated() {
            let translations = group.translations
            guard let main = translations.preferring(primary) else { throw refused("option group \(position + 1) has no name") }
            guard !groups[..<position].contains(where: { $0.translations.preferring(primary)?.name == main.name }) else {
                throw refused("the option group '\(main.name)' twice")
            }
            let groupID = newRow(.group)
            tables.groups.add(groupID, product, position, main.name)
            // A language named twice: its first name counts for the group, its last for an option.
            var previous: String?
            forEachIndex(translations.count, sortedBy: { (translations[$0].languageCode, $0) < (translations[$1].languageCode, $1) }) {
                let translation = translations[$0]
                guard translation.languageCode != previous else { return }
                previous = translation.languageCode
                tables.groupTranslations.add(groupID, translation.languageCode, translation.name)
            }
            let values = main.values
            var previousCode: String?
            forEachIndex(values.count, sortedBy: { (values[$0], $0) < (values[$1], $1) }) { index in
                guard values[index] != previousCode else { return }
                previousCode = values[index]
                let optionID = newRow(.option)
                newOptions.add(values[index], optionID.index)
                tables.options.add(optionID, groupID, index, values[index])
                var previousLanguage: String?
                forEachIndex(translations.count, sortedBy: { (translations[$0].languageCode, $1) < (translations[$1].languageCode, $0) }) {
                    let translation = translations[$0]
                    guard index < translation.values.count, translation.languageCode != previousLanguage else { return }
                    previousLanguage = translation.languageCode
                    tables.optionTranslations.add(optionID, translation.languageCode, translation.values[index])
                }
            }
            newOptions.endGroup(position: position)
        }
        return groups.count
    }

    /// Refuses two variants with the same SKU and the same option values: nothing would tell them apart.
    private func checkVariantKeys(
        _ variants: [ProductVariant], primary: String, groups: Int, _ refused: BlockRefusal
    ) throws {
        func sameOptions(_ first: Int, _ second: Int) -> Bool {
            let one = variants[first].translations.preferring(primary)?.optionValues ?? []
            let other = variants[second].translations.preferring(primary)?.optionValues ?? []
            return one.prefix(groups).elementsEqual(other.prefix(groups))
        }
        // A few variants are compared pair by pair; more, sorted by SKU and compared within each run of one SKU.
        guard variants.count > 16 else {
            for first in variants.indices {
                for second in (first + 1)..<variants.count where variants[second].sku == variants[first].sku && sameOptions(first, second) {
                    throw refused("the SKU '\(variants[first].sku)' twice with the same option values")
                }
            }
            return
        }
        let bySKU = variants.indices.sorted { variants[$0].sku < variants[$1].sku }
        var start = 0
        while start < bySKU.count {
            var end = start + 1
            while end < bySKU.count, variants[bySKU[end]].sku == variants[bySKU[start]].sku { end += 1 }
            for first in start..<end {
                for second in (first + 1)..<end where sameOptions(bySKU[first], bySKU[second]) {
                    throw refused("the SKU '\(variants[bySKU[first]].sku)' twice with the same option values")
                }
            }
            start = end
        }
    }
}

/// Calls `body` with `0..<count` in the order `areInIncreasingOrder` sorts them; one index or none is not sorted.
private func forEachIndex(
    _ count: Int, sortedBy areInIncreasingOrder: (Int, Int) -> Bool, _ body: (Int) throws -> Void
) rethrows {
    if count <= 1 {
        for index in 0..<count { try body(index) }
    } else {
        for index in (0..<count).sorted(by: areInIncreasingOrder) { try body(index) }
    }
}

/// The error of a block whose rows cannot be made, naming what failed.
private struct BlockRefusal {
    let line: Int

    func callAsFunction(_ what: String) -> PipelineError {
        PipelineError(.data, "the rows of the product at line \(line) cannot be made: \(what)")
    }
}

/// A translation with custom field values in its language.
protocol CustomFieldsInLanguage: InLanguage {
    var customFields: [CustomFieldValue] { get }
}

extension ProductTranslation: CustomFieldsInLanguage {}
extension VariantTranslation: CustomFieldsInLanguage {}
