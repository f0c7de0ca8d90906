import Pipelines

/// Ids of rows several products share, so that a chunk looks each one up once, and the names of facets
/// and facet values by id (every language stored), kept up to date by `syncFacetNames`, which writes them.
/// Facets and facet values are few; assets are usually one per product, so their dictionary is emptied
/// when it grows large.
struct SharedRowIDs {
    static let maximumAssets = 10_000

    var facets: [String: Int64] = [:]
    var facetValues: [FacetValueRef: Int64] = [:]
    var assets: [String: Int64] = [:]
    var facetNames: [Int64: [String: String]] = [:]
    var facetValueNames: [Int64: [String: String]] = [:]

    mutating func remember(asset source: String, _ id: Int64) {
        if assets.count >= Self.maximumAssets { assets.removeAll(keepingCapacity: true) }
        assets[source] = id
    }
}

extension ProductStore {
    /// The asset's id, stored now when it is new.
    func assetID(_ source: String) throws -> Int64 {
        if let id = sharedIDs.assets[source] { return id }
        var found: Int64?
        try read("SELECT id FROM store_assets WHERE source = $1", [.text(source)]) { found = $0.int64(0) }
        let id = try found ?? insertReturningID("INSERT INTO store_assets (source) VALUES ($1) RETURNING id", [.text(source)])
        sharedIDs.remember(asset: source, id)
        return id
    }

    func facetID(_ code: String) throws -> Int64 {
        if let id = sharedIDs.facets[code] { return id }
        var found: Int64?
        try read("SELECT id FROM store_facets WHERE code = $1", [.text(code)]) { found = $0.int64(0) }
        let id = try found ?? insertReturningID("INSERT INTO store_facets (code) VALUES ($1) RETURNING id", [.text(code)])
        sharedIDs.facets[code] = id
        return id
    }

    func facetValueID(_ ref: FacetValueRef) throws -> Int64 {
        if let id = sharedIDs.facetValues[ref] { return id }
        let facet = try facetID(ref.facetCode)
        var found: Int64?
        try read(
            "SELECT id FROM store_facet_values WHERE facet_id = $1 AND code = $2", [.integer(facet), .text(ref.valueCode)]
        ) { found = $0.int64(0) }
        let id =
            try found
            ?? insertReturningID(
                "INSERT INTO store_facet_values (facet_id, code) VALUES ($1, $2) RETURNING id",
                [.integer(facet), .text(ref.valueCode)])
        sharedIDs.facetValues[ref] = id
        return id
    }
}

extension ProductStore {
    /// Reads the ids of the facets, facet values and assets a chunk's blocks name, and the names of those
    /// facets and facet values, a few queries for the whole chunk: each block's diff then reads none of
    /// them one by one (on PostgreSQL each such read is a round trip, which also sends the writes queued
    /// before it). What is not stored yet is still looked up, and made, when a block needs it.
    func preloadSharedRows(of products: [DesiredProduct]) throws {
        var refs = Set<FacetValueRef>()
        var assets = Set<String>()
        for index in products.indices {
            refs.formUnion(products[index].rows.facetNames.keys)
            assets.formUnion(products[index].rows.assets.values)
            for variant in products[index].rows.variants.values { assets.formUnion(variant.assets.values) }
        }
        try preloadSharedRows(assets: assets, facetValues: refs)
    }

    /// `preloadSharedRows(of:)` for the assets and facet values named, each once.
    func preloadSharedRows(assets: some Collection<String>, facetValues: some Collection<FacetValueRef>) throws {
        let refs = Set(facetValues)
        try eachBatch(of: Array(assets), "SELECT source, id FROM store_assets WHERE source") { row in
            sharedIDs.remember(asset: row.storeText(0), row.storeInteger(1))
        }
        guard !refs.isEmpty else { return }
        var facetCodes: [Int64: String] = [:]
        try eachBatch(of: Array(Set(refs.map(\.facetCode))), "SELECT code, id FROM store_facets WHERE code") { row in
            sharedIDs.facets[row.storeText(0)] = row.storeInteger(1)
            facetCodes[row.storeInteger(1)] = row.storeText(0)
        }
        let facets = Array(facetCodes.keys)
        var values: [Int64] = []
        try eachBatch(of: facets, "SELECT facet_id, code, id FROM store_facet_values WHERE facet_id") { row in
            guard let facet = facetCodes[row.storeInteger(0)] else { return }
            let ref = FacetValueRef(facetCode: facet, valueCode: row.storeText(1))
            guard refs.contains(ref) else { return }
            sharedIDs.facetValues[ref] = row.storeInteger(2)
            values.append(row.storeInteger(2))
        }
        // Every language stored, as `syncFacetNames` keeps them; none stored reads as none.
        var facetNames = Dictionary(uniqueKeysWithValues: facets.map { ($0, [String: String]()) })
        try eachBatch(of: facets, "SELECT facet_id, language, name FROM store_facet_translations WHERE facet_id") { row in
            facetNames[row.storeInteger(0)]?[row.storeText(1)] = row.storeText(2)
        }
        var valueNames = Dictionary(uniqueKeysWithValues: values.map { ($0, [String: String]()) })
        try eachBatch(of: values, "SELECT facet_value_id, language, name FROM store_facet_value_translations WHERE facet_value_id") {
            row in valueNames[row.storeInteger(0)]?[row.storeText(1)] = row.storeText(2)
        }
        sharedIDs.facetNames.merge(facetNames) { known, _ in known }
        sharedIDs.facetValueNames.merge(valueNames) { known, _ in known }
    }
}
