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

    mutating func reject(_ rejection: ProductRejection) {
        rowsRead += Int64(rejection.rows.count)
        rowsRejected += Int64(rejection.rows.count)
        productsRejected += 1
    }

    /// Adds the counts of rejected blocks that a separate pass found.
    mutating func merge(rejects: ProductImportCounts) {
        rowsRead += rejects.rowsRead
        rowsRejected += rejects.rowsRejected
        productsRejected += rejects.productsRejected
    }

    /// read = rows read, written = variants created or updated, rejected = rows rejected,
    /// skipped = variants unchanged.
    var outcome: StageOutcome {
        StageOutcome(
            read: rowsRead, written: variantsCreated + variantsUpdated, rejected: rowsRejected, skipped: variantsUnchanged)
    }

    var summary: String {
        "products: \(productsCreated) created, \(productsUpdated) updated, \(productsUnchanged) unchanged, "
            + "\(productsRejected) rejected; variants: \(variantsCreated) created, \(variantsUpdated) updated, "
            + "\(variantsUnchanged) unchanged, \(variantsDeleted) deleted; rows: \(rowsRead) read, \(rowsRejected) rejected"
    }
}
