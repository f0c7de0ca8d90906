import Pipelines

/// The columns a product CSV is written with.
///
/// Column order: the fourteen standard columns in Vendure's order (`name, slug, description, assets,
/// facets, optionGroups, optionValues, sku, price, taxCategory, stockOnHand, trackInventory,
/// variantAssets, variantFacets`), then `product:<field>` columns, then `variant:<field>` columns, each
/// custom-field group in the order given. When the languages are anything but the main language alone,
/// each translatable column (name, slug, description, facets, optionGroups, optionValues,
/// variantFacets, and the custom fields listed as translated) becomes one column per language in place,
/// `name:en, name:de, ...`, in the order of `languages`.
public struct ProductCSVLayout: Sendable, Equatable {
    public var languages: [String]
    public var mainLanguage: String
    public var productCustomFields: [String]
    public var variantCustomFields: [String]
    /// Custom fields written per language, as `product:<field>` / `variant:<field>`.
    public var translatedCustomFields: Set<String>

    public init(
        languages: [String], productCustomFields: [String] = [], variantCustomFields: [String] = [],
        translatedCustomFields: Set<String> = [], mainLanguage: String = "en"
    ) {
        self.languages = languages.isEmpty ? [mainLanguage] : languages
        self.mainLanguage = mainLanguage
        self.productCustomFields = productCustomFields
        self.variantCustomFields = variantCustomFields
        self.translatedCustomFields = translatedCustomFields
    }

    /// The layout that writes these blocks without losing anything: their languages and custom fields in
    /// order of first appearance, a custom field translated when its value differs between languages.
    public static func covering(_ blocks: [ProductBlock], mainLanguage: String = "en") -> ProductCSVLayout {
        var languages: [String] = []
        var productFields: [String] = []
        var variantFields: [String] = []
        var translatedFields: Set<String> = []
        func note(_ fields: [[CustomFieldValue]], owner: String, into names: inout [String]) {
            var valueByName: [String: String] = [:]
            for field in fields.joined() {
                if !names.contains(field.name) { names.append(field.name) }
                if let earlier = valueByName[field.name], earlier != field.value {
                    translatedFields.insert("\(owner):\(field.name)")
                }
                valueByName[field.name] = field.value
            }
        }
        for block in blocks {
            for translation in block.translations where !languages.contains(translation.languageCode) {
                languages.append(translation.languageCode)
            }
            note(block.translations.map(\.customFields), owner: "product", into: &productFields)
            for variant in block.variants {
                note(variant.translations.map(\.customFields), owner: "variant", into: &variantFields)
            }
        }
        return ProductCSVLayout(
            languages: languages, productCustomFields: productFields, variantCustomFields: variantFields,
            translatedCustomFields: translatedFields, mainLanguage: mainLanguage)
    }

    var isTranslated: Bool { languages != [mainLanguage] }

    /// What each column holds, in order.
    var columns: [(name: String, content: ColumnContent)] {
        var columns: [(String, ColumnContent)] = []
        for column in ProductColumn.allCases {
            if column.isTranslatable && isTranslated {
                columns += languages.map { ("\(column.rawValue):\($0)", .standard(column, $0)) }
            } else {
                columns.append((column.rawValue, .standard(column, languages[0])))
            }
        }
        for (owner, fields) in [(CustomFieldOwner.product, productCustomFields), (.variant, variantCustomFields)] {
            for field in fields {
                let key = "\(owner.rawValue):\(field)"
                if isTranslated && translatedCustomFields.contains(key) {
                    columns += languages.map { ("\(key):\($0)", .customField(owner, field, $0)) }
                } else {
                    columns.append((key, .customField(owner, field, languages[0])))
                }
            }
        }
        return columns
    }

    public var columnNames: [String] { columns.map(\.name) }

    enum ColumnContent {
        case standard(ProductColumn, String)
        case customField(CustomFieldOwner, String, String)
    }
}

/// Writes products in Vendure's import CSV format (for products.export): a product row holding the
/// first variant, then one row per further variant with the product columns empty. Prices are written
/// from minor units with the currency's exponent. `ProductCSVParser` reads the file back to the same
/// blocks (line numbers aside) when every block has the layout's languages.
public final class ProductCSVWriter {
    public let layout: ProductCSVLayout
    private let csv: CSVWriter
    private let columns: [(name: String, content: ProductCSVLayout.ColumnContent)]

    public init(output: OutputFile, layout: ProductCSVLayout) throws {
        self.layout = layout
        columns = layout.columns
        csv = CSVWriter(output: output)
        try csv.writeHeader(columns.map(\.name))
    }

    public func write(_ block: ProductBlock) throws {
        guard !block.variants.isEmpty else {
            throw PipelineError(.data, "product '\(block.translations.first?.name ?? "")' has no variant: Vendure's CSV cannot hold it")
        }
        for (position, variant) in block.variants.enumerated() {
            var row: [String?] = []
            row.reserveCapacity(columns.count)
            for (_, content) in columns {
                let text = try cell(content, block: block, variant: variant, isProductRow: position == 0)
                row.append(text.isEmpty ? nil : text)
            }
            try csv.writeRow(row)
        }
    }

    public func flush() throws { try csv.flush() }

    private func cell(
        _ content: ProductCSVLayout.ColumnContent, block: ProductBlock, variant: ProductVariant, isProductRow: Bool
    ) throws -> String {
        switch content {
        case .customField(.product, let name, let language):
            guard isProductRow else { return "" }
            return block.translations.first { $0.languageCode == language }?.customFields.first { $0.name == name }?.value ?? ""
        case .customField(.variant, let name, let language):
            return variant.translations.first { $0.languageCode == language }?.customFields.first { $0.name == name }?.value ?? ""
        case .standard(let column, let language):
            if column.isProductColumn && !isProductRow { return "" }
            let product = block.translations.first { $0.languageCode == language }
            switch column {
            case .name: return product?.name ?? ""
            case .slug: return product?.slug ?? ""
            case .description: return product?.description ?? ""
            case .assets: return try Self.list(block.assetPaths)
            case .facets: return try Self.facets(block.facets, language: language)
            case .optionGroups:
                return try Self.list(block.optionGroups.compactMap { $0.translations.first { $0.languageCode == language }?.name })
            case .optionValues:
                return try Self.list(variant.translations.first { $0.languageCode == language }?.optionValues ?? [])
            case .sku: return variant.sku
            case .price: return variant.price.decimalText
            case .taxCategory: return variant.taxCategory
            case .stockOnHand: return variant.stockOnHand.map(String.init) ?? ""
            case .trackInventory: return variant.trackInventory.map { $0 ? "true" : "false" } ?? ""
            case .variantAssets: return try Self.list(variant.assetPaths)
            case .variantFacets: return try Self.facets(variant.facets, language: language)
            }
        }
    }

    private static func list(_ items: [String]) throws -> String {
        for item in items where item.contains("|") || item.trimmingPadding().isEmpty {
            throw PipelineError(.data, "'\(item)' cannot be written in a '|'-separated list")
        }
        return items.joined(separator: "|")
    }

    private static func facets(_ facets: [FacetAssignment], language: String) throws -> String {
        let entries = facets.compactMap { $0.translations.first { $0.languageCode == language } }
        for entry in entries where entry.facet.contains(":") {
            throw PipelineError(.data, "facet name '\(entry.facet)' contains ':', which the CSV format cannot hold")
        }
        return try list(entries.map { "\($0.facet):\($0.value)" })
    }
}
