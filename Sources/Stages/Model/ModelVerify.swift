import Foundation
import Pipelines

/// `pipeline model verify PKG`: unpacks a package into a temporary folder of its own (refusing, by
/// name, any entry that is not a plain relative file, a duplicate, larger than its header, or a bomb),
/// re-checks every file against `package.json`, the weights against their manifest, and the package
/// against its `.sha256`. Nothing is written anywhere else, and the folder is removed in every case.
enum ModelVerify {
    static func run(_ input: FamilyCommandInput) throws -> String {
        guard let path = input.arguments.first else { throw PipelineError(.usage, "usage: pipeline model verify PKG") }
        let package = try CheckedPackage(path)
        defer { package.remove() }
        return "\(path): \(package.files.count) entries match \(ModelPackage.manifestName), the weights match their manifest, \(package.checksumNote)\n"
    }
}

/// A package unpacked into a temporary folder of its own and checked whole: every entry a plain
/// relative file (refused by name otherwise), every file matching `package.json`, the weights matching
/// their manifest, the package matching its `.sha256`. On any problem the folder is removed and a data
/// error (65) lists them; otherwise the caller uses the files and calls `remove()`.
struct CheckedPackage {
    let path: String
    let folder: String
    let name: String
    let version: String
    let sha256: String
    let datasetVersion: String?
    /// The package's files (package.json included), sorted.
    let files: [String]
    let checksumNote: String

    init(_ path: String) throws {
        guard FileSupport.exists(path) else { throw PipelineError(.noInput, "no such file: \(path)") }
        let folder = try Self.temporaryFolder()
        do {
            (name, version, datasetVersion, files, checksumNote) = try Self.unpackAndCheck(path, into: folder)
            sha256 = try SHA256Digest.ofFile(path)
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        self.path = path
        self.folder = folder
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    private static func unpackAndCheck(_ path: String, into folder: String) throws
        -> (String, String, String?, [String], String)
    {
        var entries: [String: (sha256: String, bytes: Int64)] = [:]
        do {
            try ArchiveReader(path: path).forEach { name, size, read in
                let output = try OutputFile(path: "\(folder)/\(name)")
                try output.startDigest()
                try read { try output.write($0) }
                guard output.bytesWritten == size else {
                    throw ArchiveError(.refused, "\(output.bytesWritten) bytes of data, its header says \(size)", archive: path, entry: name)
                }
                let digest = try output.finishDigest() ?? ""
                try output.close()
                entries[name] = (digest, size)
            }
        } catch let error as ArchiveError {
            throw error.pipelineError
        }
        guard entries[ModelPackage.manifestName] != nil else {
            throw PipelineError(.data, "\(path): there is no \(ModelPackage.manifestName); is this a package written by model.package?")
        }
        let manifest: JSONValue
        do {
            manifest = try JSONValue.parse(utf8: try FileSupport.readWholeFile("\(folder)/\(ModelPackage.manifestName)", limit: 16 << 20))
        } catch {
            throw PipelineError(.data, "\(path): \(ModelPackage.manifestName) is not JSON: \(error)")
        }
        var problems: [String] = []
        var listed: Set<String> = [ModelPackage.manifestName]
        for file in manifest["files"]?.items ?? [] {
            guard let name = file["path"]?.text, let sha256 = file["sha256"]?.text, let bytes = file["bytes"]?.integer else {
                throw PipelineError(.data, "\(path): a file of \(ModelPackage.manifestName) lacks path, sha256 or bytes")
            }
            listed.insert(name)
            guard let entry = entries[name] else {
                problems.append("entry '\(name)' is listed in \(ModelPackage.manifestName) but not in the package")
                continue
            }
            if entry.sha256 != sha256 || entry.bytes != bytes {
                problems.append("entry '\(name)' has \(entry.bytes) bytes, sha256 \(entry.sha256); \(ModelPackage.manifestName) says \(bytes), \(sha256)")
            }
        }
        for name in entries.keys.sorted() where !listed.contains(name) {
            problems.append("entry '\(name)' is not listed in \(ModelPackage.manifestName)")
        }
        do {
            _ = try TFJSModel.load(folder)
        } catch let error as PipelineError {
            problems.append(error.message.replacingOccurrences(of: folder, with: path))
        }
        let checksum = "\(path).sha256"
        var checksumNote = "no .sha256 beside it"
        if FileSupport.exists(checksum) {
            let expected = String(decoding: try FileSupport.readWholeFile(checksum, limit: 4096), as: UTF8.self).prefix(64)
            let actual = try SHA256Digest.ofFile(path)
            if expected != actual { problems.append("\(checksum) says sha256 \(expected), the package's is \(actual)") }
            checksumNote = "matches \(checksum)"
        }
        guard problems.isEmpty else {
            throw PipelineError(.data, "\(path): \(problems.count) problem(s):\n  " + problems.joined(separator: "\n  "))
        }
        guard let name = manifest["name"]?.text, PackageName.problem(name) == nil, let version = manifest["version"]?.text,
            PackageName.problem(version) == nil
        else { throw PipelineError(.data, "\(path): \(ModelPackage.manifestName) has no usable name and version") }
        return (name, version, manifest["dataset"]?["version"]?.text, entries.keys.sorted(), checksumNote)
    }

    /// A new folder only this process uses (mode 0700).
    static func temporaryFolder() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/pipeline-verify-XXXXXX").utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw PipelineError(.io, "cannot create a temporary folder to unpack into")
        }
        return String(cString: created)
    }
}
