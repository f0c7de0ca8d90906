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
