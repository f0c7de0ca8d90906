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

/// A bulk load's batch of new products, as the feed thread read them (`ProductImportFeed`): their blocks
/// and the rows they make. Making the rows there is work the writer's thread, the import's bottleneck, need
/// not do.
struct PreparedProducts: Sendable {
    private(set) var blocks: [ProductBlock] = []
    var rows: NewProductRowsBuilder

    init(now: String, locationID: Int64) { rows = NewProductRowsBuilder(now: now, locationID: locationID) }

    /// Adds a whole block; throws where `ProductRows(desired:)` does, leaving the rows to be dropped.
    mutating func add(_ block: ProductBlock) throws {
        try rows.addProduct(block: block)
        blocks.append(block)
    }
}

extension ProductStore {
    /// Stores a bulk load's batch inside the caller's open transaction. Into a store that takes every
    /// product as new (`assumesNewProducts`), its rows go in as they are, their references resolved in
    /// place; else its blocks go through `upsert(chunk:)`, as those of any batch.
    func insert(_ prepared: inout PreparedProducts) throws -> UpsertResult {
        guard assumesNewProducts else { return try upsert(chunk: prepared.blocks.map { try DesiredProduct($0) }) }
        return try deferringWrites {
            sharedIDs = SharedRowIDs()
            try preloadSharedRows(assets: prepared.rows.assets.keys, facetValues: prepared.rows.facetValues.keys)
            let (result, ids) = try insertNewProducts(&prepared.rows, products: prepared.blocks.count)
            var sources: [Int64: BlockSource] = [:]
            var unsourced = Set<Int64>()
            for (block, id) in zip(prepared.blocks, ids) {
                if let source = block.source { sources[id] = source } else { unsourced.insert(id) }
            }
            try recordSources(sources, forgetting: unsourced)
            return result
        }
    }

    /// Inserts products none of whose SKUs and slugs are stored, with one bulk insert a table. Returns the
    /// result and the new products' ids in order.
    func insertNewProducts(_ products: ArraySlice<DesiredProduct>, now: String) throws -> (UpsertResult, [Int64]) {
        var builder = takeRowBuilder(now: now)
        // Through the buffer, products are read in place: the slice's subscript would copy each one.
        try products.withUnsafeBufferPointer { products in
            for index in products.indices { try builder.addProduct(block: products[index].block) }
        }
        defer { rowBuilder = builder }
        return try insertNewProducts(&builder, products: products.count)
    }

    /// Writes the rows of `products` new products made by `builder`.
    private func insertNewProducts(_ builder: inout NewProductRowsBuilder, products: Int) throws -> (UpsertResult, [Int64]) {
        guard builder.count(.product) == products else {
            throw PipelineError(.internal, "rows were made for \(builder.count(.product)) products, not \(products)")
        }
        rowsWritten = 0
        let ids = try writeNewRows(&builder)
        var result = UpsertResult()
        result.productsCreated = products
        result.variantsCreated = builder.count(.variant)
        result.rowsWritten = rowsWritten
        result.productID = ids.last
        return (result, ids)
    }

    /// Inserts variants new to the store into the stored product `product` (its options stored), with
    /// one bulk insert a table.
    func insertNewVariants(_ variants: [(key: VariantKey, rows: VariantRows)], of product: StoredProduct, now: String) throws {
        guard !variants.isEmpty else { return }
        var builder = takeRowBuilder(now: now)
        try builder.addVariants(variants, of: product)
        _ = try writeNewRows(&builder)
        rowBuilder = builder
    }

    /// The kept row builder, emptied: its tables' room is grown once, not again for every chunk.
    private func takeRowBuilder(now: String) -> NewProductRowsBuilder {
        var builder = rowBuilder ?? NewProductRowsBuilder(now: now, locationID: defaultLocationID)
        rowBuilder = nil
        builder.removeAll(now: now)
        return builder
    }

    /// Writes the rows `builder` made: reserves their ids, finds or makes their assets and facet values,
    /// resolves the references, then inserts table by table in the order foreign keys need. Returns the new
    /// products' ids in order.
    private func writeNewRows(_ builder: inout NewProductRowsBuilder) throws -> [Int64] {
        var ids: [[Int64]] = []
        for (slot, table) in [(NewRowSlot.product, "store_products"), (.group, "store_option_groups"), (.option, "store_options"), (.variant, "store_variants")] {
            ids.append(try reserveIDs(table, count: builder.count(slot)))
        }
        ids.append(try builder.assets.keys.map(assetID))
        ids.append(try builder.facetValues.keys.map(facetValueID))
        _ = try syncFacetNames(builder.facetNames)
        for table in NewProductRows.inOrder {
            try builder.tables[keyPath: table].rows.resolveReferences { slot, index in
                guard Int(slot) < ids.count, index < ids[Int(slot)].count else {
                    throw PipelineError(.internal, "a new row refers to an id that was not reserved")
                }
                return ids[Int(slot)][index]
            }
            try bulkWrite(builder.tables[keyPath: table])
        }
        return ids[Int(NewRowSlot.product.rawValue)]
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
