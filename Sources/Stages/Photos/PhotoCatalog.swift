import Pipelines

/// Reads the product store's photos into the extraction's scratch database, in the order a dataset
/// takes them: by product, the product's own photos first (the featured one, then by position), then
/// each variant's by variant and position. Each photo gets its label, or the reason it has none.
struct PhotoCatalog {
    let label: PhotoLabel
    let includeVariantAssets: Bool

    /// Fills `candidates` and `members` (the products and SKUs behind each label) in `scratch`.
    func load(from store: any DatabaseConnection, into scratch: PhotoScratch) throws -> Int64 {
        var count: Int64 = 0
        let facetCode: String = if case .facet(let code) = label { code } else { "" }
        try store.query(Self.candidateSQL(variants: includeVariantAssets), [.text(facetCode)], columns: { _ in }) { row in
            let product = row.int64(0) ?? 0
            let productName = row.string(1) ?? ""
            let slug = row.string(2) ?? ""
            let isVariantPhoto = row.int64(3) == 1
            let variantSKU = row.string(8)
            let variantCount = row.int64(9) ?? 0
            let soleSKU = row.string(10)
            let facetValue = row.string(11)
            let facetName = row.string(12)
            var labelText: String?
            var labelName = ""
            var sku = variantSKU
            var problem: String?
            switch label {
            case .product:
                labelText = slug
                labelName = productName
            case .sku:
                if isVariantPhoto {
                    labelText = variantSKU
                } else if variantCount == 1, let soleSKU {
                    labelText = soleSKU
                    sku = soleSKU
                } else {
                    problem = "a product photo of a product with \(variantCount) variants: with label: sku only variant photos and the photos of single-variant products have a label"
                }
                labelName = productName
            case .facet(let code):
                if let facetValue {
                    labelText = facetValue
                    labelName = facetName ?? facetValue
                } else {
                    problem = "the product has no value of facet '\(code)'"
                }
            }
            count += 1
            try scratch.addCandidate(
                PhotoScratch.Candidate(
                    seq: count, label: labelText, labelName: labelName, productID: product, productName: productName,
                    sku: sku, assetID: row.int64(6) ?? 0, asset: row.string(7) ?? "", problem: problem))
        }
        try store.query(
            """
            SELECT v.product_id, v.sku FROM store_variants v ORDER BY v.product_id, v.position
            """, [], columns: { _ in }
        ) { row in try scratch.addVariant(product: row.int64(0) ?? 0, sku: row.string(1) ?? "") }
        return count
    }

    /// Columns: product id, name, slug, 0 product photo / 1 variant photo, variant position, asset position,
    /// asset id, asset source, variant SKU, the product's variant count, its first SKU, and the product's
    /// first value of facet $1 (code and name).
    static func candidateSQL(variants: Bool) -> String {
        let productColumns = """
            (SELECT COUNT(*) FROM store_variants c WHERE c.product_id = p.id),
            (SELECT c.sku FROM store_variants c WHERE c.product_id = p.id ORDER BY c.position LIMIT 1),
            f.code, f.name
            """
        let variantPart =
            variants
            ? """
            UNION ALL
            SELECT p.id, t.name, t.slug, 1, v.position, va.position, a.id, a.source, v.sku, \(productColumns)
            FROM store_variant_assets va
            JOIN store_variants v ON v.id = va.variant_id
            JOIN store_products p ON p.id = v.product_id
            JOIN store_product_translations t ON t.product_id = p.id AND t.position = 0
            JOIN store_assets a ON a.id = va.asset_id
            LEFT JOIN facet_label f ON f.product_id = p.id AND f.n = 1
            """ : ""
        return """
            WITH facet_label AS (
                SELECT pfv.product_id, fv.code,
                    (SELECT ft.name FROM store_facet_value_translations ft WHERE ft.facet_value_id = fv.id
                     ORDER BY ft.language LIMIT 1) AS name,
                    ROW_NUMBER() OVER (PARTITION BY pfv.product_id ORDER BY pfv.position) AS n
                FROM store_product_facet_values pfv
                JOIN store_facet_values fv ON fv.id = pfv.facet_value_id
                JOIN store_facets ff ON ff.id = fv.facet_id
                WHERE ff.code = CAST($1 AS TEXT)
            )
            SELECT p.id, t.name, t.slug, 0, 0, pa.position, a.id, a.source, NULL, \(productColumns)
            FROM store_product_assets pa
            JOIN store_products p ON p.id = pa.product_id
            JOIN store_product_translations t ON t.product_id = p.id AND t.position = 0
            JOIN store_assets a ON a.id = pa.asset_id
            LEFT JOIN facet_label f ON f.product_id = p.id AND f.n = 1
            \(variantPart)
            ORDER BY 1, 4, 5, 6
            """
    }
}
