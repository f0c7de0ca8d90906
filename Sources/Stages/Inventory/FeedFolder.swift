import Foundation
import Pipelines

/// Where `inventory.fetch` keeps one run's feed: `var/<stage>/<run key>/` with the raw pages
/// (`feed-00001.json`, ...), `feed.json` (sources, SHA-256, times, counts), `records.csv` and `rejects.csv`.
struct FeedFolder {
    let path: String

    init(workDirectory: String, stage: String, key: String) {
        path = "\(workDirectory)/\(stage)/\(key)"
    }

    var recordsPath: String { "\(path)/records.csv" }
    var rejectsPath: String { "\(path)/rejects.csv" }
    var provenancePath: String { "\(path)/feed.json" }

    func pagePath(_ number: Int, format: FeedFormat) -> String {
        "\(path)/" + pageName(number, format: format)
    }

    func pageName(_ number: Int, format: FeedFormat) -> String {
        "feed-" + String(String(number).reversed()).padding(toLength: 5, withPad: "0", startingAt: 0).reversed() + ".\(format.rawValue)"
    }

    /// Creates the folder and removes what an earlier, killed attempt left: raw pages and temporary files.
    func prepare() throws {
        try FilePlacement.createDirectories(path)
        for entry in try FilePlacement.entries(of: path) ?? [] where entry.name.hasPrefix("feed-") || FilePlacement.isTemporary(name: entry.name) {
            try FilePlacement.remove("\(path)/\(entry.name)")
        }
    }
}

/// What reading a feed gave: its raw pages as kept, their combined SHA-256, and its time where the source
/// tells one.
struct FeedRead {
    var source: String
    var pages: [(file: String, sha256: String, bytes: Int64)] = []
    /// SHA-256 of all raw bytes, page after page.
    var sha256 = ""
    var bytes: Int64 = 0
    var lastModified: Date?
    var firstDocument: JSONValue?

    /// Copies a feed file into the folder (hashing it), then reads the copy.
    static func file(_ path: String, format: FeedFormat, parser: FeedParser, folder: FeedFolder, writer: FeedRecordsFile.Writer) throws
        -> FeedRead
    {
        guard FileSupport.exists(path) else { throw PipelineError(.noInput, "the feed \(path) does not exist") }
        var read = FeedRead(source: path)
        let kept = folder.pagePath(1, format: format)
        let input = try InputFile(path: path)
        defer { input.close() }
        let output = try AtomicOutputFile(path: kept)
        do {
            try output.startDigest()
            repeat {
                try output.write(input.available)
                input.consume(input.available.count)
            } while try input.fillMore()
            let sha256 = try output.finishDigest() ?? ""
            try output.commit()
            read.pages = [(folder.pageName(1, format: format), sha256, output.bytesWritten)]
            read.sha256 = sha256
            read.bytes = output.bytesWritten
        } catch {
            output.discard()
            throw error
        }
        let page = try parser.parse(kept, name: path, pagePrefix: "", into: writer)
        read.firstDocument = page.document
        return read
    }
}
