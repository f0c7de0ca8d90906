import Foundation
import Pipelines

/// The manifests ML providers import, each exactly in the shape the provider documents.
enum ProviderManifests {
    /// Hugging Face `imagefolder`: `metadata.jsonl` in each split folder, `file_name` relative to it, with
    /// the label (its class name) and product columns. A split without images has none (a stale one goes).
    static func huggingFace(_ target: ManifestTarget) throws -> [FileDigest] {
        try perSplit(target, path: { "\(target.dataset.root)/\($0)/metadata.jsonl" }) { split, output in
            try target.dataset.each(
                """
                SELECT i.path, i.label, i.product_id, p.name, i.sku, i.sha256, i.width, i.height
                FROM images i LEFT JOIN products p ON p.id = i.product_id WHERE i.split = $1 ORDER BY i.path
                """, [.text(split)]
            ) { row in
                let path = row.string(0) ?? ""
                try output.writeLine(
                    .object([
                        ("file_name", .string(String(path.dropFirst(split.count + 1)))), ("label", .text(row.string(1))),
                        ("product_id", .integer(row.int64(2))), ("product_name", .text(row.string(3))),
                        ("sku", .text(row.string(4))), ("sha256", .text(row.string(5))), ("width", .integer(row.int64(6))),
                        ("height", .integer(row.int64(7))),
                    ]))
            }
        }
    }

    /// One file per split that has images, written by `body`; the file of a split without images goes.
    private static func perSplit(
        _ target: ManifestTarget, path: (String) -> String, _ body: (String, OutputFile) throws -> Void
    ) throws -> [FileDigest] {
        var files: [FileDigest] = []
        for split in DatasetFolder.splits {
            guard try target.dataset.imageCount(in: split) > 0 else {
                try FilePlacement.remove(path(split))
                continue
            }
            files.append(try target.write(path(split)) { try body(split, $0) })
        }
        return files
    }

    /// SageMaker Ground Truth image classification output: one JSON line per image with `source-ref`, the
    /// class index under the attribute `class`, and `class-metadata`; one file per split.
    static func sageMaker(_ target: ManifestTarget) throws -> [FileDigest] {
        try perSplit(target, path: { "\(target.out)/sagemaker/\($0).manifest" }) { split, output in
            try target.dataset.each(
                """
                SELECT i.path, l.idx, l.folder FROM images i JOIN labels l ON l.folder = i.label
                WHERE i.split = $1 ORDER BY i.path
                """, [.text(split)]
            ) { row in
                var metadata: [(String, JSONValue)] = [
                    ("class-name", .text(row.string(2))), ("confidence", .number("1")), ("type", .string("groundtruth/image-classification")),
                    ("job-name", .string("labeling-job/pipeline")), ("human-annotated", .string("yes")),
                ]
                if let createdAt = target.createdAt { metadata.append(("creation-date", .string(sageMakerTime(createdAt)))) }
                try output.writeLine(
                    .object([
                        ("source-ref", .string(target.uri(row.string(0) ?? ""))), ("class", .integer(row.int64(1))),
                        ("class-metadata", .object(metadata)),
                    ]))
            }
        }
    }

    /// Ground Truth's times: `2026-12-06T00:00:00.000000`, UTC without a zone.
    static func sageMakerTime(_ date: Date) -> String {
        String(ManifestTarget.isoText(date).dropLast()) + ".000000"
    }

    static let vertexUse = ["train": "training", "validation": "validation", "test": "test"]

    /// Vertex AI single-label image classification import file, JSON Lines.
    static func vertexJSONL(_ target: ManifestTarget) throws -> [FileDigest] {
        [
            try target.write("\(target.out)/vertex/import.jsonl") { output in
                try eachVertexImage(target) { uri, name, use in
                    try output.writeLine(
                        .object([
                            ("imageGcsUri", .string(uri)), ("classificationAnnotation", .object([("displayName", .string(name))])),
                            ("dataItemResourceLabels", .object([("aiplatform.googleapis.com/ml_use", .string(use))])),
                        ]))
                }
            }
        ]
    }

    /// Vertex AI's CSV form: `ML_USE,GCS_FILE_PATH,LABEL`, no header.
    static func vertexCSV(_ target: ManifestTarget) throws -> [FileDigest] {
        [
            try target.write("\(target.out)/vertex/import.csv") { output in
                let writer = CSVWriter(output: output)
                try eachVertexImage(target) { uri, name, use in try writer.writeRow([use, uri, name]) }
            }
        ]
    }

    private static func eachVertexImage(_ target: ManifestTarget, _ body: (String, String, String) throws -> Void) throws {
        try target.dataset.each(
            "SELECT i.path, l.vertex_name, i.split FROM images i JOIN labels l ON l.folder = i.label ORDER BY i.path"
        ) { row in
            try body(target.uri(row.string(0) ?? ""), row.string(1) ?? "", vertexUse[row.string(2) ?? ""] ?? "training")
        }
    }

    /// The manifest Dukarun's ML training endpoints hand out: channelId, version, extractedAt, and per
    /// product its id, name and images (assetId, url, filename).
    static func dukarun(_ target: ManifestTarget) throws -> [FileDigest] {
        [
            try target.write("\(target.out)/dukarun.json") { output in
                var opening = JSONValue.object([
                    ("channelId", .text(target.channel)), ("version", .string(target.dataset.version)),
                    ("extractedAt", target.createdAt.map { .string(ManifestTarget.isoText($0)) } ?? .null),
                ]).serialized
                opening.removeLast()
                try output.write(opening + ",\"products\":[\n")
                var currentProduct: Int64?
                var productName = ""
                var images: [JSONValue] = []
                var first = true
                func flush() throws {
                    guard let product = currentProduct else { return }
                    let entry = JSONValue.object([
                        ("productId", .string(String(product))), ("productName", .string(productName)), ("images", .array(images)),
                    ])
                    try output.write((first ? "" : ",\n") + entry.serialized)
                    first = false
                }
                try target.dataset.each(
                    """
                    SELECT i.product_id, p.name, i.asset_id, i.path FROM images i LEFT JOIN products p ON p.id = i.product_id
                    ORDER BY i.product_id, i.path
                    """
                ) { row in
                    let product = row.int64(0) ?? 0
                    if product != currentProduct {
                        try flush()
                        currentProduct = product
                        productName = row.string(1) ?? ""
                        images = []
                    }
                    let path = row.string(3) ?? ""
                    images.append(
                        .object([
                            ("assetId", .string(String(row.int64(2) ?? 0))), ("url", .string(target.uri(path))),
                            ("filename", .string(String(path.split(separator: "/").last ?? ""))),
                        ]))
                }
                try flush()
                try output.write("\n]}\n")
            }
        ]
    }
}
