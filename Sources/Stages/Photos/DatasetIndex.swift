import Pipelines

/// `OUT/.pipeline/dataset.jsonl`: what `photos.extract` knows about the dataset it wrote, for
/// `manifest.write`. One JSON object per line: a `dataset` line (how it was made), a `label` line per
/// label in index order (folder name order, as `imagefolder` numbers classes), an `image` line per file
/// in path order. Sorted and free of times, so the same dataset gives the same bytes.
enum DatasetIndex {
    static let schemaVersion = 1

    struct Header: Sendable {
        var labelBy: String
        var shares: SplitShares
        var store: String
        var pipeline: String
        var runIdentity: String
        var stage: String

        /// `split` and `source`, as the index and the native manifest both record them.
        var recorded: [(String, JSONValue)] {
            [
                ("label_by", .string(labelBy)),
                ("split", .object(zip(SplitShares.names, shares.percents).map { ($0, .number(String($1))) })),
                (
                    "source",
                    .object([
                        ("store", .string(store)), ("pipeline", .string(pipeline)), ("run_identity", .string(runIdentity)),
                        ("stage", .string(stage)),
                    ])
                ),
            ]
        }
    }

    struct Label: Sendable {
        var index: Int
        var folder: String
        var value: String
        var name: String
        var products: [(id: Int64, name: String)]
        var skus: [String]
    }

    struct Image: Sendable {
        var path: String
        var label: String
        var split: String
        var sha256: String
        var bytes: Int64
        var width: Int
        var height: Int
        var format: String
        var productID: Int64
        var sku: String?
        var assetID: Int64
        var asset: String
        var fileName: String { path.split(separator: "/").last.map(String.init) ?? path }
    }

    /// Writes the index from the extraction's kept images; an unchanged index is not rewritten.
    /// `owner` (the stage's checkpoint key) lets a later run remove what a killed one left half-written.
    static func write(_ header: Header, from scratch: PhotoScratch, to path: String, owner: String) throws -> FileDigest {
        try AtomicOutputFile.writeIfChanged(path: path, owner: owner) { output in
            try output.write(
                JSONValue.object([("kind", .string("dataset")), ("schema_version", .number(String(schemaVersion)))] + header.recorded)
                    .serialized + "\n")
            var index = 0
            try scratch.each("SELECT label, folder FROM labels ORDER BY folder") { row in
                let label = row.string(0) ?? ""
                var products: [JSONValue] = []
                var name = ""
                try scratch.each(
                    """
                    SELECT DISTINCT c.product_id, c.product_name, c.label_name FROM kept k JOIN candidates c ON c.seq = k.seq
                    WHERE k.label = $1 ORDER BY c.product_id
                    """, [.text(label)]
                ) { product in
                    if name.isEmpty { name = product.string(2) ?? "" }
                    products.append(.object([("id", .number(String(product.int64(0) ?? 0))), ("name", .string(product.string(1) ?? ""))]))
                }
                var skus: [JSONValue] = []
                try scratch.each(
                    """
                    SELECT DISTINCT COALESCE(c.sku, v.sku) AS sku FROM kept k JOIN candidates c ON c.seq = k.seq
                    LEFT JOIN variants v ON v.product_id = c.product_id AND c.sku IS NULL
                    WHERE k.label = $1 AND COALESCE(c.sku, v.sku) IS NOT NULL ORDER BY 1
                    """, [.text(label)]
                ) { skus.append(.string($0.string(0) ?? "")) }
                try output.write(
                    JSONValue.object([
                        ("kind", .string("label")), ("index", .number(String(index))), ("label", .string(row.string(1) ?? "")),
                        ("value", .string(label)), ("name", .string(name)), ("products", .array(products)), ("skus", .array(skus)),
                    ]).serialized + "\n")
                index += 1
            }
            try scratch.each(
                """
                SELECT k.path, k.folder, k.split, k.sha256, i.bytes, i.width, i.height, i.format, c.product_id, c.sku,
                       c.asset_id, c.asset
                FROM kept k JOIN inspected i ON i.seq = k.seq JOIN candidates c ON c.seq = k.seq ORDER BY k.path
                """
            ) { row in
                try output.write(
                    JSONValue.object([
                        ("kind", .string("image")), ("path", .string(row.string(0) ?? "")), ("label", .string(row.string(1) ?? "")),
                        ("split", .string(row.string(2) ?? "")), ("sha256", .string(row.string(3) ?? "")),
                        ("bytes", .number(String(row.int64(4) ?? 0))), ("width", .number(String(row.int64(5) ?? 0))),
                        ("height", .number(String(row.int64(6) ?? 0))), ("format", .string(row.string(7) ?? "")),
                        ("product_id", .number(String(row.int64(8) ?? 0))), ("sku", row.string(9).map(JSONValue.string) ?? .null),
                        ("asset_id", .number(String(row.int64(10) ?? 0))), ("asset", .string(row.string(11) ?? "")),
                    ]).serialized + "\n")
            }
        }.digest
    }

    /// Reads an index line by line: the header first, then labels, then images.
    static func read(
        _ path: String, header: (Header) throws -> Void, label: (Label) throws -> Void, image: (Image) throws -> Void
    ) throws {
        guard FileSupport.exists(path) else {
            throw PipelineError(
                .noInput, "\(path) does not exist: the dataset folder was not written by photos.extract (or not yet)")
        }
        let reader = try LineReader(path: path)
        defer { reader.close() }
        while let bytes = try reader.next() {
            let place = "\(path):\(reader.lineNumber)"
            let object: JSONValue
            do { object = try JSONValue.parse(utf8: bytes) } catch { throw PipelineError(.data, "\(place): \(error)") }
            func text(_ key: String) throws -> String {
                guard let value = object[key]?.text else { throw PipelineError(.data, "\(place): '\(key)' is missing") }
                return value
            }
            func number(_ key: String) throws -> Int64 {
                guard let number = object[key]?.integer else { throw PipelineError(.data, "\(place): '\(key)' is not a whole number") }
                return number
            }
            switch try text("kind") {
            case "dataset":
                guard try number("schema_version") == Int64(schemaVersion) else {
                    throw PipelineError(.data, "\(place): an index of another schema version; this pipeline reads \(schemaVersion)")
                }
                guard let split = object["split"], let source = object["source"] else {
                    throw PipelineError(.data, "\(place): 'split' or 'source' is missing")
                }
                func share(_ name: String) -> Int { Int(split[name]?.integer ?? 0) }
                func sourceText(_ name: String) -> String { source[name]?.text ?? "" }
                try header(
                    Header(
                        labelBy: try text("label_by"),
                        shares: SplitShares(train: share("train"), validation: share("validation"), test: share("test")),
                        store: sourceText("store"), pipeline: sourceText("pipeline"), runIdentity: sourceText("run_identity"),
                        stage: sourceText("stage")))
            case "label":
                let products = (object["products"]?.items ?? []).map { (id: $0["id"]?.integer ?? 0, name: $0["name"]?.text ?? "") }
                let skus = (object["skus"]?.items ?? []).compactMap(\.text)
                try label(
                    Label(
                        index: Int(try number("index")), folder: try text("label"), value: try text("value"), name: try text("name"),
                        products: products, skus: skus))
            case "image":
                try image(
                    Image(
                        path: try text("path"), label: try text("label"), split: try text("split"), sha256: try text("sha256"),
                        bytes: try number("bytes"), width: Int(try number("width")), height: Int(try number("height")),
                        format: try text("format"), productID: try number("product_id"), sku: object["sku"]?.text,
                        assetID: try number("asset_id"), asset: try text("asset")))
            case let kind:
                throw PipelineError(.data, "\(place): unknown line kind '\(kind)'")
            }
        }
    }
}
