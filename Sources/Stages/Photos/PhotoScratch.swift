import Pipelines

/// The extraction's working set in a private SQLite database in a temporary file (removed when closed),
/// so that memory does not grow with the number of photos: the candidates read from the store, what
/// each photo's bytes turned out to be, and the images the dataset keeps.
final class PhotoScratch {
    let database: SQLiteConnection

    struct Candidate {
        var seq: Int64
        var label: String?
        var labelName: String
        var productID: Int64
        var productName: String
        var sku: String?
        var assetID: Int64
        var asset: String
        var problem: String?
    }

    /// What a candidate's bytes are: an image (with where its bytes can be taken from) or a problem.
    struct Inspection {
        var seq: Int64
        var sha256: String?
        var bytes: Int64?
        var header: ImageHeader?
        var source: String?
        var reason: String?
        var detail: String?
    }

    init(logger: Logger) throws {
        // An empty path opens a private database in a temporary file that SQLite removes on close.
        database = try SQLiteConnection(path: "", logger: logger)
        try database.executeScript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1024; PRAGMA temp.cache_size=-1024;
            CREATE TABLE candidates (
                seq INTEGER PRIMARY KEY, label TEXT, label_name TEXT NOT NULL, product_id INTEGER NOT NULL,
                product_name TEXT NOT NULL, sku TEXT, asset_id INTEGER NOT NULL, asset TEXT NOT NULL, problem TEXT);
            CREATE INDEX candidates_label ON candidates (label);
            CREATE TABLE variants (product_id INTEGER NOT NULL, sku TEXT NOT NULL);
            CREATE INDEX variants_product ON variants (product_id);
            CREATE TABLE inspected (
                seq INTEGER PRIMARY KEY, sha256 TEXT, bytes INTEGER, format TEXT, width INTEGER, height INTEGER,
                source TEXT, reason TEXT, detail TEXT);
            CREATE TABLE kept (
                seq INTEGER PRIMARY KEY, label TEXT NOT NULL, folder TEXT NOT NULL, sha256 TEXT NOT NULL,
                score INTEGER NOT NULL, split TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL UNIQUE,
                present INTEGER NOT NULL DEFAULT 0, UNIQUE (folder, name));
            CREATE INDEX kept_label ON kept (label, score);
            CREATE TABLE excluded (seq INTEGER PRIMARY KEY, reason TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE TABLE labels (
                label TEXT PRIMARY KEY, folder TEXT NOT NULL UNIQUE, images INTEGER NOT NULL, kept INTEGER NOT NULL)
            """)
    }

    func close() { database.close() }

    func addCandidate(_ candidate: Candidate) throws {
        try database.execute(
            """
            INSERT INTO candidates (seq, label, label_name, product_id, product_name, sku, asset_id, asset, problem)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                .integer(candidate.seq), candidate.label.map(SQLValue.text) ?? .null, .text(candidate.labelName),
                .integer(candidate.productID), .text(candidate.productName), candidate.sku.map(SQLValue.text) ?? .null,
                .integer(candidate.assetID), .text(candidate.asset), candidate.problem.map(SQLValue.text) ?? .null,
            ])
    }

    func addVariant(product: Int64, sku: String) throws {
        try database.execute("INSERT INTO variants (product_id, sku) VALUES ($1, $2)", [.integer(product), .text(sku)])
    }

    func record(_ inspection: Inspection) throws {
        try database.execute(
            """
            INSERT INTO inspected (seq, sha256, bytes, format, width, height, source, reason, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [
                .integer(inspection.seq), inspection.sha256.map(SQLValue.text) ?? .null,
                inspection.bytes.map(SQLValue.integer) ?? .null, inspection.header.map { .text($0.format.rawValue) } ?? .null,
                inspection.header.map { .integer(Int64($0.width)) } ?? .null,
                inspection.header.map { .integer(Int64($0.height)) } ?? .null, inspection.source.map(SQLValue.text) ?? .null,
                inspection.reason.map(SQLValue.text) ?? .null, inspection.detail.map(SQLValue.text) ?? .null,
            ])
    }

    /// Runs `body` for each row of `sql`.
    func each(_ sql: String, _ parameters: [SQLValue] = [], _ body: (any RowView) throws -> Void) throws {
        try database.query(sql, parameters, columns: { _ in }, row: body)
    }

    func count(_ sql: String, _ parameters: [SQLValue] = []) throws -> Int64 {
        var value: Int64 = 0
        try each(sql, parameters) { value = $0.int64(0) ?? 0 }
        return value
    }

    func execute(_ sql: String, _ parameters: [SQLValue] = []) throws {
        try database.execute(sql, parameters)
    }
}
