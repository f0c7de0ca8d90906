import Foundation
import Pipelines

/// The manifests `manifest.write` can write.
enum ManifestFormat: String, ParameterChoice {
    case native
    case huggingface
    case sagemaker
    case vertexJSONL = "vertex-jsonl"
    case vertexCSV = "vertex-csv"
    case dukarun

    /// The scheme `uri_prefix` must have for the format, when it needs one.
    var uriScheme: String? {
        switch self {
        case .sagemaker: "s3://"
        case .vertexJSONL, .vertexCSV: "gs://"
        default: nil
        }
    }
}

/// What every format writer gets: the loaded dataset, where manifests go, and the settings.
final class ManifestTarget {
    let dataset: ManifestDataset
    /// The folder manifests are written in (the dataset folder unless `out` says otherwise).
    let out: String
    let uriPrefix: String?
    let channel: String?
    let createdAt: Date?
    /// The stage's checkpoint key: a later run removes the temporary files a killed one left.
    let owner: String
    /// Files whose bytes changed (the others were left untouched).
    private(set) var rewritten: Int64 = 0

    init(dataset: ManifestDataset, out: String, uriPrefix: String?, channel: String?, createdAt: Date?, owner: String) {
        self.owner = owner
        self.dataset = dataset
        self.out = out
        self.uriPrefix = uriPrefix
        self.channel = channel
        self.createdAt = createdAt
    }

    /// Where an image is for a provider: the URI prefix joined with its dataset path.
    func uri(_ path: String) -> String {
        guard let uriPrefix else { return path }
        return uriPrefix.hasSuffix("/") ? uriPrefix + path : uriPrefix + "/" + path
    }

    /// `2026-12-06T00:00:00Z`.
    static func isoText(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Writes a file through `body`, renamed into place, and only when its bytes change.
    func write(_ path: String, _ body: (OutputFile) throws -> Void) throws -> FileDigest {
        let (digest, replaced) = try AtomicOutputFile.writeIfChanged(path: path, owner: owner, body)
        if replaced { rewritten += 1 }
        return digest
    }
}

extension OutputFile {
    /// One JSON value and a line feed.
    func writeLine(_ value: JSONValue) throws { try write(value.serialized + "\n") }
}

extension JSONValue {
    static func integer(_ value: Int64?) -> JSONValue { value.map { .number(String($0)) } ?? .null }
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}
