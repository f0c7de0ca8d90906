import Foundation
import Pipelines

/// The product catalogue kept in the pipeline's database (tables in docs/store-schema.md).
///
/// `upsert` writes one `ProductBlock` inside the caller's transaction and touches only rows whose stored
/// values differ from the block's, so importing the same file twice writes nothing the second time.
/// `products` streams the catalogue back as blocks for export.
///
/// Not thread-safe: one store per connection, used from one thread at a time.
public final class ProductStore {
    public let connection: any DatabaseConnection
    let logger: Logger
    let clock: @Sendable () -> Date
    let defaultLocationID: Int64
    /// Rows changed by the statements of the current `upsert`.
    var rowsWritten: Int64 = 0
    /// Ids of shared rows (facets, facet values, assets) read or written by the current `upsert` call; emptied
    /// at the start of each call, since a rolled-back transaction takes its new rows with it.
    var sharedIDs = SharedRowIDs()
    /// The large product whose parts are being stored, between its first and its last part.
    var partlyStored: PartlyStoredProduct?
    /// PostgreSQL: the identity sequence of each table new ids were reserved in.
    var sequenceNames: [String: String] = [:]
    /// Set while a bulk load into an empty store runs: every product is new, so nothing is looked up (on
    /// PostgreSQL, with the product tables' indexes set aside by `SetAsideSchema`, it would scan unindexed).
    var assumesNewProducts = false
    /// A block whose shape is the one its product was stored from (`BlockSource.shape`) has only its
    /// product's prices and stock levels read back and compared (`loadValues`); off, every product is
    /// compared in full (`skip_unchanged: false`).
    var readsValuesOnly = false
    /// The rows `insertNewProducts` and `insertNewVariants` gather, kept from one chunk to the next.
    var rowBuilder: NewProductRowsBuilder?
    /// Writes queued by `deferringWrites`, sent before the next read.
    private var deferredWrites: [BoundStatement] = []
    /// PostgreSQL: rows `stampUpdated` queued, by table and time: one statement each when sent.
    private var deferredStamps: [DeferredStamp: [Int64]] = [:]
    private var defersWrites = false
    static let deferredWriteLimit = 1_024

    /// The tables a bulk load into an empty PostgreSQL store fills, whose indexes and constraints it sets
    /// aside: all but the shared ones it looks rows up in by key (facets, assets, stock locations). The
    /// largest first, as a catalogue of a few variants a product fills them: after a bulk load into SQLite,
    /// the tables' foreign keys are checked in this order on two connections (`UncheckedForeignKeys`).
    static let bulkTables = [
        "store_variant_options", "store_stock_levels", "store_prices", "store_variants", "store_product_facet_values",
        "store_option_translations", "store_options", "store_option_groups", "store_product_translations",
        "store_product_sources", "store_option_group_translations", "store_products", "store_product_assets",
        "store_product_custom_fields", "store_variant_assets", "store_variant_facet_values", "store_variant_custom_fields",
    ]

    /// Every table of the product store: the bulk load's, and the shared ones it looks rows up in.
    static let productTables =
        bulkTables + [
            "store_stock_locations", "store_assets", "store_facets", "store_facet_translations", "store_facet_values",
            "store_facet_value_translations",
        ]

    /// Whether the store holds no product.
    func isEmpty() throws -> Bool {
        var any = false
        try read("SELECT 1 FROM store_products LIMIT 1", []) { _ in any = true }
        return !any
    }

    /// Opens the store on `connection`, whose tables must be at the newest version this binary knows (the
    /// engine migrates them before a stage of the family runs; `pipeline db migrate` does it by hand).
    public init(
        connection: any DatabaseConnection, logger: Logger, clock: @escaping @Sendable () -> Date = Date.init
    ) throws {
        self.connection = connection
        self.logger = logger
        self.clock = clock
        let version = try StoreSchema.schema.currentVersion(connection, logger: logger)
        guard version == StoreSchema.newestVersion else {
            throw PipelineError(
                .config,
                "the product store in \(connection.locator) is at schema version \(version), this pipeline needs "
                    + "\(StoreSchema.newestVersion); run `pipeline db migrate`")
        }
        var locationID: Int64?
        try connection.query(
            "SELECT id FROM store_stock_locations WHERE name = $1", [.text(StoreSchema.defaultStockLocation)],
            columns: { _ in }, row: { locationID = $0.int64(0) })
        guard let locationID else {
            throw PipelineError(
                .config, "the store has no stock location '\(StoreSchema.defaultStockLocation)'; it was removed by hand")
        }
        defaultLocationID = locationID
        if try SetAsideSchema.isSetAside(in: connection) {
            logger.warning(
                "products.schema_set_aside",
                "the product store's indexes and constraints are set aside by an unfinished products.import into the empty store; "
                    + "lookups are slow until that import is run again to its end")
        }
    }

    /// Runs `body` with SQLite's temporary files in memory: a multi-row INSERT into a table with foreign
    /// keys keeps a statement journal, which SQLite otherwise writes to a temp file (gigabytes over a
    /// large import). Each journal lives for one statement of at most `SQLiteBulkInserter.rowsPerStatement` rows, so memory stays
    /// bounded. The setting is put back afterwards: later stages' large sorts should spill to disk.
    public func withStatementJournalsInMemory<R>(_ body: () throws -> R) throws -> R {
        guard connection.dialect == .sqlite else { return try body() }
        try connection.executeScript("PRAGMA temp_store = MEMORY")
        defer { try? connection.executeScript("PRAGMA temp_store = DEFAULT") }
        return try body()
    }

    /// SQLite, an import into a store that has products: its WAL is checkpointed on a thread of its own
    /// (`SQLiteConnection.startBackgroundCheckpoints`) until `endBackgroundCheckpoints`; false on
    /// PostgreSQL. Such an import changes pages all over the file (a page a changed product) and commits
    /// most of them at once, when its check passes: the checkpoint that follows copies and syncs them
    /// while the writer goes on with the rest of the file. Not for an import into an empty store, whose
    /// writer keeps both processors busy to its end.
    @discardableResult
    func startBackgroundCheckpoints() throws -> Bool {
        guard let connection = connection as? SQLiteConnection else { return false }
        try connection.startBackgroundCheckpoints()
        return true
    }

    /// Ends `startBackgroundCheckpoints` (nothing when they are not on); `checkpoint`: checkpoints the rest
    /// of the WAL (the import ended well).
    func endBackgroundCheckpoints(checkpoint: Bool) throws {
        try (connection as? SQLiteConnection)?.endBackgroundCheckpoints(checkpoint: checkpoint)
    }

    // MARK: - Statement helpers

    /// Runs a write statement, counting the rows it changed; while `deferringWrites`, queues it and
    /// counts it as one row (a write is only made for a row that differs).
    func write(_ sql: String, _ parameters: [SQLValue]) throws {
        guard defersWrites else {
            rowsWritten += try connection.execute(sql, parameters)
            return
        }
        deferredWrites.append(BoundStatement(sql, parameters))
        rowsWritten += 1
        if deferredWrites.count >= Self.deferredWriteLimit { try sendDeferredWrites() }
    }

    /// Runs `body` with `write`s queued and sent together (one round trip per few hundred on PostgreSQL):
    /// before any read or bulk write, and when `body` returns.
    func deferringWrites<R>(_ body: () throws -> R) throws -> R {
        defersWrites = true
        defer {
            defersWrites = false
            deferredWrites.removeAll()
            deferredStamps.removeAll()
        }
        let result = try body()
        try sendDeferredWrites()
        return result
    }

    /// Sets `updated_at` of the row `id` of `table` (`store_products`, `store_variants`) to `now`. While
    /// deferring writes on PostgreSQL, the rows of a table are stamped by one statement when the writes
    /// are sent (after the others: nothing else writes `updated_at`), not by one each.
    func stampUpdated(_ table: StampedTable, id: Int64, now: String) throws {
        guard defersWrites, connection.dialect == .postgres else {
            return try write("UPDATE \(table.rawValue) SET updated_at = $1 WHERE id = $2", [.text(now), .integer(id)])
        }
        deferredStamps[DeferredStamp(table: table, now: now), default: []].append(id)
        rowsWritten += 1
    }

    enum StampedTable: String {
        case products = "store_products"
        case variants = "store_variants"
    }

    private struct DeferredStamp: Hashable {
        var table: StampedTable
        var now: String
    }

    /// Sends the queued writes, so that what comes next sees them.
    func sendDeferredWrites() throws {
        guard !deferredWrites.isEmpty || !deferredStamps.isEmpty else { return }
        var writes = deferredWrites
        deferredWrites.removeAll(keepingCapacity: true)
        for (stamp, ids) in deferredStamps.sorted(by: { ($0.key.table.rawValue, $0.key.now) < ($1.key.table.rawValue, $1.key.now) }) {
            writes.append(
                BoundStatement(
                    "UPDATE \(stamp.table.rawValue) SET updated_at = $1 WHERE id = ANY($2::bigint[])",
                    [.text(stamp.now), .text(Int64.postgresArray(ids).literal)]))
        }
        deferredStamps.removeAll(keepingCapacity: true)
        try connection.executeBatch(writes)
    }

    /// Runs an `INSERT ... RETURNING id` and returns the new row's id.
    func insertReturningID(_ sql: String, _ parameters: [SQLValue]) throws -> Int64 {
        try sendDeferredWrites()
        var id: Int64?
        try connection.query(sql, parameters, columns: { _ in }, row: { id = $0.int64(0) })
        guard let id else { throw PipelineError(.internal, "an insert returned no id: \(sql)") }
        rowsWritten += 1
        return id
    }

    func read(_ sql: String, _ parameters: [SQLValue], _ row: (any RowView) throws -> Void) throws {
        try sendDeferredWrites()
        try connection.query(sql, parameters, columns: { _ in }, row: row)
    }

    func timestamp() -> String { Instant(clock()).iso }
}

/// What one or more `upsert` calls did. Add results up with `+=` for a whole file.
public struct UpsertResult: Sendable, Equatable {
    public var productsCreated = 0
    public var productsUpdated = 0
    public var productsUnchanged = 0
    public var variantsCreated = 0
    public var variantsUpdated = 0
    public var variantsUnchanged = 0
    /// Variants the stored product had and the block no longer lists.
    public var variantsDeleted = 0
    /// Rows inserted, updated or deleted; 0 when everything was unchanged.
    public var rowsWritten: Int64 = 0
    /// The product the last upserted block was stored as.
    public var productID: Int64?

    public init() {}

    public static func += (lhs: inout UpsertResult, rhs: UpsertResult) {
        lhs.productsCreated += rhs.productsCreated
        lhs.productsUpdated += rhs.productsUpdated
        lhs.productsUnchanged += rhs.productsUnchanged
        lhs.variantsCreated += rhs.variantsCreated
        lhs.variantsUpdated += rhs.variantsUpdated
        lhs.variantsUnchanged += rhs.variantsUnchanged
        lhs.variantsDeleted += rhs.variantsDeleted
        lhs.rowsWritten += rhs.rowsWritten
        lhs.productID = rhs.productID ?? lhs.productID
    }
}

extension RowView {
    /// The column's text, "" for NULL (for NOT NULL columns).
    func storeText(_ column: Int) -> String { string(column) ?? "" }
    /// The column's integer, 0 for NULL (for NOT NULL columns).
    func storeInteger(_ column: Int) -> Int64 { int64(column) ?? 0 }
    func storeInt(_ column: Int) -> Int { Int(int64(column) ?? 0) }
}
