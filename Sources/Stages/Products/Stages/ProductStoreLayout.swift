import Pipelines

extension ProductStore {
    /// The CSV layout that writes the whole store without losing anything, from a few aggregate queries
    /// (no product is loaded): its languages (`mainLanguage` first, then in position order), its custom
    /// fields in position order, a field translated when some product's values differ between languages.
    func csvLayout(mainLanguage: String) throws -> ProductCSVLayout {
        var languages: [String] = []
        try read(
            "SELECT language FROM store_product_translations GROUP BY language ORDER BY MIN(position), language", []
        ) { languages.append($0.storeText(0)) }
        if let main = languages.firstIndex(of: mainLanguage) { languages.insert(languages.remove(at: main), at: 0) }
        var fields: [CustomFieldOwner: [String]] = [:]
        var translated: Set<String> = []
        for (owner, table, key) in [
            (CustomFieldOwner.product, "store_product_custom_fields", "product_id"),
            (.variant, "store_variant_custom_fields", "variant_id"),
        ] {
            try read("SELECT name FROM \(table) GROUP BY name ORDER BY MIN(position), name", []) {
                fields[owner, default: []].append($0.storeText(0))
            }
            try read("SELECT DISTINCT name FROM \(table) GROUP BY \(key), name HAVING COUNT(DISTINCT value) > 1", []) {
                translated.insert("\(owner.rawValue):\($0.storeText(0))")
            }
        }
        return ProductCSVLayout(
            languages: languages, productCustomFields: fields[.product] ?? [], variantCustomFields: fields[.variant] ?? [],
            translatedCustomFields: translated, mainLanguage: mainLanguage)
    }
}
