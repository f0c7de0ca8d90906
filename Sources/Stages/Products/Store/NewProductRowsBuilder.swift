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
    /// The facet values' names; a later product's win, as when products are stored one by one.
    private(set) var facetNames: [FacetValueRef: FacetNames] = [:]
    private var newOptions = NewOptionIndexes()

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

    private mutating func newRow(_ slot: NewRowSlot) -> NewRowReference {
        defer { counts[Int(slot.rawValue)] += 1 }
        return NewRowReference(slot: slot, index: counts[Int(slot.rawValue)])
    }

    /// The rows linking a product or variant to its assets and facet values, by position.
    private mutating func addShared(
        _ assetsByPosition: [Int: String], _ facetValuesByPosition: [Int: FacetValueRef], of owner: some PackedValue,
        into assetTable: WritableKeyPath<NewProductRows, BulkRows>, _ facetTable: WritableKeyPath<NewProductRows, BulkRows>
    ) {
        forEachInKeyOrder(assetsByPosition) { position, source in
            let asset = NewRowReference(slot: .asset, index: assets.index(of: source))
            tables[keyPath: assetTable].add(owner, position, asset)
        }
        forEachInKeyOrder(facetValuesByPosition) { position, ref in
            let value = NewRowReference(slot: .facetValue, index: facetValues.index(of: ref))
            tables[keyPath: facetTable].add(owner, position, value)
        }
    }

    /// A new product with its variants.
    mutating func addProduct(_ desired: DesiredProduct) throws {
        let product = newRow(.product)
        let rows = desired.rows
        tables.products.add(product, now, now)
        forEachInKeyOrder(rows.translations) { language, row in
            tables.translations.add(product, language, row.position, row.name, row.slug, row.description)
        }
        addShared(rows.assets, rows.facetValues, of: product, into: \.productAssets, \.productFacetValues)
        forEachInKeyOrder(rows.customFields) { key, row in
            tables.productCustomFields.add(product, key.language, key.name, row.position, row.value)
        }
        newOptions.removeAll()
        for (code, group) in rows.optionGroups.sorted(by: { $0.value.position < $1.value.position }) {
            let groupID = newRow(.group)
            tables.groups.add(groupID, product, group.position, code)
            forEachInKeyOrder(group.names) { language, name in tables.groupTranslations.add(groupID, language, name) }
            forEachInKeyOrder(group.options) { optionCode, option in
                let optionID = newRow(.option)
                newOptions.add(optionCode, optionID.index)
                tables.options.add(optionID, groupID, option.position, optionCode)
                forEachInKeyOrder(option.names) { language, name in tables.optionTranslations.add(optionID, language, name) }
            }
            newOptions.endGroup(position: group.position)
        }
        for (ref, names) in rows.facetNames where facetNames[ref] != names {
            facetNames[ref, default: FacetNames()].facet.merge(names.facet) { _, new in new }
            facetNames[ref, default: FacetNames()].value.merge(names.value) { _, new in new }
        }
        let options = newOptions
        // Through the buffer the variants are read in place, not copied.
        try desired.variants.withUnsafeBufferPointer { variants in
            for index in variants.indices {
                try addVariant(variants[index].value, sku: variants[index].key.sku, product: product) { group, ref in
                    options.index(group: group, code: ref.optionCode).map { NewRowReference(slot: .option, index: $0) }
                }
            }
        }
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

/// Distinct keys in order of first use, each with its position in that order.
struct FirstUseOrder<Key: Hashable & Sendable>: Sendable {
    private(set) var keys: [Key] = []
    private var positions: [Key: Int] = [:]

    /// The position of `key`, added at the end if it is new.
    mutating func index(of key: Key) -> Int {
        if let position = positions[key] { return position }
        positions[key] = keys.count
        keys.append(key)
        return keys.count - 1
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
    }
}

/// The positions of one new product's options among the rows' options, by group position and code, as
/// `addProduct` writes them: groups in position order, each group's codes in ascending order. Searched,
/// not hashed, and its room kept from one product to the next.
struct NewOptionIndexes {
    private var groups: [(position: Int, end: Int)] = []
    private var codes: [String] = []
    private var indexes: [Int] = []

    mutating func removeAll() {
        groups.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        indexes.removeAll(keepingCapacity: true)
    }

    /// The next option of the group being written; codes come in ascending order.
    mutating func add(_ code: String, _ index: Int) {
        codes.append(code)
        indexes.append(index)
    }

    mutating func endGroup(position: Int) { groups.append((position, codes.count)) }

    func index(group position: Int, code: String) -> Int? {
        guard let group = groups.firstIndex(where: { $0.position == position }) else { return nil }
        var low = group == 0 ? 0 : groups[group - 1].end
        var high = groups[group].end
        while low < high {
            let middle = (low + high) / 2
            if codes[middle] < code { low = middle + 1 } else { high = middle }
        }
        return low < groups[group].end && codes[low] == code ? indexes[low] : nil
    }
}
