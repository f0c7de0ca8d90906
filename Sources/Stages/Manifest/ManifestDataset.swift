import Pipelines

/// A dataset's index (`.pipeline/dataset.jsonl`) loaded into a private SQLite database in a temporary
/// file, so each manifest format can read it in its own order without memory growing with the dataset.
final class ManifestDataset {
    let database: SQLiteConnection
    let root: String
    private(set) var header: DatasetIndex.Header?
    /// SHA-256 over every image's path and SHA-256 in path order: the dataset's version.
    private(set) var version = ""
    private(set) var imageCount: Int64 = 0
    private(set) var labelCount: Int64 = 0

    init(root: String, logger: Logger) throws {
        self.root = root
        database = try SQLiteConnection(path: "", logger: logger)
        try database.executeScript(
            """
            PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-4096;
            CREATE TABLE labels (
                idx INTEGER PRIMARY KEY, folder TEXT NOT NULL UNIQUE, value TEXT NOT NULL, name TEXT NOT NULL,
                products TEXT NOT NULL, skus TEXT NOT NULL, vertex_name TEXT NOT NULL DEFAULT '');
            CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE images (
                path TEXT PRIMARY KEY, label TEXT NOT NULL, split TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL,
                width INTEGER NOT NULL, height INTEGER NOT NULL, format TEXT NOT NULL, product_id INTEGER NOT NULL, sku TEXT,
                asset_id INTEGER NOT NULL, asset TEXT NOT NULL);
            CREATE INDEX images_product ON images (product_id, path);
            CREATE INDEX images_split ON images (split, path);
            CREATE INDEX images_label ON images (label)
            """)
        let digest = try SHA256Digest()
        var previousPath = ""
        try DatasetIndex.read(
            DatasetFolder(root: root).indexPath,
            header: { self.header = $0 },
            label: { label in
                let products = JSONValue.array(label.products.map { .object([("id", .number(String($0.id))), ("name", .string($0.name))]) })
                try self.database.execute(
                    "INSERT INTO labels (idx, folder, value, name, products, skus) VALUES ($1, $2, $3, $4, $5, $6)",
                    [
                        .integer(Int64(label.index)), .text(label.folder), .text(label.value), .text(label.name), .text(products.serialized),
                        .text(JSONValue.array(label.skus.map(JSONValue.string)).serialized),
                    ])
                for product in label.products {
                    try self.database.execute(
                        "INSERT INTO products (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [.integer(product.id), .text(product.name)])
                }
                self.labelCount += 1
            },
            image: { image in
                guard image.path > previousPath else {
                    throw PipelineError(.data, "the dataset index lists \(image.path) out of order (after \(previousPath))")
                }
                previousPath = image.path
                var line = Array("\(image.path)\t\(image.sha256)\n".utf8)
                line.withUnsafeMutableBytes { digest.update(UnsafeRawBufferPointer($0)) }
                try self.database.execute(
                    """
                    INSERT INTO images (path, label, split, sha256, bytes, width, height, format, product_id, sku, asset_id, asset)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    """,
                    [
                        .text(image.path), .text(image.label), .text(image.split), .text(image.sha256), .integer(image.bytes),
                        .integer(Int64(image.width)), .integer(Int64(image.height)), .text(image.format), .integer(image.productID),
                        image.sku.map(SQLValue.text) ?? .null, .integer(image.assetID), .text(image.asset),
                    ])
                self.imageCount += 1
            })
        guard header != nil else { throw PipelineError(.data, "the dataset index of \(root) has no dataset line") }
        version = try digest.finish()
        try assignVertexNames()
    }

    func close() { database.close() }

    /// How many images `split` holds.
    func imageCount(in split: String) throws -> Int64 {
        var count: Int64 = 0
        try each("SELECT COUNT(*) FROM images WHERE split = $1", [.text(split)]) { count = $0.int64(0) ?? 0 }
        return count
    }

    func each(_ sql: String, _ parameters: [SQLValue] = [], _ body: (any RowView) throws -> Void) throws {
        try database.query(sql, parameters, columns: { _ in }, row: body)
    }

    /// Vertex AI's display names: letters, digits and underscores, starting with a letter, at most 32
    /// characters. A label that does not fit is changed to fit; two that would meet keep apart by a hash.
    private func assignVertexNames() throws {
        var taken: Set<String> = []
        var names: [(Int64, String)] = []
        try each("SELECT idx, value FROM labels ORDER BY idx") { row in
            let value = row.string(1) ?? ""
            var name = Self.vertexName(value)
            if taken.contains(name) { name = String(name.prefix(23)) + "_" + (try SHA256.hex(of: value)).prefix(8) }
            taken.insert(name)
            names.append((row.int64(0) ?? 0, name))
        }
        for (index, name) in names {
            try database.execute("UPDATE labels SET vertex_name = $1 WHERE idx = $2", [.text(name), .integer(index)])
        }
    }

    static func vertexName(_ label: String) -> String {
        var name = String(label.unicodeScalars.map { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) ? Character($0) : "_" })
        if !(name.unicodeScalars.first.map { $0.isASCII && $0.properties.isAlphabetic } ?? false) { name = "L_" + name }
        return String(name.prefix(32))
    }
}
