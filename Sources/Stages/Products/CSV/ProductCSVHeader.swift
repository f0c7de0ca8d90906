/// The fourteen standard columns of Vendure's product import CSV, in Vendure's order.
public enum ProductColumn: String, CaseIterable, Sendable {
    case name, slug, description, assets, facets, optionGroups, optionValues, sku, price, taxCategory
    case stockOnHand, trackInventory, variantAssets, variantFacets

    /// Whether the column may be written per language (`name:de`).
    public var isTranslatable: Bool {
        switch self {
        case .name, .slug, .description, .facets, .optionGroups, .optionValues, .variantFacets: true
        default: false
        }
    }

    /// The columns a file must have (Vendure accepts files without `stockOnHand` and `trackInventory`).
    public static let required: [ProductColumn] = allCases.filter { $0 != .stockOnHand && $0 != .trackInventory }

    /// The column's place in `allCases`.
    public var ordinal: Int {
        switch self {
        case .name: 0
        case .slug: 1
        case .description: 2
        case .assets: 3
        case .facets: 4
        case .optionGroups: 5
        case .optionValues: 6
        case .sku: 7
        case .price: 8
        case .taxCategory: 9
        case .stockOnHand: 10
        case .trackInventory: 11
        case .variantAssets: 12
        case .variantFacets: 13
        }
    }

    /// The columns that belong to the product (filled on its first row only); the others are per variant.
    var isProductColumn: Bool {
        switch self {
        case .name, .slug, .description, .assets, .facets, .optionGroups: true
        default: false
        }
    }
}

/// Whose custom field a `product:x` or `variant:x` column holds.
public enum CustomFieldOwner: String, Sendable {
    case product, variant
}

/// Where one custom field's values are: an untranslated column, or one column per language.
struct CustomFieldColumns {
    var name: String
    var untranslated: Int?
    var translated: [String: Int] = [:]

    func index(language: String) -> Int? { translated[language] ?? untranslated }
}

/// What each column of a product CSV header means, checked the way Vendure checks it.
struct ProductCSVHeader {
    let names: [String]
    /// Languages in the order they first appear in translated column names; `[mainLanguage]` when the
    /// header has no translated column.
    private(set) var languages: [String] = []
    let mainLanguage: String
    private(set) var untranslated: [ProductColumn: Int] = [:]
    private(set) var translated: [ProductColumn: [String: Int]] = [:]
    private(set) var productCustomFields: [CustomFieldColumns] = []
    private(set) var variantCustomFields: [CustomFieldColumns] = []

    /// `index(column, language:)` by language (in `languages` order) and column ordinal: every cell of
    /// every row is found through it, so it is worked out once.
    private var indexTable: [[Int?]] = []
    /// Every `optionValues` column (one per language when translated), in column order.
    private(set) var optionValueColumns: [Int] = []

    var columnCount: Int { names.count }

    /// The column holding `column` for `language`: its translated column, else the untranslated one.
    func index(_ column: ProductColumn, language: String) -> Int? {
        guard let position = languages.firstIndex(of: language) else { return untranslated[column] }
        return indexTable[position][column.ordinal]
    }

    /// The column whose non-empty value starts a new product: `name`, else `name:<main language>`, else
    /// the first translated name column.
    var productNameIndex: Int? {
        untranslated[.name] ?? translated[.name]?[mainLanguage] ?? languages.lazy.compactMap { translated[.name]?[$0] }.first
    }


    /// Reads the header; throws the problems Vendure rejects a whole file for, with its messages.
    init(names rawNames: [String], mainLanguage: String) throws(HeaderProblem) {
        names = rawNames.map { $0.trimmingPadding() }
        self.mainLanguage = mainLanguage
        var invalid: [String] = []
        var languages: [String] = []
        var seen: Set<String> = []
        for (index, name) in names.enumerated() {
            guard seen.insert(name).inserted else { throw HeaderProblem("the column '\(name)' appears twice", column: index + 1) }
            let parts = name.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            var language: String?
            if parts.count == 3 || (parts.count == 2 && CustomFieldOwner(rawValue: parts[0]) == nil) {
                language = parts[parts.count - 1]
            }
            if let code = language {
                guard Self.isLanguageCode(code) else {
                    invalid.append(name)
                    continue
                }
                if !languages.contains(code) { languages.append(code) }
            }
            let base = language == nil ? parts : Array(parts.dropLast())
            if base.count == 1 {
                // Vendure ignores columns it does not know.
                guard let column = ProductColumn(rawValue: base[0]) else { continue }
                if let language { translated[column, default: [:]][language] = index } else { untranslated[column] = index }
            } else if base.count == 2, let owner = CustomFieldOwner(rawValue: base[0]), !base[1].isEmpty {
                addCustomField(owner: owner, name: base[1], language: language, index: index)
            } else {
                invalid.append(name)
            }
        }
        if !invalid.isEmpty {
            throw HeaderProblem(invalid.map { "Invalid custom field: \($0)" }.joined(separator: "; "), column: 1)
        }
        self.languages = languages.isEmpty ? [mainLanguage] : languages
        try checkTranslations(usedLanguages: languages)
        try checkRequiredColumns()
        indexTable = self.languages.map { language in
            ProductColumn.allCases.map { translated[$0]?[language] ?? untranslated[$0] }
        }
        optionValueColumns =
            ([untranslated[.optionValues]].compactMap { $0 } + (translated[.optionValues].map { Array($0.values) } ?? []))
            .sorted()
    }

    private mutating func addCustomField(owner: CustomFieldOwner, name: String, language: String?, index: Int) {
        func add(to fields: inout [CustomFieldColumns]) {
            let position = fields.firstIndex { $0.name == name } ?? {
                fields.append(CustomFieldColumns(name: name))
                return fields.count - 1
            }()
            if let language { fields[position].translated[language] = index } else { fields[position].untranslated = index }
        }
        switch owner {
        case .product: add(to: &productCustomFields)
        case .variant: add(to: &variantCustomFields)
        }
    }

    private func checkTranslations(usedLanguages: [String]) throws(HeaderProblem) {
        var missing: [String] = []
        func check(_ field: String, untranslated: Int?, translated: [String: Int], translatable: Bool) throws(HeaderProblem) {
            guard !translated.isEmpty else { return }
            if untranslated != nil {
                throw HeaderProblem(
                    "The import file must not contain both translated and untranslated columns for field '\(field)'",
                    column: 1)
            }
            if !translatable { throw HeaderProblem("The '\(field)' field is not translatable.", column: 1) }
            missing += usedLanguages.filter { translated[$0] == nil }.map { "\(field):\($0)" }
        }
        for column in ProductColumn.allCases {
            try check(
                column.rawValue, untranslated: untranslated[column], translated: translated[column] ?? [:],
                translatable: column.isTranslatable)
        }
        for field in productCustomFields {
            try check("product:\(field.name)", untranslated: field.untranslated, translated: field.translated, translatable: true)
        }
        for field in variantCustomFields {
            try check("variant:\(field.name)", untranslated: field.untranslated, translated: field.translated, translatable: true)
        }
        if !missing.isEmpty {
            throw HeaderProblem(
                "The import file is missing the following translations: \(missing.map { "\"\($0)\"" }.joined(separator: ", "))",
                column: 1)
        }
    }

    private func checkRequiredColumns() throws(HeaderProblem) {
        let missing = ProductColumn.required.filter { untranslated[$0] == nil && translated[$0] == nil }
        guard missing.isEmpty else {
            throw HeaderProblem(
                "The import file is missing the following columns: \(missing.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))",
                column: 1)
        }
    }

    /// ISO 639 codes as Vendure's `LanguageCode` spells them: `de`, `zh_Hans`, `pt_BR`.
    static func isLanguageCode(_ text: String) -> Bool {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count <= 2, let primary = parts.first, (2...3).contains(primary.count),
            primary.allSatisfy({ $0.isASCII && $0.isLowercase })
        else { return false }
        guard parts.count == 2 else { return true }
        return (2...4).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && $0.isLetter }
    }
}

/// Why a header makes the whole file unusable.
struct HeaderProblem: Error {
    var message: String
    var column: Int

    init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }
}

extension UInt8 {
    /// A space or a tab: what csv-parse's `trim` option takes off a cell's ends.
    var isCellPadding: Bool { self == UInt8(ascii: " ") || self == UInt8(ascii: "\t") }

    /// Whether a cell's bytes (nil for NULL) are empty once padding is taken off.
    static func isEmptyCell(_ bytes: UnsafeRawBufferPointer?) -> Bool { bytes?.allSatisfy { $0.isCellPadding } ?? true }
}

extension String {
    /// Without leading and trailing spaces and tabs, as csv-parse's `trim` option leaves a cell.
    func trimmingPadding() -> String {
        // Most cells have no padding: a Character " " or "\t" is that one byte, so ends without one are kept.
        let ends = utf8.withContiguousStorageIfAvailable { ($0.first, $0.last) } ?? (utf8.first, utf8.last)
        guard let firstByte = ends.0, let lastByte = ends.1 else { return self }
        if !firstByte.isCellPadding && !lastByte.isCellPadding { return self }
        let isPadding: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isPadding($0) }), let last = lastIndex(where: { !isPadding($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
