import Foundation
import Pipelines

/// `inventory.fetch`: reads a warehouse's stock feed from a file or over HTTP (pages, retries, credentials
/// from the environment), keeps the raw bytes with their SHA-256 in the run's folder, and writes the
/// records that pass their checks (and the rejects, with their place) for `inventory.reconcile`.
public enum InventoryFetch: StageKind {
    public struct Config: Sendable {
        var file: FilePath?
        var url: WebURL?
        var format: FeedFormat?
        var records: String
        var columns: FeedColumns
        var pagination: FeedPagination?
        var headersFromEnv: ParameterMap<String>?
        var timeout: Duration
        var retries: Int
        var maxPageBytes: ByteCount
        var maxPages: Int
        var timestamp: String?
    }

    public static let name = "inventory.fetch"
    public static let summary = "Fetch a warehouse's stock feed (file or HTTP, paged), keep its raw bytes and checked records"

    static let file = Parameter<FilePath?>.optional("file", doc: "the feed as a file (or give url)")
    static let url = Parameter<WebURL?>.optional("url", doc: "the feed's URL (or give file)")
    static let format = Parameter<FeedFormat?>.optional("format", doc: "csv, json or jsonl; default from the name's extension, else csv")
    static let records = Parameter<String>.optional(
        "records", default: "$", doc: "JSON: where the records are in each document, e.g. $.data or $.Items[*]"
    ).checked("$ or $.name... ") { FeedJSON.steps(ofPath: $0) == nil ? "expected a path such as $, $.data or $.result.items[*]" : nil }
    static let columns = Parameter<FeedColumns>.optional(
        "columns", default: FeedColumns.plain, doc: "veracore, shipstation, shipbob, or { sku, on_hand, available, reserved, location } field names")
    static let pagination = Parameter<FeedPagination?>.optional(
        "pagination", doc: "HTTP: how the next page is found: { next: link-header | field:NAME | page-param:NAME }")
    static let headersFromEnv = Parameter<ParameterMap<String>?>.optional(
        "headers_from_env", doc: "HTTP headers whose values come from environment variables, e.g. { Authorization: VERACORE_TOKEN }")
    static let timeout = Parameter<Duration>.optional("timeout", default: .seconds(30), doc: "per HTTP request")
    static let retries = Parameter<Int>.optional("retries", default: 5, doc: "tries after the first on 429, 5xx, timeouts and broken connections").within(0...20)
    static let maxPageBytes = Parameter<ByteCount>.optional(
        "max_page_bytes", default: ByteCount(16 << 20), doc: "the largest HTTP page, or JSON file, accepted (a JSON document is parsed whole; large feeds stream as CSV or JSON Lines)"
    ).within(ByteCount(1024)...ByteCount(1 << 30))
    static let maxPages = Parameter<Int>.optional("max_pages", default: 10_000, doc: "the most pages followed").within(1...1_000_000)
    static let timestamp = Parameter<String?>.optional(
        "timestamp", doc: "JSON: the member of the (first) document holding the feed's time, e.g. GeneratedAt")

    public static let parameters = ParameterSet(
        file, url, format, records, columns, pagination, headersFromEnv, timeout, retries, maxPageBytes, maxPages, timestamp
    ) { file, url, format, records, columns, pagination, headersFromEnv, timeout, retries, maxPageBytes, maxPages, timestamp in
        Config(
            file: file, url: url, format: format, records: records, columns: columns, pagination: pagination,
            headersFromEnv: headersFromEnv, timeout: timeout, retries: retries, maxPageBytes: maxPageBytes, maxPages: maxPages,
            timestamp: timestamp)
    }

    static let pages = Counter("pages", unit: "pages", doc: "pages (or files) read")
    static let kept = Counter("records", unit: "records", doc: "records that passed their checks")
    static let rejected = Counter("rejected", unit: "records", doc: "records refused (see the rejects file)")
    static let derived = Counter("derived", unit: "records", doc: "records whose available or on hand was derived")
    public static let counters = [pages, kept, rejected, derived]

    static let recordsOutput = Output<FileDigest>("records", doc: "the checked records (CSV) with their SHA-256")
    static let feedOutput = Output<JSONValue>(
        "feed", doc: "the feed's provenance: sha256 of its raw bytes, time and its source, fetch time, counts, and where feed.json is")
    public static let outputs = [recordsOutput.declaration, feedOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if (config.file == nil) == (config.url == nil) {
            issues.append(ConfigIssue("give either file or url"))
        }
        if config.pagination != nil, config.url == nil {
            issues.append(ConfigIssue("pagination only applies to a url", parameter: "pagination"))
        }
        let format = config.format ?? FeedFormat.guess(from: config.file?.path ?? config.url?.text ?? "")
        if case .field = config.pagination, format != .json {
            issues.append(ConfigIssue("next: field:NAME needs format: json", parameter: "pagination"))
        }
        if config.timestamp != nil, format != .json {
            issues.append(ConfigIssue("timestamp is a member of a JSON document; it needs format: json", parameter: "timestamp"))
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        let source = config.file.map { "feed \($0.path)" } ?? "feed \(config.url?.parameterDisplay ?? "")"
        return StageEffects(reads: [source], writes: ["raw feed, records and rejects in \(workspace.workDirectory)/<stage id>/<run key>/"])
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let folder = FeedFolder(workDirectory: context.workspace.workDirectory, stage: context.stageID, key: context.checkpoints.key)
        try folder.prepare()
        let format = config.format ?? FeedFormat.guess(from: config.file?.path ?? config.url?.text ?? "")
        let parser = FeedParser(
            format: format, columns: config.columns, recordSteps: FeedJSON.steps(ofPath: config.records) ?? [],
            maximumPageBytes: Int(config.maxPageBytes.bytes))
        let writer = try FeedRecordsFile.Writer(recordsPath: folder.recordsPath, rejectsPath: folder.rejectsPath, owner: context.checkpoints.key)
        let fetchedAt = Date()
        let read: FeedRead
        do {
            if let file = config.file {
                read = try FeedRead.file(file.path, format: format, parser: parser, folder: folder, writer: writer)
            } else if let url = config.url {
                let download = FeedDownload(config: config, format: format, parser: parser, folder: folder, context: context)
                read = try download.read(url.text, into: writer)
            } else {
                throw PipelineError(.internal, "inventory.fetch without file or url")
            }
        } catch {
            writer.discard()
            throw error
        }
        let digest = try writer.finish()
        let time = feedTime(config: config, read: read, fetchedAt: fetchedAt, logger: context.logger)
        let derivedCount = writer.derived.values.reduce(0, +)
        // The output is small whatever the number of pages: the pages' list is in feed.json only.
        let members: [(String, JSONValue)] = [
            ("source", .string(read.source)),
            ("format", .string(format.rawValue)),
            ("sha256", .string(read.sha256)),
            ("bytes", .number(String(read.bytes))),
            ("fetched_at", .string(StateTime.text(fetchedAt))),
            ("feed_time", .string(StateTime.text(time.date))),
            ("feed_time_source", .string(time.source)),
            ("columns", .string(config.columns.parameterDisplay)),
            ("records", .number(String(writer.kept))),
            ("rejected", .number(String(writer.rejected))),
            ("derived_available", .number(String(writer.derived[.available] ?? 0))),
            ("derived_on_hand", .number(String(writer.derived[.onHand] ?? 0))),
        ]
        let pageList = JSONValue.array(
            read.pages.map { .object([("file", .string($0.file)), ("sha256", .string($0.sha256)), ("bytes", .number(String($0.bytes)))]) })
        let provenance = JSONValue.object(members + [("pages", pageList)])
        let summary = JSONValue.object(members + [("pages", .number(String(read.pages.count))), ("provenance", .string(folder.provenancePath))])
        try AtomicOutputFile.writeIfChanged(path: folder.provenancePath, owner: context.checkpoints.key) { try $0.write(provenance.serialized + "\n") }
        if writer.rejected > 0 {
            context.logger.warning("inventory.rejects", "\(writer.rejected) feed records refused; see \(folder.rejectsPath)")
        }
        if writer.derived[.available] ?? 0 > 0 {
            context.logger.info("inventory.derived", "available derived as on hand − reserved for \(writer.derived[.available] ?? 0) records")
        }
        context.logger.info(
            "inventory.fetched",
            "\(writer.kept) records from \(read.pages.count) page(s) of \(read.source), sha256 \(read.sha256.prefix(16))…, feed time \(StateTime.text(time.date)) (\(time.source))")
        return StageOutcome(
            counts: [pages: Int64(read.pages.count), kept: writer.kept, rejected: writer.rejected, derived: derivedCount],
            outputs: [recordsOutput.value(digest), feedOutput.value(summary)])
    }

    /// The feed's own time: the `timestamp` member, else the first page's `Last-Modified`, else the fetch time.
    static func feedTime(config: Config, read: FeedRead, fetchedAt: Date, logger: Logger) -> (date: Date, source: String) {
        if let name = config.timestamp {
            if let text = read.firstDocument.flatMap({ FeedJSON.text(name, of: $0) }), let time = DateTime(text) {
                return (time.date, "member \(name)")
            }
            logger.warning("inventory.no-timestamp", "the feed has no date-time in '\(name)'; taking the fetch time as its time")
        }
        if let modified = read.lastModified { return (modified, "Last-Modified") }
        return (fetchedAt, "fetch time")
    }
}
