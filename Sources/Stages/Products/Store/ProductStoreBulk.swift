import Pipelines

/// The rows of one table gathered for a bulk insert, packed (`PackedRows`).
struct BulkRows {
    let table: String
    let columns: [String]
    var rows: PackedRows

    init(_ table: String, _ columns: [String]) {
        self.table = table
        self.columns = columns
        rows = PackedRows(columnCount: columns.count)
    }

    // One method per row width the tables have, each generic over its values' types: a variadic method
    // made an array for every row, and `SQLValue`s an enum per value, on the thread that sets the pace.
    mutating func add<A: PackedValue, B: PackedValue, C: PackedValue>(_ a: A, _ b: B, _ c: C) {
        a.append(to: &rows)
        b.append(to: &rows)
        c.append(to: &rows)
    }

    mutating func add<A: PackedValue, B: PackedValue, C: PackedValue, D: PackedValue>(_ a: A, _ b: B, _ c: C, _ d: D) {
        add(a, b, c)
        d.append(to: &rows)
    }

    mutating func add<A: PackedValue, B: PackedValue, C: PackedValue, D: PackedValue, E: PackedValue>(
        _ a: A, _ b: B, _ c: C, _ d: D, _ e: E
    ) {
        add(a, b, c, d)
        e.append(to: &rows)
    }

    mutating func add<A: PackedValue, B: PackedValue, C: PackedValue, D: PackedValue, E: PackedValue, F: PackedValue>(
        _ a: A, _ b: B, _ c: C, _ d: D, _ e: E, _ f: F
    ) {
        add(a, b, c, d, e)
        f.append(to: &rows)
    }

    mutating func add<
        A: PackedValue, B: PackedValue, C: PackedValue, D: PackedValue, E: PackedValue, F: PackedValue, G: PackedValue,
        H: PackedValue
    >(_ a: A, _ b: B, _ c: C, _ d: D, _ e: E, _ f: F, _ g: G, _ h: H) {
        add(a, b, c, d, e, f)
        g.append(to: &rows)
        h.append(to: &rows)
    }
}

/// The rows of a batch of new products, table by table, in the order foreign keys need.
struct NewProductRows {
    var products = BulkRows("store_products", ["id", "created_at", "updated_at"])
    var translations = BulkRows(
        "store_product_translations", ["product_id", "language", "position", "name", "slug", "description"])
    var productAssets = BulkRows("store_product_assets", ["product_id", "position", "asset_id"])
    var productFacetValues = BulkRows("store_product_facet_values", ["product_id", "position", "facet_value_id"])
    var productCustomFields = BulkRows(
        "store_product_custom_fields", ["product_id", "language", "name", "position", "value"])
    var groups = BulkRows("store_option_groups", ["id", "product_id", "position", "code"])
    var groupTranslations = BulkRows("store_option_group_translations", ["option_group_id", "language", "name"])
    var options = BulkRows("store_options", ["id", "option_group_id", "position", "code"])
    var optionTranslations = BulkRows("store_option_translations", ["option_id", "language", "name"])
    var variants = BulkRows(
        "store_variants", ["id", "product_id", "position", "sku", "tax_category", "track_inventory", "created_at", "updated_at"])
    var prices = BulkRows("store_prices", ["variant_id", "currency", "currency_exponent", "amount_minor"])
    var stockLevels = BulkRows("store_stock_levels", ["variant_id", "location_id", "on_hand"])
    var variantAssets = BulkRows("store_variant_assets", ["variant_id", "position", "asset_id"])
    var variantFacetValues = BulkRows("store_variant_facet_values", ["variant_id", "position", "facet_value_id"])
    var variantOptions = BulkRows("store_variant_options", ["variant_id", "position", "option_id"])
    var variantCustomFields = BulkRows(
        "store_variant_custom_fields", ["variant_id", "language", "name", "position", "value"])

    static var inOrder: [WritableKeyPath<NewProductRows, BulkRows>] {
        [
            \.products, \.translations, \.productAssets, \.productFacetValues, \.productCustomFields, \.groups,
            \.groupTranslations, \.options, \.optionTranslations, \.variants, \.prices, \.stockLevels, \.variantAssets,
            \.variantFacetValues, \.variantOptions, \.variantCustomFields,
        ]
    }

    /// Empties every table, keeping the room its rows took.
    mutating func removeAll() {
        for table in Self.inOrder { self[keyPath: table].rows.removeAll() }
    }
}

/// Calls `body` with the entries of `dictionary` in key order; the usual dictionary of one entry is
/// neither sorted nor copied.
func forEachInKeyOrder<Key: Comparable, Value>(
    _ dictionary: [Key: Value], _ body: (Key, Value) throws -> Void
) rethrows {
    if dictionary.count <= 1 {
        for (key, value) in dictionary { try body(key, value) }
    } else {
        for (key, value) in dictionary.sorted(by: { $0.key < $1.key }) { try body(key, value) }
    }
}

/// The ids of one new product's options by group position and code, as `addProductRows` writes them:
/// groups in position order, each group's codes in ascending order. Searched, not hashed, and its room
/// kept from one product to the next.
struct NewOptionIDs {
    private var groups: [(position: Int, end: Int)] = []
    private var codes: [String] = []
    private var ids: [Int64] = []

    mutating func removeAll() {
        groups.removeAll(keepingCapacity: true)
        codes.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
    }

    /// The next option of the group being written; codes come in ascending order.
    mutating func add(_ code: String, _ id: Int64) {
        codes.append(code)
        ids.append(id)
    }

    mutating func endGroup(position: Int) { groups.append((position, codes.count)) }

    func id(group position: Int, code: String) -> Int64? {
        guard let index = groups.firstIndex(where: { $0.position == position }) else { return nil }
        var low = index == 0 ? 0 : groups[index - 1].end
        var high = groups[index].end
        while low < high {
            let middle = (low + high) / 2
            if codes[middle] < code { low = middle + 1 } else { high = middle }
        }
        return low < groups[index].end && codes[low] == code ? ids[low] : nil
    }
}

/// Hands out ids reserved for one table, in order.
struct ReservedIDs {
    private var ids: [Int64]
    private var next = 0

    init(_ ids: [Int64]) { self.ids = ids }

    mutating func take() throws -> Int64 {
        guard next < ids.count else { throw PipelineError(.internal, "fewer ids were reserved than rows written") }
        next += 1
        return ids[next - 1]
    }
}

extension ProductStore {
    /// Inserts products none of whose SKUs and slugs are stored: ids reserved up front, then every table's
    /// rows with one bulk insert. Returns the result and the new products' ids in order.
    func insertNewProducts(_ products: ArraySlice<DesiredProduct>, now: String) throws -> (UpsertResult, [Int64]) {
        rowsWritten = 0
        var groupCount = 0
        var optionCount = 0
        var variantCount = 0
        for index in products.indices {
            groupCount += products[index].rows.optionGroups.count
            for group in products[index].rows.optionGroups.values { optionCount += group.options.count }
            variantCount += products[index].rows.variants.count
        }
        var productIDs = ReservedIDs(try reserveIDs("store_products", count: products.count))
        var groupIDs = ReservedIDs(try reserveIDs("store_option_groups", count: groupCount))
        var optionIDs = ReservedIDs(try reserveIDs("store_options", count: optionCount))
        var variantIDs = ReservedIDs(try reserveIDs("store_variants", count: variantCount))

        var facetNames: [FacetValueRef: FacetNames] = [:]
        var ids: [Int64] = []
        var newOptions = NewOptionIDs()
        try writeNewRows { tables in
            // Through the buffer, products are read in place: the slice's subscript would copy each one.
            try products.withUnsafeBufferPointer { products in
                for desired in products {
                    let product = try productIDs.take()
                    ids.append(product)
                    try addProductRows(
                        desired.rows, id: product, now: now, groupIDs: &groupIDs, optionIDs: &optionIDs, newOptions: &newOptions,
                        into: &tables)
                    // Later blocks' names win, as when the blocks are stored one by one.
                    for (ref, names) in desired.rows.facetNames where facetNames[ref] != names {
                        facetNames[ref, default: FacetNames()].facet.merge(names.facet) { _, new in new }
                        facetNames[ref, default: FacetNames()].value.merge(names.value) { _, new in new }
                    }
                    for (key, variantRows) in desired.variants {
                        try addVariantRows(
                            variantRows, sku: key.sku, id: try variantIDs.take(), product: product, now: now,
                            optionID: { newOptions.id(group: $0, code: $1.optionCode) }, into: &tables)
                    }
                }
            }
            _ = try syncFacetNames(facetNames)
        }

        var result = UpsertResult()
        result.productsCreated = products.count
        result.variantsCreated = variantCount
        result.rowsWritten = rowsWritten
        result.productID = ids.last
        return (result, ids)
    }

    /// Inserts variants new to the store into the stored product `product` (its options stored), with
    /// one bulk insert a table.
    func insertNewVariants(_ variants: [(key: VariantKey, rows: VariantRows)], of product: StoredProduct, now: String) throws {
        guard !variants.isEmpty else { return }
        var ids = ReservedIDs(try reserveIDs("store_variants", count: variants.count))
        try writeNewRows { tables in
            for variant in variants {
                try addVariantRows(
                    variant.rows, sku: variant.key.sku, id: try ids.take(), product: product.id, now: now,
                    optionID: { product.optionIDs[$1] }, into: &tables)
            }
        }
    }

    /// Gathers rows with `gather`, then writes them table by table, in the order foreign keys need. The
    /// tables' buffers are kept from one call to the next: grown once, not again for every chunk.
    private func writeNewRows(_ gather: (inout NewProductRows) throws -> Void) throws {
        var tables = NewProductRows()
        swap(&tables, &newRowBuffers)
        defer {
            tables.removeAll()
            swap(&tables, &newRowBuffers)
        }
        try gather(&tables)
        for table in NewProductRows.inOrder { try bulkWrite(tables[keyPath: table]) }
    }

    /// Adds a product's own rows; returns its options' ids.
    private func addProductRows(
        _ rows: ProductRows, id: Int64, now: String, groupIDs: inout ReservedIDs, optionIDs: inout ReservedIDs,
        newOptions: inout NewOptionIDs, into tables: inout NewProductRows
    ) throws {
        let product = id
        tables.products.add(product, now, now)
        forEachInKeyOrder(rows.translations) { language, row in
            tables.translations.add(product, language, row.position, row.name, row.slug, row.description)
        }
        try forEachInKeyOrder(rows.assets) { position, source in
            tables.productAssets.add(product, position, try assetID(source))
        }
        try forEachInKeyOrder(rows.facetValues) { position, ref in
            tables.productFacetValues.add(product, position, try facetValueID(ref))
        }
        forEachInKeyOrder(rows.customFields) { key, row in
            tables.productCustomFields.add(product, key.language, key.name, row.position, row.value)
        }
        newOptions.removeAll()
        for (code, group) in rows.optionGroups.sorted(by: { $0.value.position < $1.value.position }) {
            let groupID = try groupIDs.take()
            tables.groups.add(groupID, product, group.position, code)
            forEachInKeyOrder(group.names) { language, name in
                tables.groupTranslations.add(groupID, language, name)
            }
            try forEachInKeyOrder(group.options) { optionCode, option in
                let optionID = try optionIDs.take()
                newOptions.add(optionCode, optionID)
                tables.options.add(optionID, groupID, option.position, optionCode)
                forEachInKeyOrder(option.names) { language, name in
                    tables.optionTranslations.add(optionID, language, name)
                }
            }
            newOptions.endGroup(position: group.position)
        }
    }

    private func addVariantRows(
        _ rows: VariantRows, sku: String, id: Int64, product: Int64, now: String, optionID: (_ group: Int, OptionRef) -> Int64?,
        into tables: inout NewProductRows
    ) throws {
        let variant = id
        tables.variants.add(variant, product, rows.position, sku, rows.taxCategory, rows.trackInventory, now, now)
        forEachInKeyOrder(rows.prices) { currency, price in
            tables.prices.add(variant, currency, price.exponent, price.amountMinor)
        }
        if let onHand = rows.stockOnHand {
            tables.stockLevels.add(variant, defaultLocationID, onHand)
        }
        try forEachInKeyOrder(rows.assets) { position, source in
            tables.variantAssets.add(variant, position, try assetID(source))
        }
        try forEachInKeyOrder(rows.facetValues) { position, ref in
            tables.variantFacetValues.add(variant, position, try facetValueID(ref))
        }
        try forEachInKeyOrder(rows.options) { position, ref in
            guard let optionID = optionID(position, ref) else {
                throw PipelineError(.internal, "option '\(ref.optionCode)' of group '\(ref.groupCode)' was not stored")
            }
            tables.variantOptions.add(variant, position, optionID)
        }
        forEachInKeyOrder(rows.customFields) { key, row in
            tables.variantCustomFields.add(variant, key.language, key.name, row.position, row.value)
        }
    }

    /// `count` ids for new rows of `table` (a name from this file, never from data). SQLite: above the
    /// largest id, which stays so while the transaction holds the write lock; PostgreSQL: from the
    /// identity column's sequence.
    private func reserveIDs(_ table: String, count: Int) throws -> [Int64] {
        guard count > 0 else { return [] }
        var ids: [Int64] = []
        ids.reserveCapacity(count)
        switch connection.dialect {
        case .sqlite:
            var largest: Int64 = 0
            try read("SELECT COALESCE(MAX(id), 0) FROM \(table)", []) { largest = $0.storeInteger(0) }
            ids = (1...Int64(count)).map { largest + $0 }
        case .postgres:
            // The sequence's name once per table: looked up per row, it took most of the reservation's time.
            let sequence = try sequenceNames[table] ?? {
                var name = ""
                try read("SELECT pg_get_serial_sequence($1, 'id')", [.text(table)]) { name = $0.storeText(0) }
                sequenceNames[table] = name
                return name
            }()
            try read(
                "SELECT nextval($1::regclass) FROM generate_series(1, $2)", [.text(sequence), .integer(Int64(count))]
            ) { ids.append($0.storeInteger(0)) }
            ids.sort()
        }
        guard ids.count == count else { throw PipelineError(.internal, "could not reserve \(count) ids in \(table)") }
        return ids
    }

    /// Writes the rows through `bulkInsert`: multi-row INSERTs on SQLite, `COPY` on PostgreSQL. A multi-row
    /// INSERT into a table with foreign keys makes SQLite keep a statement journal; see
    /// `withStatementJournalsInMemory`.
    private func bulkWrite(_ rows: BulkRows) throws {
        guard !rows.rows.isEmpty else { return }
        try sendDeferredWrites()
        let inserter = try connection.bulkInsert(into: try SQLName(validating: rows.table), columns: rows.columns)
        try inserter.insert(rows.rows)
        rowsWritten += try inserter.finish()
    }
}
