import Pipelines

extension StoreSchema {
    /// Where each product was last stored from by `products.import`: the SHA-256 of its block in the file
    /// (with the import's settings) and the block's line. A later import skips a block with the same
    /// digest without reading the product back (`ProductSourceIndex`); whatever else changes a product's
    /// rows drops its row here (`ProductSources.forget`).
    @Sendable static func version6(_ dialect: SQLDialect) -> String {
        let productID =
            switch dialect {
            case .sqlite: "product_id INTEGER PRIMARY KEY"
            case .postgres: "product_id BIGINT PRIMARY KEY"
            }
        return """
            CREATE TABLE store_product_sources (
                \(productID) REFERENCES store_products (id) ON DELETE CASCADE,
                digest TEXT NOT NULL,
                line BIGINT NOT NULL
            );
            CREATE INDEX store_product_sources_line ON store_product_sources (line, product_id)
            """
    }

    /// The digest of the block without its price and stock cells (`BlockSource.shape`): a later block
    /// with the same one differs from it in prices and stock levels alone, which are all that is read
    /// back (`ProductStore.loadValues`). Null for rows recorded before, which are compared in full.
    @Sendable static func version7(_ dialect: SQLDialect) -> String {
        "ALTER TABLE store_product_sources ADD COLUMN shape_digest BIGINT"
    }
}
