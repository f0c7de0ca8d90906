import Foundation
import Pipelines

/// `manifest.write`: writes the manifests ML providers import for a dataset `photos.extract` made.
/// Sorted and without wall-clock times (unless `created_at` or `SOURCE_DATE_EPOCH` gives one), so the
/// same dataset always gives the same bytes; a manifest whose bytes did not change is not rewritten.
public enum ManifestWrite: StageKind {
    public struct Config: Sendable {
        var dataset: FilePath
        var formats: [ManifestFormat]
        var out: FilePath?
        var uriPrefix: String?
        var channel: String?
        var createdAt: DateTime?
    }

    public static let name = "manifest.write"
    public static let summary = "Write an image dataset's manifests for ML providers (native, Hugging Face, SageMaker, Vertex AI, Dukarun)"

    static let dataset = Parameter<FilePath>.required("dataset", doc: "the dataset folder photos.extract wrote")
    static let formats = Parameter<[ManifestFormat]>.optional(
        "formats", default: [.native], doc: "the manifests to write"
    ).checked("not empty") { $0.isEmpty ? "give at least one format" : nil }
    static let out = Parameter<FilePath?>.optional(
        "out", doc: "the folder for the manifests; default the dataset folder (huggingface's metadata.jsonl always goes in the split folders)")
    static let uriPrefix = Parameter<String?>.optional(
        "uri_prefix", doc: "where the dataset is uploaded, e.g. s3://bucket/ds/ (sagemaker) or gs://bucket/ds/ (vertex)")
    static let channel = Parameter<String?>.optional("channel", doc: "the channel id the dukarun manifest names")
    static let createdAt = Parameter<DateTime?>.optional(
        "created_at", doc: "the time manifests record; default SOURCE_DATE_EPOCH, else none")

    public static let parameters = ParameterSet(dataset, formats, out, uriPrefix, channel, createdAt) {
        dataset, formats, out, uriPrefix, channel, createdAt in
        Config(dataset: dataset, formats: formats, out: out, uriPrefix: uriPrefix, channel: channel, createdAt: createdAt)
    }

    static let images = Counter("images", unit: "images", doc: "images listed")
    static let labels = Counter("labels", unit: "labels", doc: "labels listed")
    static let files = Counter("files", unit: "files", doc: "manifest files written or confirmed")
    static let rewritten = Counter("rewritten", unit: "files", doc: "manifest files whose bytes changed")
    public static let counters = [images, labels, files, rewritten]

    static let manifestOutput = Output<FilePath>("manifest", doc: "the native manifest (manifest.json), when written")
    static let versionOutput = Output<JSONValue>("dataset_version", doc: "the dataset version: SHA-256 of its paths and contents")
    public static let outputs = [manifestOutput.declaration, versionOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for format in Set(config.formats) {
            guard let scheme = format.uriScheme else { continue }
            guard let prefix = config.uriPrefix else {
                issues.append(ConfigIssue("the \(format.rawValue) manifest needs uri_prefix (\(scheme)BUCKET/PATH/)", parameter: "formats"))
                continue
            }
            if !prefix.lowercased().hasPrefix(scheme) {
                issues.append(
                    ConfigIssue(
                        "the \(format.rawValue) manifest needs a \(scheme) uri_prefix, found '\(prefix)'; write each provider's manifests in a stage of its own",
                        parameter: "uri_prefix"))
            }
        }
        if config.formats.contains(.dukarun), config.channel?.isEmpty ?? true {
            issues.append(ConfigIssue("the dukarun manifest needs channel (the channel id)", parameter: "formats"))
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["dataset index \(DatasetFolder(root: config.dataset.path).indexPath)"],
            writes: config.formats.map { "\($0.rawValue) manifest in \((config.out ?? config.dataset).path)" })
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let loaded = try ManifestDataset(root: config.dataset.path, logger: context.logger)
        defer { loaded.close() }
        let target = ManifestTarget(
            dataset: loaded, out: (config.out ?? config.dataset).path, uriPrefix: config.uriPrefix, channel: config.channel,
            createdAt: try createdAt(config), owner: context.checkpoints.key)
        var written: [FileDigest] = []
        for format in ManifestFormat.allCases where config.formats.contains(format) {
            try context.checkpoints.stopIfRequested()
            switch format {
            case .native: written.append(try NativeManifest.write(target))
            case .huggingface: written += try ProviderManifests.huggingFace(target)
            case .sagemaker: written += try ProviderManifests.sageMaker(target)
            case .vertexJSONL: written += try ProviderManifests.vertexJSONL(target)
            case .vertexCSV: written += try ProviderManifests.vertexCSV(target)
            case .dukarun: written += try ProviderManifests.dukarun(target)
            }
        }
        context.logger.info(
            "manifest.done", "\(written.count) manifest file(s) for \(loaded.imageCount) images under \(loaded.labelCount) labels, dataset version \(loaded.version.prefix(12))")
        var outputs = [versionOutput.value(.string(loaded.version))]
        if config.formats.contains(.native) { outputs.append(manifestOutput.value(FilePath("\(target.out)/\(NativeManifest.fileName)"))) }
        return StageOutcome(
            counts: [images: loaded.imageCount, labels: loaded.labelCount, files: Int64(written.count), rewritten: target.rewritten],
            outputs: outputs)
    }

    /// `created_at`, else `SOURCE_DATE_EPOCH` (seconds since 1970), else none.
    static func createdAt(_ config: Config) throws -> Date? {
        if let createdAt = config.createdAt { return createdAt.date }
        guard let seconds = try SourceDateEpoch.seconds() else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
