import Foundation
import Pipelines

/// `model.publish`: verifies a package (as `pipeline model verify` does) and publishes it: into a
/// folder as `DIR/<name>/<version>/` with `DIR/<name>/current` switched to it by one rename and the last
/// `keep` versions kept, or to an HTTP endpoint as a multipart upload of the model's files. Each
/// publication is recorded in the pipeline's database (`model_publications`). The same version again
/// with the same content does nothing; with other content it is refused.
public enum ModelPublish: StageKind {
    public struct Config: Sendable {
        var package: FilePath
        var to: PublishTarget
        var keep: Int
        var headersFromEnv: ParameterMap<String>?
        var timeout: Duration
        var retries: Int
    }

    public static let name = "model.publish"
    public static let summary = "Verify a model package and publish it to a folder (versions, an atomic current) or an HTTP endpoint"

    static let package = Parameter<FilePath>.required("package", doc: "the package model.package wrote")
    static let to = Parameter<PublishTarget>.required("to", doc: "a folder, or an http(s) URL taking a multipart upload")
    static let keep = Parameter<Int>.optional("keep", default: 5, doc: "versions kept in a folder (the current one always)").within(1...1000)
    static let headersFromEnv = Parameter<ParameterMap<String>?>.optional(
        "headers_from_env", doc: "HTTP headers whose values come from environment variables, e.g. { Authorization: MODEL_TOKEN }")
    static let timeout = Parameter<Duration>.optional("upload_timeout", default: .seconds(120), doc: "per upload request")
    static let retries = Parameter<Int>.optional("upload_retries", default: 3, doc: "tries after the first on 429, 5xx and timeouts").within(0...20)

    public static let parameters = ParameterSet(package, to, keep, headersFromEnv, timeout, retries) {
        package, to, keep, headersFromEnv, timeout, retries in
        Config(package: package, to: to, keep: keep, headersFromEnv: headersFromEnv, timeout: timeout, retries: retries)
    }

    static let published = Counter("published", unit: "versions", doc: "versions published now (0 when it already was)")
    static let removed = Counter("removed", unit: "versions", doc: "old versions removed beyond keep")
    public static let counters = [published, removed]

    static let versionOutput = Output<JSONValue>("version", doc: "the published version")
    public static let outputs = [versionOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["package \(config.package.path)"],
            writes: ["\(config.to.parameterDisplay)", "model_publications in \(workspace.database)"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let checked = try CheckedPackage(config.package.path)
        defer { checked.remove() }
        let database = try context.database()
        let records = ModelPublications(database: database)
        let target = config.to.recordedName
        if let existing = try records.find(target: target, name: checked.name, version: checked.version) {
            guard existing.sha256 == checked.sha256 else {
                throw PipelineError(
                    .data,
                    "\(checked.name) \(checked.version) is already published to \(target) with sha256 \(existing.sha256), not this package's \(checked.sha256); publish it as a new version")
            }
            if existing.status == ModelPublications.published {
                context.logger.info("model.unchanged", "\(checked.name) \(checked.version) is already published to \(target)")
                return StageOutcome(counts: [published: 0, removed: 0], outputs: [versionOutput.value(.string(checked.version))])
            }
        }
        var removedCount: Int64 = 0
        switch config.to {
        case .folder(let folder):
            let publisher = FolderPublisher(root: folder.path, package: checked, records: records, target: target)
            try publisher.publish()
            removedCount = try publisher.prune(keep: config.keep, logger: context.logger)
        case .url(let url):
            let headers = try HTTPFetch.headers(fromEnvironment: config.headersFromEnv)
            try upload(checked, to: url.text, headers: headers, config: config, context: context)
            try records.record(target: target, package: checked, path: target, status: ModelPublications.published)
        }
        context.logger.info("model.published", "published \(checked.name) \(checked.version) to \(target)")
        return StageOutcome(counts: [published: 1, removed: removedCount], outputs: [versionOutput.value(.string(checked.version))])
    }

    /// The three kinds of file Dukarun's model upload takes: `model` (model.json), `metadata`
    /// (metadata.json) and one `weights` part per shard.
    static func upload(_ checked: CheckedPackage, to url: String, headers: [String], config: Config, context: StageContext) throws {
        let files = checked.files.filter { $0 != ModelPackage.manifestName }.map { file in
            let field = file == "model.json" ? "model" : file == "metadata.json" ? "metadata" : "weights"
            let type = file.hasSuffix(".json") ? "application/json" : "application/octet-stream"
            return Transfer.FormFile(field: field, path: "\(checked.folder)/\(file)", fileName: file, contentType: type)
        }
        let fetch = HTTPFetch(headers: headers + ["User-Agent: pipeline"], timeout: config.timeout, retries: config.retries, maxBytes: 1 << 16)
        let response: HTTPResponse
        do {
            response = try fetch.postForm(url, files: files, stop: { [checkpoints = context.checkpoints] in checkpoints.isStopRequested })
        } catch {
            try context.checkpoints.stopIfRequested()
            throw PipelineError(.io, "cannot upload \(checked.name) \(checked.version): \(error.message)", isTransient: error.isRetryable)
        }
        guard response.isSuccess else {
            throw PipelineError(.io, "\(Transfer.peer(of: url)) refused the upload of \(checked.name) \(checked.version): HTTP \(response.status)")
        }
    }
}

/// Where `model.publish` publishes: a folder, or an http(s) URL.
enum PublishTarget: ParameterValue {
    case folder(FilePath)
    case url(WebURL)

    static var typeName: String { "folder or URL" }
    static var typeDescription: String { "a folder path, or an http(s) URL" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> PublishTarget {
        let text = try node.scalar(expecting: "a folder or a URL").text.lowercased()
        if text.hasPrefix("http://") || text.hasPrefix("https://") { return .url(try WebURL.decode(node, in: context)) }
        return .folder(try FilePath.decode(node, in: context))
    }

    var parameterDisplay: String {
        switch self {
        case .folder(let path): path.parameterDisplay
        case .url(let url): url.parameterDisplay
        }
    }

    /// How publications to it are recorded: the folder, or the URL's scheme, host, port and path (never
    /// its query, which may hold a token).
    var recordedName: String {
        switch self {
        case .folder(let path): path.path
        case .url(let url): Transfer.peer(of: url.text) + (URLComponents(string: url.text)?.path ?? "")
        }
    }
}
