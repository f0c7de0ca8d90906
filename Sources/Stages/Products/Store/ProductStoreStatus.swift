import Pipelines

/// How much the product store holds, for `pipeline products status`.
struct ProductStoreStatus {
    var products: Int64
    var variants: Int64
    var prices: [(currency: String, count: Int64)]
    var assets: Int64
}

extension ProductStore {
    func status() throws -> ProductStoreStatus {
        func count(_ table: String) throws -> Int64 {
            var value: Int64 = 0
            try read("SELECT COUNT(*) FROM \(table)", []) { value = $0.storeInteger(0) }
            return value
        }
        var prices: [(currency: String, count: Int64)] = []
        try read("SELECT currency, COUNT(*) FROM store_prices GROUP BY currency ORDER BY currency", []) {
            prices.append(($0.storeText(0), $0.storeInteger(1)))
        }
        return ProductStoreStatus(
            products: try count("store_products"), variants: try count("store_variants"), prices: prices,
            assets: try count("store_assets"))
    }
}
