import Pipelines

// A product as the store's rows see it, keyed by natural keys (language, position, code, SKU) rather than
// row ids, so that what a block wants and what the database holds compare with `==` table by table.

struct TranslationRow: Equatable {
    var position: Int
    var name: String
    var slug: String
    var description: String
}

struct CustomFieldKey: Hashable, Comparable {
    var language: String
    var name: String

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.language, lhs.name) < (rhs.language, rhs.name) }
}

struct CustomFieldRow: Equatable {
    var position: Int
    var value: String
}

/// A facet value by its codes; codes are the names in the first language the assignment was given in.
struct FacetValueRef: Hashable, Comparable {
    var facetCode: String
    var valueCode: String

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.facetCode, lhs.valueCode) < (rhs.facetCode, rhs.valueCode) }
}

/// Names by language.
struct FacetNames: Equatable {
    var facet: [String: String] = [:]
    var value: [String: String] = [:]
}

struct OptionRef: Hashable {
    var groupCode: String
    var optionCode: String
}

struct OptionRow: Equatable {
    var position: Int
    var names: [String: String]
}

struct OptionGroupRow: Equatable {
    var position: Int
    var names: [String: String]
    var options: [String: OptionRow]
}

struct PriceRow: Equatable {
    var exponent: Int
    var amountMinor: Int64
}

struct VariantRows: Equatable {
    var position: Int
    var taxCategory: String
    var trackInventory: Bool?
    /// By currency code.
    var prices: [String: PriceRow] = [:]
    /// At the default stock location.
    var stockOnHand: Int64?
    var assets: [Int: String] = [:]
    var facetValues: [Int: FacetValueRef] = [:]
    /// By option group position.
    var options: [Int: OptionRef] = [:]
    var customFields: [CustomFieldKey: CustomFieldRow] = [:]
}

/// A variant among its product's: its SKU and its option codes in option group order. SKUs are unique
/// in the store but within one product, whose variants may share one (Vendure allows it) when their
/// option values tell them apart.
struct VariantKey: Hashable, Comparable {
    var sku: String
    var options: [String]

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.sku != rhs.sku ? lhs.sku < rhs.sku : lhs.options.lexicographicallyPrecedes(rhs.options)
    }

    /// One string for the key, for the temporary sets of large products.
    var text: String { options.isEmpty ? sku : ([sku] + options).joined(separator: "\u{1F}") }
}

extension VariantRows {
    /// The codes of the variant's options, in option group order.
    var optionCodes: [String] {
        options.count <= 1 ? options.values.map(\.optionCode) : options.sorted { $0.key < $1.key }.map(\.value.optionCode)
    }
}

struct ProductRows: Equatable {
    var translations: [String: TranslationRow] = [:]
    var assets: [Int: String] = [:]
    var facetValues: [Int: FacetValueRef] = [:]
    var customFields: [CustomFieldKey: CustomFieldRow] = [:]
    var optionGroups: [String: OptionGroupRow] = [:]
    var variants: [VariantKey: VariantRows] = [:]
    /// The facet values' names: from the block, or (when loaded for export) from the database.
    var facetNames: [FacetValueRef: FacetNames] = [:]

    /// Languages in translation order.
    var languages: [String] { translations.sorted { $0.value.position < $1.value.position }.map(\.key) }

    var variantsInPositionOrder: [(key: VariantKey, value: VariantRows)] {
        variants.sorted { $0.value.position < $1.value.position }
    }
}

extension ProductRows {
    /// The rows a block asks for. Throws `PipelineError.data` for blocks the store cannot represent.
    init(desired block: ProductBlock) throws {
        // Messages are made only for an error: a text for every block and variant was a tenth of this.
        let context = { "product at line \(block.line)" }
        guard let primary = block.translations.first?.languageCode else {
            throw PipelineError(.data, "\(context()) has no translation (no name, no slug)")
        }
        for (position, translation) in block.translations.enumerated() {
            let language = translation.languageCode
            guard translations[language] == nil else {
                throw PipelineError(.data, "\(context()) has language '\(language)' twice")
            }
            translations[language] = TranslationRow(
                position: position, name: translation.name, slug: translation.slug,
                description: translation.description)
            customFields.merge(Self.customFields(translation.customFields, language: language)) { first, _ in first }
        }
        assets = Self.positions(block.assetPaths)
        facetValues = try Self.facetValues(block.facets, primary: primary, names: &facetNames, context: context())

        var groupCodes: [String] = []
        for (position, group) in block.optionGroups.enumerated() {
            guard let main = group.translations.preferring(primary) else {
                throw PipelineError(.data, "\(context()): option group \(position + 1) has no name")
            }
            guard optionGroups[main.name] == nil else {
                throw PipelineError(.data, "\(context()) has the option group '\(main.name)' twice")
            }
            var options: [String: OptionRow] = [:]
            for (index, code) in main.values.enumerated() where options[code] == nil {
                var names: [String: String] = [:]
                for translation in group.translations where index < translation.values.count {
                    names[translation.languageCode] = translation.values[index]
                }
                options[code] = OptionRow(position: index, names: names)
            }
            let names = Dictionary(group.translations.map { ($0.languageCode, $0.name) }) { first, _ in first }
            optionGroups[main.name] = OptionGroupRow(position: position, names: names, options: options)
            groupCodes.append(main.name)
        }

        let firstPosition = block.part?.firstVariant ?? 0
        variants.reserveCapacity(block.variants.count)
        for (index, variant) in block.variants.enumerated() {
            let position = firstPosition + index
            let variantContext = { "variant '\(variant.sku)' at line \(variant.line)" }
            var rows = VariantRows(
                position: position, taxCategory: variant.taxCategory, trackInventory: variant.trackInventory)
            rows.prices[variant.price.currency.code] = PriceRow(
                exponent: variant.price.currency.exponent, amountMinor: variant.price.minorUnits)
            rows.stockOnHand = variant.stockOnHand.map(Int64.init)
            rows.assets = Self.positions(variant.assetPaths)
            rows.facetValues = try Self.facetValues(
                variant.facets, primary: primary, names: &facetNames, context: variantContext())
            for translation in variant.translations {
                rows.customFields.merge(Self.customFields(translation.customFields, language: translation.languageCode)) {
                    first, _ in first
                }
            }
            let main = variant.translations.preferring(primary)
            for (groupPosition, groupCode) in groupCodes.enumerated() {
                let values = main?.optionValues ?? []
                guard groupPosition < values.count, !values[groupPosition].isEmpty else {
                    throw PipelineError(.data, "\(variantContext()) has no value for the option group '\(groupCode)'")
                }
                let value = values[groupPosition]
                guard optionGroups[groupCode]?.options[value] != nil else {
                    throw PipelineError(
                        .data, "\(variantContext()): '\(value)' is not a value of the option group '\(groupCode)'")
                }
                rows.options[groupPosition] = OptionRef(groupCode: groupCode, optionCode: value)
            }
            let key = VariantKey(sku: variant.sku, options: rows.optionCodes)
            guard variants[key] == nil else {
                throw PipelineError(.data, "\(context()) lists the SKU '\(variant.sku)' twice" + Self.sameOptions(key))
            }
            variants[key] = rows
        }
    }

    /// How a second variant with `key` is described: " with the same option values (…)" when it has any.
    static func sameOptions(_ key: VariantKey) -> String {
        key.options.isEmpty ? "" : " with the same option values (\(key.options.joined(separator: ", ")))"
    }

    private static func positions(_ values: [String]) -> [Int: String] {
        Dictionary(uniqueKeysWithValues: values.enumerated().map { ($0.offset, $0.element) })
    }

    private static func customFields(_ fields: [CustomFieldValue], language: String) -> [CustomFieldKey: CustomFieldRow] {
        var rows: [CustomFieldKey: CustomFieldRow] = [:]
        for (position, field) in fields.enumerated() {
            let key = CustomFieldKey(language: language, name: field.name)
            if rows[key] == nil { rows[key] = CustomFieldRow(position: position, value: field.value) }
        }
        return rows
    }

    private static func facetValues(
        _ assignments: [FacetAssignment], primary: String, names: inout [FacetValueRef: FacetNames],
        context: @autoclosure () -> String
    ) throws -> [Int: FacetValueRef] {
        var refs: [Int: FacetValueRef] = [:]
        for (position, assignment) in assignments.enumerated() {
            guard let main = assignment.translations.preferring(primary) else {
                throw PipelineError(.data, "\(context()): facet \(position + 1) has no name")
            }
            let ref = FacetValueRef(facetCode: main.facet, valueCode: main.value)
            refs[position] = ref
            var known = names[ref] ?? FacetNames()
            for translation in assignment.translations {
                known.facet[translation.languageCode] = known.facet[translation.languageCode] ?? translation.facet
                known.value[translation.languageCode] = known.value[translation.languageCode] ?? translation.value
            }
            names[ref] = known
        }
        return refs
    }
}

/// A text given in one language: a translation of a product, variant, option group or facet value.
protocol InLanguage {
    var languageCode: String { get }
}

extension ProductTranslation: InLanguage {}
extension VariantTranslation: InLanguage {}
extension OptionGroupTranslation: InLanguage {}
extension FacetValueTranslation: InLanguage {}

extension Array where Element: InLanguage {
    /// The entry in `language`, else the first: a block's codes (its option groups', options' and facet
    /// values') and its variants' option values are read in the product's first language.
    func preferring(_ language: String) -> Element? {
        first { $0.languageCode == language } ?? first
    }
}
