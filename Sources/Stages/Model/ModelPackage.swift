import Foundation
import Pipelines

/// Writes a model package: the checked model's files plus `package.json`, entries sorted, every entry
/// mode 0644, owner 0:0 and one fixed time, so the same model gives the same bytes anywhere; then the
/// detached `PACKAGE.sha256` beside it (`sha256sum -c` reads it).
struct ModelPackage {
    static let manifestName = "package.json"

    var model: TFJSModel
    var name: String
    var version: String
    var format: ArchiveWriter.Format
    var dataset: DatasetReference?

    /// What the package says of the dataset the model was trained on.
    struct DatasetReference {
        var manifestSHA256: String
        var version: String
    }

    /// `package.json`: name, version, labels, image size, each file's SHA-256 and size, the dataset, the tool.
    func manifest() throws -> [UInt8] {
        var files: [JSONValue] = []
        for file in model.files {
            let path = "\(model.folder)/\(file)"
            files.append(
                .object([
                    ("path", .string(file)), ("sha256", .string(try SHA256Digest.ofFile(path))),
                    ("bytes", .number(String(try FileSupport.size(of: path)))),
                ]))
        }
        let value = JSONValue.object([
            ("name", .string(name)), ("version", .string(version)), ("labels", .array(model.labels.map(JSONValue.string))),
            ("image_size", model.imageSize.map { .number(String($0)) } ?? .null), ("files", .array(files)),
            (
                "dataset",
                dataset.map { .object([("manifest_sha256", .string($0.manifestSHA256)), ("version", .string($0.version))]) } ?? .null
            ),
            ("tool", .object([("name", .string("pipeline")), ("version", .string(ToolVersion.current))])),
        ])
        return Array((value.serialized + "\n").utf8)
    }

    /// Writes `out/NAME-VERSION.EXT` and its `.sha256`; a package whose bytes did not change is left as
    /// it was. Gives the package's digest.
    func write(to folder: String, mtime: Int64) throws -> FileDigest {
        try FilePlacement.createDirectories(folder)
        let fileName = "\(name)-\(version).\(format.rawValue)"
        let target = "\(folder)/\(fileName)"
        let temporary = FilePlacement.temporaryPath(for: target)
        do {
            let writer = try ArchiveWriter(path: temporary, format: format, mtime: mtime)
            let packageJSON = try manifest()
            var entries = model.files.map { ($0, "\(model.folder)/\($0)") }
            entries.append((Self.manifestName, ""))
            for (entry, path) in entries.sorted(by: { $0.0 < $1.0 }) {
                if path.isEmpty {
                    try writer.add(entry, size: Int64(packageJSON.count)) { consume in try packageJSON.withUnsafeBytes { try consume($0) } }
                } else {
                    try writer.add(entry, size: try FileSupport.size(of: path)) { consume in
                        let input = try InputFile(path: path)
                        defer { input.close() }
                        repeat {
                            let bytes = input.available
                            try consume(bytes)
                            input.consume(bytes.count)
                        } while try input.fillMore()
                    }
                }
            }
            try writer.close()
        } catch {
            try? FilePlacement.remove(temporary)
            throw (error as? ArchiveError)?.pipelineError ?? error
        }
        let sha256 = try SHA256Digest.ofFile(temporary)
        let bytes = try FileSupport.size(of: temporary)
        if (try? SHA256Digest.ofFile(target)) == sha256 {
            try FilePlacement.remove(temporary)
        } else {
            try FilePlacement.move(temporary, to: target)
        }
        let line = Array("\(sha256)  \(fileName)\n".utf8)
        let checksum = "\(target).sha256"
        if FileManager.default.contents(atPath: checksum).map(Array.init) != line {
            try line.withUnsafeBytes { try FilePlacement.write($0, to: checksum) }
        }
        FilePlacement.syncAll()
        return FileDigest(path: target, sha256: sha256, bytes: bytes)
    }
}
