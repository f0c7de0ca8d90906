import Foundation
import Pipelines

// The product catalogue model shared by products.import / products.export and the product store.
// It mirrors Vendure's `ParsedProductWithVariants` (its import parser's output) field by field, except
// that prices are exact `Money`, `trackInventory` is `Bool?` (nil = inherit the global setting) and
// custom fields keep their column order.

/// One product with its variants: in Vendure's CSV, a product row and the variant rows below it.
public struct ProductBlock: Sendable, Equatable {
    /// 1-based line of the product row in the file it was read from (0 when built in memory).
    public var line: Int
    /// Byte offset of the product row in that file, when the reader could tell.
    public var byteOffset: Int64?
    /// One per language, in the order the languages first appear in the file's header.
    public var translations: [ProductTranslation]
    /// Asset paths or URLs as written in the file.
    public var assetPaths: [String]
    public var facets: [FacetAssignment]
    public var optionGroups: [OptionGroup]
    public var variants: [ProductVariant]
    /// Set when this is one part of a block too large to hold whole: the product's own fields repeated,
    /// a run of its variants, and option groups listing the values that run uses.
    public var part: BlockPart?
    /// The block's digest, when the reader makes one (`ProductCSVParser.Options.sourceSettings`): stored
    /// with the product so that a later import of the same bytes can skip it.
    public var source: BlockSource?

    public init(
        line: Int = 0, byteOffset: Int64? = nil, translations: [ProductTranslation], assetPaths: [String] = [],
        facets: [FacetAssignment] = [], optionGroups: [OptionGroup] = [], variants: [ProductVariant], part: BlockPart? = nil
    ) {
        self.part = part
        self.line = line
        self.byteOffset = byteOffset
        self.translations = translations
        self.assetPaths = assetPaths
        self.facets = facets
        self.optionGroups = optionGroups
        self.variants = variants
    }

    /// The same block with line numbers and byte offsets cleared, to compare content read from
    /// different files.
    public func ignoringSourcePositions() -> ProductBlock {
        var copy = self
        copy.line = 0
        copy.byteOffset = nil
        for index in copy.variants.indices { copy.variants[index].line = 0 }
        return copy
    }
}

/// Where a part of a product block lies in the whole block.
public struct BlockPart: Sendable, Equatable {
    /// 0 for the first part.
    public var index: Int
    /// The position of the part's first variant in the whole block.
    public var firstVariant: Int
    public var isLast: Bool

    public init(index: Int, firstVariant: Int, isLast: Bool) {
        self.index = index
        self.firstVariant = firstVariant
        self.isLast = isLast
    }
}

/// A custom field value (`product:x` / `variant:x` columns), kept as the text written.
public struct CustomFieldValue: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

public struct ProductTranslation: Sendable, Equatable {
    public var languageCode: String
    public var name: String
    public var slug: String
    public var description: String
    /// In header column order.
    public var customFields: [CustomFieldValue]

    public init(
        languageCode: String, name: String, slug: String, description: String,
        customFields: [CustomFieldValue] = []
    ) {
        self.languageCode = languageCode
        self.name = name
        self.slug = slug
        self.description = description
        self.customFields = customFields
    }
}

/// One `facet:value` assignment, with its text in every language.
public struct FacetAssignment: Sendable, Equatable {
    public var translations: [FacetValueTranslation]

    public init(translations: [FacetValueTranslation]) { self.translations = translations }
}

public struct FacetValueTranslation: Sendable, Equatable {
    public var languageCode: String
    public var facet: String
    public var value: String

    public init(languageCode: String, facet: String, value: String) {
        self.languageCode = languageCode
        self.facet = facet
        self.value = value
    }
}

/// An option group such as "size", with its name in every language and the values its variants use.
public struct OptionGroup: Sendable, Equatable {
    public var translations: [OptionGroupTranslation]

    public init(translations: [OptionGroupTranslation]) { self.translations = translations }
}

public struct OptionGroupTranslation: Sendable, Equatable {
    public var languageCode: String
    public var name: String
    /// The distinct values the product's variants use for this group, in order of first use.
    public var values: [String]

    public init(languageCode: String, name: String, values: [String]) {
        self.languageCode = languageCode
        self.name = name
        self.values = values
    }
}

public struct ProductVariant: Sendable, Equatable {
    /// 1-based line of the variant's row (0 when built in memory).
    public var line: Int
    /// In Unicode NFC (`normalizedSKU`): SKUs that differ only in normalisation are one SKU.
    public var sku: String
    public var price: Money
    /// The tax category's name as written; matched case-insensitively by the import stage.
    public var taxCategory: String
    /// Nil when the cell is empty (Vendure reads that as 0).
    public var stockOnHand: Int?
    /// Nil when the cell is empty: the variant inherits the global setting.
    public var trackInventory: Bool?
    public var assetPaths: [String]
    public var facets: [FacetAssignment]
    /// One per language, in the same order as the product's translations.
    public var translations: [VariantTranslation]

    public init(
        line: Int = 0, sku: String, price: Money, taxCategory: String, stockOnHand: Int? = nil,
        trackInventory: Bool? = nil, assetPaths: [String] = [], facets: [FacetAssignment] = [],
        translations: [VariantTranslation]
    ) {
        self.line = line
        self.sku = Self.normalizedSKU(sku)
        self.price = price
        self.taxCategory = taxCategory
        self.stockOnHand = stockOnHand
        self.trackInventory = trackInventory
        self.assetPaths = assetPaths
        self.facets = facets
        self.translations = translations
    }
}

extension ProductVariant {
    /// A SKU in Unicode NFC: `Café` typed on macOS (NFD, `e` + combining accent) and on Windows (NFC, `é`)
    /// are the same SKU, stored, compared and matched as the same bytes. ASCII is left as it is.
    public static func normalizedSKU(_ sku: String) -> String {
        sku.utf8.allSatisfy { $0 < 0x80 } ? sku : sku.precomposedStringWithCanonicalMapping
    }
}

public struct VariantTranslation: Sendable, Equatable {
    public var languageCode: String
    /// One value per option group of the product, in the groups' order.
    public var optionValues: [String]
    /// In header column order.
    public var customFields: [CustomFieldValue]

    public init(languageCode: String, optionValues: [String], customFields: [CustomFieldValue] = []) {
        self.languageCode = languageCode
        self.optionValues = optionValues
        self.customFields = customFields
    }
}
