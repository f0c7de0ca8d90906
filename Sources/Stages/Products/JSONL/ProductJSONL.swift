import Pipelines

// Product JSON Lines: one product per line, its variants nested:
// {"translations":[{"languageCode":"en","name":…,"slug":…,"description":…,"customFields":[{"name":…,"value":…}]}],
//  "assetPaths":[…],"facets":[{"translations":[{"languageCode":…,"facet":…,"value":…}]}],
//  "optionGroups":[{"translations":[{"languageCode":…,"name":…,"values":[…]}]}],
//  "variants":[{"sku":…,"price":"45.30","currency":"USD","taxCategory":…,"stockOnHand":10|null,
//    "trackInventory":true|false|null,"assetPaths":[…],"facets":[…],
//    "translations":[{"languageCode":…,"optionValues":[…],"customFields":[…]}]}]}
// Prices are decimal strings with the currency's exponent, so no JSON number is ever read as a float.
// Custom fields are arrays of name/value pairs so that their order survives. Source line numbers are not
// written; the reader gives each block its JSONL line.

/// Writes products as JSON Lines; `ProductJSONLReader` reads them back to the same blocks.
public final class ProductJSONLWriter {
    private let output: OutputFile

    public init(output: OutputFile) { self.output = output }

    public func write(_ block: ProductBlock) throws {
        try output.write(ProductJSONShape.encode(block).serialized)
        try output.writeByte(UInt8(ascii: "\n"))
    }

    public func flush() throws { try output.flush() }
}

/// Reads product JSON Lines one product at a time; a line that is not a valid product comes back as a
/// rejection and reading carries on.
public final class ProductJSONLReader {
    public let path: String
    private let reader: JSONLReader
    private let record = RecordBuffer()
    static let keys = ["translations", "assetPaths", "facets", "optionGroups", "variants"]

    /// The SKUs of earlier lines, when a SKU used again may reject its line (see `DuplicateSKUs`).
    let skuCheck: DuplicateSKUCheck?
    private let seenSlugs: SeenSlugs?

    public init(path: String, duplicateSKUs: DuplicateSKUs? = nil) throws {
        self.path = path
        reader = try JSONLReader(path: path, columns: Self.keys)
        skuCheck = try duplicateSKUs.map { try DuplicateSKUCheck($0) }
        seenSlugs = duplicateSKUs != nil ? try SeenSlugs() : nil
    }

    /// Where the next product line starts, to resume there.
    public var position: ReaderPosition { reader.position }

    /// Continues at a `position` taken from an earlier reader of the same file.
    public func resume(at position: ReaderPosition) throws { try reader.resume(at: position) }

    public var fileSize: Int64? { reader.input.fileSize }

    public func close() {
        reader.input.close()
        skuCheck?.close()
        seenSlugs?.close()
    }

    public func next() throws -> ProductReadItem? {
        let offset = reader.input.position
        guard let status = try reader.next(into: record) else { return nil }
        func rejection(_ error: RowError) -> ProductReadItem {
            let fields = (0..<record.count).map { record.string($0) }
            return .rejected(
                ProductRejection(
                    line: status.line, byteOffset: offset,
                    rows: [RejectedRow(fields: fields, error: error, record: reader.lastLineText())]))
        }
        if let error = status.error { return rejection(error) }
        var block: ProductBlock
        do {
            var members: [(String, JSONValue)] = []
            for (key, index) in zip(Self.keys, 0..<record.count) {
                members.append((key, try record.field(index).map { try JSONValue.parse(utf8: Array($0)) } ?? .array([])))
            }
            block = try ProductJSONShape.decode(.object(members))
        } catch {
            return rejection(RowError(line: status.line, column: 1, reason: "not a product: \(error)"))
        }
        block.line = status.line
        block.byteOffset = offset
        for index in block.variants.indices { block.variants[index].line = status.line }
        if let error = try seenSlugs?.duplicate(block, line: status.line, recording: true, column: { _ in 1 }) {
            return rejection(error)
        }
        if let skuCheck {
            skuCheck.startProduct(line: status.line)
            for variant in block.variants {
                if let error = try skuCheck.check(variant, line: status.line, column: 1, recording: true) { return rejection(error) }
            }
        }
        return .product(block)
    }
}

/// The mapping between the model and its JSON shape.
enum ProductJSONShape {
    static func encode(_ block: ProductBlock) -> JSONValue {
        .object([
            ("translations", .array(block.translations.map {
                .object([
                    ("languageCode", .string($0.languageCode)), ("name", .string($0.name)), ("slug", .string($0.slug)),
                    ("description", .string($0.description)), ("customFields", customFields($0.customFields)),
                ])
            })),
            ("assetPaths", strings(block.assetPaths)),
            ("facets", facets(block.facets)),
            ("optionGroups", .array(block.optionGroups.map { group in
                .object([("translations", .array(group.translations.map {
                    .object([("languageCode", .string($0.languageCode)), ("name", .string($0.name)), ("values", strings($0.values))])
                }))])
            })),
            ("variants", .array(block.variants.map { variant in
                .object([
                    ("sku", .string(variant.sku)), ("price", .string(variant.price.decimalText)),
                    ("currency", .string(variant.price.currency.code)), ("taxCategory", .string(variant.taxCategory)),
                    ("stockOnHand", variant.stockOnHand.map { .number(String($0)) } ?? .null),
                    ("trackInventory", variant.trackInventory.map { .bool($0) } ?? .null),
                    ("assetPaths", strings(variant.assetPaths)), ("facets", facets(variant.facets)),
                    ("translations", .array(variant.translations.map {
                        .object([
                            ("languageCode", .string($0.languageCode)), ("optionValues", strings($0.optionValues)),
                            ("customFields", customFields($0.customFields)),
                        ])
                    })),
                ])
            })),
        ])
    }

    static func decode(_ value: JSONValue) throws(JSONShapeError) -> ProductBlock {
        let translations = try array(value, "translations").map { item throws(JSONShapeError) in
            ProductTranslation(
                languageCode: try string(item, "languageCode"), name: try string(item, "name"), slug: try string(item, "slug"),
                description: try string(item, "description"), customFields: try customFields(item))
        }
        let optionGroups = try array(value, "optionGroups").map { group throws(JSONShapeError) in
            OptionGroup(translations: try array(group, "translations").map { item throws(JSONShapeError) in
                OptionGroupTranslation(
                    languageCode: try string(item, "languageCode"), name: try string(item, "name"), values: try strings(item, "values"))
            })
        }
        let variants = try array(value, "variants").map { item throws(JSONShapeError) in try variant(item) }
        return ProductBlock(
            translations: translations, assetPaths: try strings(value, "assetPaths"), facets: try facets(value),
            optionGroups: optionGroups, variants: variants)
    }

    private static func variant(_ item: JSONValue) throws(JSONShapeError) -> ProductVariant {
        let code = try string(item, "currency")
        guard let currency = CurrencyCode(code) else { throw JSONShapeError("unknown currency '\(code)'") }
        let price: Money
        do {
            price = try Money.parse(try string(item, "price"), currency: currency)
        } catch {
            throw JSONShapeError("bad price: \(error)")
        }
        var stockOnHand: Int?
        switch item["stockOnHand"] {
        case .number(let text)?:
            guard let stock = Int(text) else { throw JSONShapeError("stockOnHand \(text) is not a whole number") }
            stockOnHand = stock
        case .null?, nil: stockOnHand = nil
        default: throw JSONShapeError("stockOnHand must be a number or null")
        }
        var trackInventory: Bool?
        switch item["trackInventory"] {
        case .bool(let value)?: trackInventory = value
        case .null?, nil: trackInventory = nil
        default: throw JSONShapeError("trackInventory must be true, false or null")
        }
        return ProductVariant(
            sku: try string(item, "sku"), price: price, taxCategory: try string(item, "taxCategory"),
            stockOnHand: stockOnHand, trackInventory: trackInventory, assetPaths: try strings(item, "assetPaths"),
            facets: try facets(item),
            translations: try array(item, "translations").map { translation throws(JSONShapeError) in
                VariantTranslation(
                    languageCode: try string(translation, "languageCode"),
                    optionValues: try strings(translation, "optionValues"), customFields: try customFields(translation))
            })
    }

    private static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    private static func customFields(_ fields: [CustomFieldValue]) -> JSONValue {
        .array(fields.map { .object([("name", .string($0.name)), ("value", .string($0.value))]) })
    }

    private static func facets(_ facets: [FacetAssignment]) -> JSONValue {
        .array(facets.map { facet in
            .object([("translations", .array(facet.translations.map {
                .object([("languageCode", .string($0.languageCode)), ("facet", .string($0.facet)), ("value", .string($0.value))])
            }))])
        })
    }

    private static func array(_ value: JSONValue, _ key: String) throws(JSONShapeError) -> [JSONValue] {
        switch value[key] {
        case .array(let items)?: return items
        case nil: return []
        default: throw JSONShapeError("'\(key)' must be an array")
        }
    }

    private static func string(_ value: JSONValue, _ key: String) throws(JSONShapeError) -> String {
        guard case .string(let text)? = value[key] else { throw JSONShapeError("'\(key)' must be a string") }
        return text
    }

    private static func strings(_ value: JSONValue, _ key: String) throws(JSONShapeError) -> [String] {
        try array(value, key).map { item throws(JSONShapeError) in
            guard case .string(let text) = item else { throw JSONShapeError("'\(key)' must hold strings") }
            return text
        }
    }

    private static func customFields(_ value: JSONValue) throws(JSONShapeError) -> [CustomFieldValue] {
        try array(value, "customFields").map { item throws(JSONShapeError) in
            CustomFieldValue(name: try string(item, "name"), value: try string(item, "value"))
        }
    }

    private static func facets(_ value: JSONValue) throws(JSONShapeError) -> [FacetAssignment] {
        try array(value, "facets").map { facet throws(JSONShapeError) in
            FacetAssignment(translations: try array(facet, "translations").map { item throws(JSONShapeError) in
                FacetValueTranslation(
                    languageCode: try string(item, "languageCode"), facet: try string(item, "facet"), value: try string(item, "value"))
            })
        }
    }
}

/// JSON that is valid but not shaped like a product.
struct JSONShapeError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }
}
