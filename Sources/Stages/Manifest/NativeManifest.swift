import Pipelines

/// `manifest.json`: the dataset as this tool knows it (schema in docs/manifest.schema.json). One JSON
/// document, laid out one label and one image per line so that `pipeline manifest verify` can stream it:
///
/// ```
/// {"schema_version":1,"dataset_version":"…",…,"labels":[
/// {"index":0,"label":"laptop",…},
/// …
/// ],"images":[
/// {"path":"train/laptop/…jpg",…},
/// …
/// ],"counts":{…}}
/// ```
enum NativeManifest {
    static let schemaVersion = 1
    static let fileName = "manifest.json"

    static func write(_ target: ManifestTarget) throws -> FileDigest {
        let dataset = target.dataset
        guard let header = dataset.header else { throw PipelineError(.internal, "the dataset index was not read") }
        let datasetPath = relativePath(from: target.out, to: dataset.root)
        return try target.write("\(target.out)/\(fileName)") { output in
            var opening = JSONValue.object([
                ("schema_version", .number(String(schemaVersion))), ("dataset_version", .string(dataset.version)),
                ("dataset", .string(datasetPath)), ("created_at", target.createdAt.map { .string(ManifestTarget.isoText($0)) } ?? .null),
            ] + header.recorded).serialized
            opening.removeLast()  // the closing brace: labels, images and counts follow
            try output.write(opening + ",\"labels\":[\n")
            var first = true
            try dataset.each("SELECT idx, folder, value, name, vertex_name, products, skus FROM labels ORDER BY idx") { row in
                let label = JSONValue.object([
                    ("index", .integer(row.int64(0))), ("label", .text(row.string(1))), ("value", .text(row.string(2))),
                    ("name", .text(row.string(3))), ("vertex_display_name", .text(row.string(4))),
                    ("products", (try? JSONValue.parse(row.string(5) ?? "[]")) ?? .array([])),
                    ("skus", (try? JSONValue.parse(row.string(6) ?? "[]")) ?? .array([])),
                ])
                try output.write((first ? "" : ",\n") + label.serialized)
                first = false
            }
            try output.write("\n],\"images\":[\n")
            first = true
            try dataset.each(
                """
                SELECT i.path, i.label, l.idx, i.split, i.sha256, i.bytes, i.width, i.height, i.format, i.product_id, i.sku,
                       i.asset_id, i.asset
                FROM images i JOIN labels l ON l.folder = i.label ORDER BY i.path
                """
            ) { row in
                let image = JSONValue.object([
                    ("path", .text(row.string(0))), ("label", .text(row.string(1))), ("label_index", .integer(row.int64(2))),
                    ("split", .text(row.string(3))), ("sha256", .text(row.string(4))), ("bytes", .integer(row.int64(5))),
                    ("width", .integer(row.int64(6))), ("height", .integer(row.int64(7))), ("format", .text(row.string(8))),
                    ("product_id", .integer(row.int64(9))), ("sku", .text(row.string(10))), ("asset_id", .integer(row.int64(11))),
                    ("asset", .text(row.string(12))),
                ])
                try output.write((first ? "" : ",\n") + image.serialized)
                first = false
            }
            try output.write("\n],\"counts\":" + (try counts(dataset)).serialized + "}\n")
        }
    }

    /// Images and labels in all, per split, and per label and split.
    static func counts(_ dataset: ManifestDataset) throws -> JSONValue {
        var splits: [(String, JSONValue)] = []
        for split in DatasetFolder.splits {
            splits.append((split, .integer(try dataset.imageCount(in: split))))
        }
        var perLabel: [JSONValue] = []
        try dataset.each(
            """
            SELECT l.folder, SUM(i.split = 'train'), SUM(i.split = 'validation'), SUM(i.split = 'test'), COUNT(i.path)
            FROM labels l LEFT JOIN images i ON i.label = l.folder GROUP BY l.idx ORDER BY l.idx
            """
        ) { row in
            perLabel.append(
                .object([
                    ("label", .text(row.string(0))), ("train", .integer(row.int64(1) ?? 0)),
                    ("validation", .integer(row.int64(2) ?? 0)), ("test", .integer(row.int64(3) ?? 0)),
                    ("images", .integer(row.int64(4))),
                ]))
        }
        return .object([
            ("images", .integer(dataset.imageCount)), ("labels", .integer(dataset.labelCount)), ("splits", .object(splits)),
            ("per_label", .array(perLabel)),
        ])
    }

    /// The path of `target` seen from the folder `base` (both absolute and normalised).
    static func relativePath(from base: String, to target: String) -> String {
        let from = base.split(separator: "/")
        let to = target.split(separator: "/")
        var common = 0
        while common < from.count, common < to.count, from[common] == to[common] { common += 1 }
        let parts = Array(repeating: "..", count: from.count - common) + to[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// The first line of a native manifest (everything before its labels), as an object.
    static func opening(_ reader: LineReader) throws -> JSONValue {
        let suffix = Array(",\"labels\":[".utf8)
        guard let first = try reader.next(), first.count > suffix.count, Array(first.suffix(suffix.count)) == suffix,
            let header = try? JSONValue.parse(utf8: Array(first.dropLast(suffix.count)) + Array("}".utf8))
        else { throw PipelineError(.data, "\(reader.path):1: not a manifest.json written by manifest.write") }
        return header
    }

    /// A native manifest's dataset version and its labels in index order, read from its first lines
    /// (the images after them are not read).
    static func labels(of path: String) throws -> (version: String, labels: [String]) {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        guard let version = try opening(reader)["dataset_version"]?.text else {
            throw PipelineError(.data, "\(path):1: the manifest has no dataset_version")
        }
        var labels: [String] = []
        while let line = try reader.next(), line != Array("],\"images\":[".utf8) {
            let object = line.last == UInt8(ascii: ",") ? Array(line.dropLast()) : line
            guard let label = (try? JSONValue.parse(utf8: object))?["label"]?.text else {
                throw PipelineError(.data, "\(path):\(reader.lineNumber): a label line without 'label'")
            }
            labels.append(label)
        }
        return (version, labels)
    }
}
