import Pipelines

/// `pipeline manifest verify FILE`: re-hashes every image a native manifest lists and names each file
/// that is missing, changed, or in the dataset without being listed. Reads the manifest line by line (its
/// layout puts one image per line) and keeps the listed paths in a temporary database, so memory does
/// not grow with the dataset.
enum ManifestVerify {
    static let shownProblems = 100

    static func run(_ input: FamilyCommandInput) throws -> String {
        guard let path = input.arguments.first else { throw PipelineError(.usage, "usage: pipeline manifest verify FILE") }
        guard FileSupport.exists(path) else { throw PipelineError(.noInput, "no such file: \(path)") }
        let listed = try SQLiteConnection(path: "", logger: input.logger)
        defer { listed.close() }
        try listed.executeScript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; CREATE TABLE listed (path TEXT PRIMARY KEY)")

        let reader = try LineReader(path: path)
        defer { reader.close() }
        func malformed(_ why: String) -> PipelineError {
            PipelineError(.data, "\(path):\(reader.lineNumber): \(why); is this a manifest.json written by manifest.write?")
        }
        guard let datasetPath = try NativeManifest.opening(reader)["dataset"]?.text else {
            throw malformed("the manifest does not say where its dataset is")
        }
        let folder = FileSupport.parentDirectory(of: path)
        let root = datasetPath.hasPrefix("/") ? datasetPath : (datasetPath == "." ? folder : "\(folder)/\(datasetPath)")

        var problems: [String] = []
        var problemCount = 0
        func report(_ problem: String) {
            problemCount += 1
            if problems.count < shownProblems { problems.append(problem) }
        }
        var inImages = false
        var checked = 0
        while let line = try reader.next() {
            if line == Array("],\"images\":[".utf8) {
                inImages = true
                continue
            }
            if line.starts(with: Array("],\"counts\":".utf8)) { break }
            guard inImages else { continue }
            let object = line.last == UInt8(ascii: ",") ? Array(line.dropLast()) : line
            guard let image = try? JSONValue.parse(utf8: object), let imagePath = image["path"]?.text,
                let sha256 = image["sha256"]?.text, let bytes = image["bytes"]?.integer, !imagePath.hasPrefix("/"), !imagePath.split(separator: "/").contains("..")
            else { throw malformed("an image line without path, sha256 and bytes") }
            try listed.execute("INSERT INTO listed (path) VALUES ($1) ON CONFLICT (path) DO NOTHING", [.text(imagePath)])
            let file = "\(root)/\(imagePath)"
            guard FileSupport.exists(file) else {
                report("missing   \(imagePath)")
                continue
            }
            let actualBytes = try FileSupport.size(of: file)
            let actual = try SHA256Digest.ofFile(file)
            if actual != sha256 || actualBytes != bytes {
                report("changed   \(imagePath): \(actualBytes) bytes, sha256 \(actual); listed \(bytes) bytes, sha256 \(sha256)")
            }
            checked += 1
        }
        for split in DatasetFolder.splits {
            try walk("\(root)/\(split)", relative: split, topLevel: true) { relative in
                var found = false
                try listed.query("SELECT 1 FROM listed WHERE path = $1", [.text(relative)], columns: { _ in }) { _ in found = true }
                if !found { report("unlisted  \(relative)") }
            }
        }
        guard problemCount == 0 else {
            let more = problemCount > problems.count ? "\n… and \(problemCount - problems.count) more" : ""
            throw PipelineError(
                .data, "\(path): \(problemCount) problem(s) in \(root):\n" + problems.joined(separator: "\n") + more)
        }
        return "\(path): all \(checked) images match (dataset \(root))\n"
    }

    /// Every file under `directory` except the split's own `metadata.jsonl` (the Hugging Face manifest).
    private static func walk(_ directory: String, relative: String, topLevel: Bool, _ body: (String) throws -> Void) throws {
        for entry in try FilePlacement.entries(of: directory) ?? [] {
            if topLevel && entry.name == "metadata.jsonl" { continue }
            switch entry.kind {
            case .directory: try walk("\(directory)/\(entry.name)", relative: "\(relative)/\(entry.name)", topLevel: false, body)
            default: try body("\(relative)/\(entry.name)")
            }
        }
    }
}
