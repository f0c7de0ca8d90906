import Pipelines

/// What `products.import` did so far; part of its checkpoint.
struct ProductImportCounts: Codable, Equatable {
    var rowsRead: Int64 = 0
    var rowsRejected: Int64 = 0
    var productsCreated: Int64 = 0
    var productsUpdated: Int64 = 0
    var productsUnchanged: Int64 = 0
    var productsRejected: Int64 = 0
    var variantsCreated: Int64 = 0
    var variantsUpdated: Int64 = 0
    var variantsUnchanged: Int64 = 0
    var variantsDeleted: Int64 = 0

    mutating func add(_ result: UpsertResult) {
        productsCreated += Int64(result.productsCreated)
        productsUpdated += Int64(result.productsUpdated)
        productsUnchanged += Int64(result.productsUnchanged)
        variantsCreated += Int64(result.variantsCreated)
        variantsUpdated += Int64(result.variantsUpdated)
        variantsUnchanged += Int64(result.variantsUnchanged)
        variantsDeleted += Int64(result.variantsDeleted)
    }

    static let productsCreatedCounter = Counter("products_created", unit: "products", doc: "products new to the store")
    static let productsUpdatedCounter = Counter(
        "products_updated", unit: "products", doc: "stored products whose fields, variants or assets changed")
    static let productsUnchangedCounter = Counter(
        "products_unchanged", unit: "products", doc: "stored products the file left as they were")
    static let productsRejectedCounter = Counter(
        "products_rejected", unit: "products", doc: "products rejected whole because a row of theirs was bad")
    static let variantsCreatedCounter = Counter("variants_created", unit: "variants", doc: "variants new to the store")
    static let variantsUpdatedCounter = Counter(
        "variants_updated", unit: "variants", doc: "stored variants whose price, stock or fields changed")
    static let variantsUnchangedCounter = Counter(
        "variants_unchanged", unit: "variants", doc: "stored variants the file left as they were")
    static let variantsDeletedCounter = Counter(
        "variants_deleted", unit: "variants", doc: "variants a stored product had and the file no longer lists")

    static let counters = [
        ImportCounters.read, ImportCounters.rejected, productsCreatedCounter, productsUpdatedCounter,
        productsUnchangedCounter, productsRejectedCounter, variantsCreatedCounter, variantsUpdatedCounter,
        variantsUnchangedCounter, variantsDeletedCounter,
    ]

    var stageCounts: StageCounts {
        [
            ImportCounters.read: rowsRead, ImportCounters.rejected: rowsRejected,
            Self.productsCreatedCounter: productsCreated, Self.productsUpdatedCounter: productsUpdated,
            Self.productsUnchangedCounter: productsUnchanged, Self.productsRejectedCounter: productsRejected,
            Self.variantsCreatedCounter: variantsCreated, Self.variantsUpdatedCounter: variantsUpdated,
            Self.variantsUnchangedCounter: variantsUnchanged, Self.variantsDeletedCounter: variantsDeleted,
        ]
    }

    var summary: String {
        "products: \(productsCreated) created, \(productsUpdated) updated, \(productsUnchanged) unchanged, "
            + "\(productsRejected) rejected; variants: \(variantsCreated) created, \(variantsUpdated) updated, "
            + "\(variantsUnchanged) unchanged, \(variantsDeleted) deleted; rows: \(rowsRead) read, \(rowsRejected) rejected"
    }
}
