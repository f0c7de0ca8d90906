import Pipelines

/// What a reference in new rows stands for until the writer knows it (`PackedRows.appendReference`).
enum NewRowSlot: UInt8 {
    /// The id of the rows' n-th new product, option group, option or variant.
    case product, group, option, variant
    /// The id of the n-th distinct asset or facet value the rows use.
    case asset, facetValue
}

/// A value of new rows that stands for an id not known yet.
struct NewRowReference: PackedValue {
    let slot: NewRowSlot
    let index: Int

    func append(to rows: inout PackedRows) { rows.appendReference(slot: slot.rawValue, index: index) }
}

/// New rows for the store's product tables, made without the store. Each new row's id is a reference to
/// its position among the rows' new products, option groups, options and variants; each asset and facet
/// value one to its position among those the rows use, in order of first use. `ProductStore` reserves the
/// ids, finds or makes the assets and facet values, and resolves the references (`writeNewRows`). For a
/// bulk load the feed thread makes them batch by batch (`ProductImportFeed`), off the writer's thread.
struct NewProductRowsBuilder: Sendable {
    var tables = NewProductRows()
    private(set) var now: String
    let locationID: Int64
    private var counts = [Int](repeating: 0, count: 4)
    /// The assets and facet values the rows use, in order of first use.
    private(set) var assets = FirstUseOrder<String>()
    private(set) var facetValues = FirstUseOrder<FacetValueRef>()
    // Set by `addProduct(block:)` (NewProductRowsFromBlock.swift) too.
    /// The facet values' names; a later product's win, as when products are stored one by one.
    var facetNames: [FacetValueRef: FacetNames] = [:]
    /// The options of the product being added.
    var newOptions = NewOptionIndexes()

    /// `locationID`: the default stock location, where stock levels go.
    init(now: String, locationID: Int64) {
        self.now = now
        self.locationID = locationID
    }

    /// How many new rows of `slot` the rows have (products, option groups, options, variants).
    func count(_ slot: NewRowSlot) -> Int { counts[Int(slot.rawValue)] }

    /// Empties the rows for another batch, keeping the room they took.
    mutating func removeAll(now: String) {
        self.now = now
        tables.removeAll()
        counts = [0, 0, 0, 0]
        assets.removeAll()
        facetValues.removeAll()
        facetNames.removeAll(keepingCapacity: true)
    }

    mutating func newRow(_ slot: NewRowSlot) -> NewRowReference {
        defer { counts[Int(slot.rawValue)] += 1 }
        return NewRowReference(slot: slot, index: counts[Int(slot.rawValue)])
    }

    /// The rows linking a product or variant to its assets and facet values, by position.
    private mutating func addShared(
        _ assetsByPosition: [Int: String], _ facetValuesByPosition: [Int: FacetValueRef], of owner: some PackedValue,
        into assetTable: WritableKeyPath<NewProductRows, BulkRows>, _ facetTable: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        forEachInKeyOrder(assetsByPosition) { position, source in addAsset(source, at: position, of: owner, into: assetTable) }
        forEachInKeyOrder(facetValuesByPosition) { position, ref in addFacetValue(ref, at: position, of: owner, into: facetTable) }
    }

    /// The row linking `owner` to the asset `source` at `position`.
    mutating func addAsset(
        _ source: String, at position: Int, of owner: some PackedValue, into table: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        let asset = NewRowReference(slot: .asset, index: assets.index(of: source))
        tables[keyPath: table].add(owner, position, asset)
    }

    /// The row linking `owner` to the facet value `ref` at `position`.
    mutating func addFacetValue(
        _ ref: FacetValueRef, at position: Int, of owner: some PackedValue, into table: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        let value = NewRowReference(slot: .facetValue, index: facetValues.index(of: ref))
        tables[keyPath: table].add(owner, position, value)
    }

    /// Variants new to the stored product `product`, whose options are stored.
    mutating func addVariants(_ variants: [(key: VariantKey, rows: VariantRows)], of product: StoredProduct) throws {
        for variant in variants {
            try addVariant(variant.rows, sku: variant.key.sku, product: product.id) { product.optionIDs[$1] }
        }
    }

    private mutating func addVariant<Product: PackedValue, Option: PackedValue>(
        _ rows: VariantRows, sku: String, product: Product, optionID: (_ group: Int, OptionRef) -> Option?
    ) throws {
        let variant = newRow(.variant)
        tables.variants.add(variant, product, rows.position, sku, rows.taxCategory, rows.trackInventory, now, now)
        forEachInKeyOrder(rows.prices) { currency, price in
            tables.prices.add(variant, currency, price.exponent, price.amountMinor)
        }
        if let onHand = rows.stockOnHand { tables.stockLevels.add(variant, locationID, onHand) }
        addShared(rows.assets, rows.facetValues, of: variant, into: \.variantAssets, \.variantFacetValues)
        try forEachInKeyOrder(rows.options) { position, ref in
            guard let option = optionID(position, ref) else {
                throw PipelineError(.internal, "option '\(ref.optionCode)' of group '\(ref.groupCode)' was not stored")
            }
            tables.variantOptions.add(variant, position, option)
        }
        forEachInKeyOrder(rows.customFields) { key, row in
            tables.variantCustomFields.add(variant, key.language, key.name, row.position, row.value)
        }
    }
}
