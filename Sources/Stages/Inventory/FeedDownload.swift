import Foundation
import Pipelines

/// Reads a feed over HTTP page by page: each response kept as a raw page file, then parsed; the next page
/// found as `pagination` says. Credentials come from the environment and never reach a message or a
/// record: failures name the peer only, and the recorded source drops the query.
struct FeedDownload {
    var config: InventoryFetch.Config
    var format: FeedFormat
    var parser: FeedParser
    var folder: FeedFolder
    var context: StageContext

    func read(_ start: String, into writer: FeedRecordsFile.Writer) throws -> FeedRead {
        let fetch = HTTPFetch(
            headers: try HTTPFetch.headers(fromEnvironment: config.headersFromEnv) + ["User-Agent: pipeline", "Accept: \(accept)"], timeout: config.timeout, retries: config.retries,
            maxBytes: Int(config.maxPageBytes.bytes))
        var read = FeedRead(source: Transfer.peer(of: start) + (URLComponents(string: start)?.path ?? ""))
        let digest = try SHA256Digest()
        var (url, pageNumber) = config.pagination?.firstPage(of: start) ?? (start, 1)
        var seen: Set<String> = []
        var pageIndex = 0
        while true {
            pageIndex += 1
            guard pageIndex <= config.maxPages else {
                throw PipelineError(.data, "\(read.source): more than max_pages (\(config.maxPages)) pages; raise max_pages if the feed is that long")
            }
            guard seen.insert(url).inserted else {
                throw PipelineError(.data, "\(read.source): page \(pageIndex) links back to a page already read; the feed's pagination loops")
            }
            let response = try get(url, page: pageIndex, fetch: fetch)
            let name = folder.pageName(pageIndex, format: format)
            let path = folder.pagePath(pageIndex, format: format)
            try response.body.withUnsafeBytes { bytes in
                digest.update(bytes)
                try FilePlacement.write(bytes, to: path)
            }
            let pageSHA = try response.body.withUnsafeBytes { try SHA256.hex(ofBytes: $0) }
            read.pages.append((name, pageSHA, Int64(response.body.count)))
            read.bytes += Int64(response.body.count)
            if pageIndex == 1, let modified = response.headers["last-modified"] { read.lastModified = Self.httpDate(modified) }
            let prefix = config.pagination == nil ? "" : "page \(pageIndex), "
            let page = try parser.parse(path, name: "\(read.source) page \(pageIndex)", pagePrefix: prefix, into: writer)
            if pageIndex == 1 { read.firstDocument = page.document }
            context.progress(unit: "pages", count: Int64(pageIndex), done: Int64(pageIndex), total: nil)
            guard let pagination = config.pagination,
                let next = try pagination.next(after: url, page: pageNumber, response: response, document: page.document, records: Int(page.records))
            else { break }
            try context.checkpoints.stopIfRequested()
            url = next
            pageNumber += 1
        }
        read.sha256 = try digest.finish()
        return read
    }

    private var accept: String {
        switch format {
        case .csv: "text/csv, */*"
        case .json: "application/json"
        case .jsonl: "application/x-ndjson, application/jsonl, */*"
        }
    }

    private func get(_ url: String, page: Int, fetch: HTTPFetch) throws -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try fetch.get(url, stop: { [checkpoints = context.checkpoints] in checkpoints.isStopRequested })
        } catch {
            try context.checkpoints.stopIfRequested()
            if error.code == .tooLarge {
                throw PipelineError(.data, "\(Transfer.peer(of: url)): page \(page) is larger than max_page_bytes (\(config.maxPageBytes.parameterDisplay))")
            }
            throw PipelineError(.io, "cannot fetch page \(page) of the feed: \(error.message)", isTransient: error.isRetryable)
        }
        guard response.isSuccess else {
            let code: PipelineError.Code = response.status == 401 || response.status == 403 ? .config : .io
            let hint = code == .config ? " (are the credentials in headers_from_env right?)" : ""
            throw PipelineError(code, "\(Transfer.peer(of: url)) answered HTTP \(response.status) for page \(page) of the feed\(hint)")
        }
        return response
    }

    /// An HTTP date (`Sun, 06 Dec 2026 02:00:00 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
