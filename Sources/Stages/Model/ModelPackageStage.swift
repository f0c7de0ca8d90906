import Foundation
import Pipelines

/// `model.package`: checks what an ML provider returned (a TensorFlow.js / Teachable Machine export)
/// and writes a reproducible package of it. A model whose weights do not match their manifest, whose
/// shards are missing, unlisted or out of order, or whose labels are not the dataset's is refused (65).
public enum ModelPackageStage: StageKind {
    public struct Config: Sendable {
        var model: FilePath
        var datasetManifest: FilePath?
        var out: FilePath
        var name: String
        var version: String
        var format: PackageFormat
        var mtime: DateTime?
    }

    public static let name = "model.package"
    public static let summary = "Check a TensorFlow.js / Teachable Machine model against its manifest and dataset, and write a reproducible package"

    static let model = Parameter<FilePath>.required("model", doc: "the folder holding model.json, its weight shards and metadata.json")
    static let datasetManifest = Parameter<FilePath?>.optional(
        "dataset_manifest", doc: "the manifest.json of the dataset the model was trained on: its labels must be the model's, in order")
    static let out = Parameter<FilePath>.required("out", doc: "the folder the package and its .sha256 go to")
    static let packageName = Parameter<String>.required("name", doc: "the package's name (letters, digits, . _ -)").checked("a safe name") {
        PackageName.problem($0)
    }
    static let version = Parameter<String>.required("version", doc: "the package's version (letters, digits, . _ -)").checked("a safe name") {
        PackageName.problem($0)
    }
    static let format = Parameter<PackageFormat>.optional("format", default: .tarGzip, doc: "the archive format")
    static let mtime = Parameter<DateTime?>.optional(
        "mtime", doc: "the time every entry carries; default SOURCE_DATE_EPOCH, else the newest input file's")

    public static let parameters = ParameterSet(model, datasetManifest, out, packageName, version, format, mtime) {
        model, datasetManifest, out, name, version, format, mtime in
        Config(model: model, datasetManifest: datasetManifest, out: out, name: name, version: version, format: format, mtime: mtime)
    }

    static let files = Counter("files", unit: "files", doc: "files packaged, package.json included")
    static let bytes = Counter("bytes", unit: "bytes", doc: "the package's size")
    public static let counters = [files, bytes]

    static let packageOutput = Output<FileDigest>("package", doc: "the package, with its SHA-256 and size")
    public static let outputs = [packageOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["model \(config.model.path)"] + (config.datasetManifest.map { ["dataset manifest \($0.path)"] } ?? []),
            writes: ["package \(config.out.path)/\(config.name)-\(config.version).\(config.format.rawValue) and its .sha256"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let model = try TFJSModel.load(config.model.path)
        let unlisted = try model.unlistedFiles()
        guard unlisted.isEmpty else {
            throw PipelineError(
                .data, "\(config.model.path) holds files the weights manifest does not list: \(unlisted.prefix(10).joined(separator: ", "))")
        }
        var dataset: ModelPackage.DatasetReference?
        if let manifest = config.datasetManifest {
            let (datasetVersion, labels) = try NativeManifest.labels(of: manifest.path)
            try PackageLabels.requireSame(model: model.labels, dataset: labels, manifest: manifest.path)
            dataset = ModelPackage.DatasetReference(manifestSHA256: try SHA256Digest.ofFile(manifest.path), version: datasetVersion)
        }
        let mtime = try entryTime(config, inputs: model.files.map { "\(config.model.path)/\($0)" })
        let package = ModelPackage(model: model, name: config.name, version: config.version, format: config.format.archive, dataset: dataset)
        let digest = try package.write(to: config.out.path, mtime: mtime, owner: context.checkpoints.key)
        context.logger.info(
            "model.packaged", "\(digest.path): \(model.files.count + 1) files, \(digest.bytes) bytes, sha256 \(digest.sha256.prefix(12))")
        return StageOutcome(counts: [files: Int64(model.files.count + 1), bytes: digest.bytes], outputs: [packageOutput.value(digest)])
    }

    /// `mtime`, else `SOURCE_DATE_EPOCH`, else the newest input file's modification time.
    static func entryTime(_ config: Config, inputs: [String]) throws -> Int64 {
        if let mtime = config.mtime { return Int64(mtime.date.timeIntervalSince1970) }
        if let seconds = try SourceDateEpoch.seconds() { return seconds }
        return try inputs.map(FilePlacement.modificationTime(of:)).max() ?? 0
    }
}

enum PackageFormat: String, ParameterChoice {
    case tarGzip = "tar.gz"
    case tarZstandard = "tar.zst"
    case zip

    var archive: ArchiveWriter.Format {
        switch self {
        case .tarGzip: .tarGzip
        case .tarZstandard: .tarZstandard
        case .zip: .zip
        }
    }
}

enum PackageName {
    /// Names and versions become file names: letters, digits, `.`, `_`, `-`, not starting with a dot.
    static func problem(_ text: String) -> String? {
        let safe = text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        return safe && !text.isEmpty && !text.hasPrefix(".") && text.count <= 100
            ? nil : "must be letters, digits, '.', '_' or '-' (not starting with '.'), found '\(text)'"
    }
}

enum PackageLabels {
    /// The model's labels must be the dataset's, in order: each missing, extra or moved label is named.
    static func requireSame(model: [String], dataset: [String], manifest: String) throws {
        guard model != dataset else { return }
        var problems: [String] = []
        let modelSet = Set(model)
        let datasetSet = Set(dataset)
        let missing = dataset.filter { !modelSet.contains($0) }
        let extra = model.filter { !datasetSet.contains($0) }
        if !missing.isEmpty { problems.append("missing from the model: \(missing.prefix(10).joined(separator: ", "))") }
        if !extra.isEmpty { problems.append("not in the dataset: \(extra.prefix(10).joined(separator: ", "))") }
        if missing.isEmpty && extra.isEmpty, let index = model.indices.first(where: { model[$0] != dataset[$0] }) {
            problems.append(
                "in another order: label \(index + 1) is '\(model[index])' in the model and '\(dataset[index])' in the dataset")
        }
        throw PipelineError(.data, "the model's labels are not those of \(manifest): " + problems.joined(separator: "; "))
    }
}
