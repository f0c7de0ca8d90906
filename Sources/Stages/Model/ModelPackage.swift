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
    func manifest(digests: [String: FileDigest]) throws -> [UInt8] {
        let files = model.files.compactMap { digests[$0] }.map { digest -> JSONValue in
            .object([("path", .string(digest.path)), ("sha256", .string(digest.sha256)), ("bytes", .number(String(digest.bytes)))])
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
    /// it was. Files sorting before `package.json` are hashed as they go into the archive, the others
    /// first, so each file is read once or twice, never more; the package is hashed as it is written.
    func write(to folder: String, mtime: Int64, owner: String) throws -> FileDigest {
        let fileName = "\(name)-\(version).\(format.rawValue)"
        let target = "\(folder)/\(fileName)"
        var digests: [String: FileDigest] = [:]
        for file in model.files where file > Self.manifestName {
            let path = "\(model.folder)/\(file)"
            digests[file] = FileDigest(path: file, sha256: try SHA256Digest.ofFile(path), bytes: try FileSupport.size(of: path))
        }
        let digest: FileDigest
        do {
            digest = try AtomicOutputFile.writeIfChanged(path: target, owner: owner) { output in
                let writer = try ArchiveWriter(output: output, format: format, mtime: mtime)
                for entry in (model.files + [Self.manifestName]).sorted() {
                    if entry == Self.manifestName {
                        let packageJSON = try manifest(digests: digests)
                        try writer.add(entry, size: Int64(packageJSON.count)) { consume in try packageJSON.withUnsafeBytes { try consume($0) } }
                        continue
                    }
                    let path = "\(model.folder)/\(entry)"
                    let hashing = digests[entry] == nil ? try BackgroundDigest() : nil
                    let size = try FileSupport.size(of: path)
                    try writer.add(entry, size: size) { consume in
                        let input = try InputFile(path: path)
                        defer { input.close() }
                        repeat {
                            let bytes = input.available
                            hashing?.update(bytes)
                            try consume(bytes)
                            input.consume(bytes.count)
                        } while try input.fillMore()
                    }
                    if let hashing { digests[entry] = FileDigest(path: entry, sha256: try hashing.finish(), bytes: size) }
                }
                try writer.close()
            }.digest
        } catch let error as ArchiveError {
            throw error.pipelineError
        }
        _ = try AtomicOutputFile.writeIfChanged(path: "\(target).sha256", owner: owner) { checksum in
            try checksum.write("\(digest.sha256)  \(fileName)\n")
        }
        return digest
    }
}
