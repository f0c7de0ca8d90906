import Pipelines

/// A stored product whose block differs from the one it was stored from in prices and stock levels
/// alone (their shapes are equal, `BlockSource.shape`): every other row of it is what the block makes,
/// so only its variants' ids, prices and stock levels are read back.
struct StoredValues {
    struct Variant {
        var id: Int64
        var sku: String
        var prices: [String: PriceRow] = [:]
        var stockOnHand: Int64?
    }

    /// By position.
    var variants: [Int: Variant] = [:]
}

extension ProductStore {
    /// The products of `candidates` (a block's product by its index in `products`) whose stored shape is
    /// that block's, with their values: four queries per batch (shapes, variants, prices, stock levels;
    /// no shapes for the blocks the check vouched for) where reading a whole product takes about fifteen. A product whose variants are not the block's by
    /// position and SKU is left out (it is then read and compared in full).
    func loadValues(_ candidates: [Int64: Int], of products: [DesiredProduct]) throws -> [Int64: StoredValues] {
        // A block the check vouched for has the shape of its product's row: the check found it by that row.
        var sameShape: [Int64] = []
        var unvouched: [Int64] = []
        for (id, index) in candidates {
            if products[index].valuesOf == id { sameShape.append(id) } else { unvouched.append(id) }
        }
        try eachBatch(of: unvouched, "SELECT product_id, shape_digest FROM \(ProductSources.table) WHERE product_id") {
            row in
            let id = row.storeInteger(0)
            guard let index = candidates[id], let shape = products[index].block.source?.shape, row.int64(1) == shape else { return }
            sameShape.append(id)
        }
        var stored: [Int64: StoredValues] = [:]
        var variantProducts: [Int64: (product: Int64, position: Int)] = [:]
        try eachBatch(of: sameShape, "SELECT product_id, id, sku, position FROM store_variants WHERE product_id") { row in
            let (product, id, position) = (row.storeInteger(0), row.storeInteger(1), row.storeInt(3))
            stored[product, default: StoredValues()].variants[position] = StoredValues.Variant(id: id, sku: row.storeText(2))
            variantProducts[id] = (product, position)
        }
        stored = stored.filter { id, values in
            guard let index = candidates[id] else { return false }
            let desired = products[index].variants
            return values.variants.count == desired.count
                && desired.allSatisfy { values.variants[$0.value.position]?.sku == $0.key.sku }
        }
        // Only the variants of the products kept.
        let variantIDs = variantProducts.compactMap { stored[$0.value.product] == nil ? nil : $0.key }
        try readValues(ofVariants: variantIDs) { id, price in
            guard let at = variantProducts[id] else { return }
            stored[at.product]?.variants[at.position]?.prices[price.currency] = price.row
        } stock: { id, onHand in
            guard let at = variantProducts[id] else { return }
            stored[at.product]?.variants[at.position]?.stockOnHand = onHand
        }
        return stored
    }

    /// `upsert` of a block whose stored product `id` (`stored`, from `loadValues`) differs from it in
    /// prices and stock levels alone: what `upsert` writes and counts for it, without the comparison of
    /// rows known to be equal.
    func upsertValues(_ product: DesiredProduct, id: Int64, stored: StoredValues, now: String) throws -> UpsertResult {
        rowsWritten = 0
        var result = UpsertResult()
        result.productID = id
        // Facets and their values are shared: another product may have renamed them since.
        let productChanged = try syncFacetNames(product.rows.facetNames)
        let owner = StoredProduct(id: id)
        for (_, desired) in product.variants {
            guard let variant = stored.variants[desired.position] else {
                throw PipelineError(.internal, "the variant at position \(desired.position) of product \(id) was not read")
            }
            var current = desired
            current.prices = variant.prices
            current.stockOnHand = variant.stockOnHand
            switch try syncVariant(desired: desired, stored: current, id: variant.id, moved: false, product: owner, now: now) {
            case .updated: result.variantsUpdated += 1
            case .unchanged: result.variantsUnchanged += 1
            }
        }
        try countProduct(id, isNew: false, changed: productChanged, into: &result, now: now)
        result.rowsWritten = rowsWritten
        return result
    }
}
