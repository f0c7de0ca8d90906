import Foundation
import Pipelines

#if canImport(Glibc)
    import Glibc
#endif

/// Publishes a checked package into `ROOT/<name>/<version>/` and points `ROOT/<name>/current` at it.
/// The version folder is filled under a temporary name and renamed whole; `current` is a symbolic link
/// replaced by one rename. A kill at any point leaves the old or the new `current`, never a half one, and
/// running again finishes the publication.
struct FolderPublisher {
    let root: String
    let package: CheckedPackage
    let records: ModelPublications
    let target: String

    var modelFolder: String { "\(root)/\(package.name)" }
    var versionFolder: String { "\(modelFolder)/\(package.version)" }

    func publish() throws {
        try FilePlacement.createDirectories(modelFolder)
        for entry in try FilePlacement.entries(of: modelFolder) ?? [] where FilePlacement.isTemporary(name: entry.name) {
            try FileManager.default.removeItem(atPath: "\(modelFolder)/\(entry.name)")
        }
        if FileSupport.exists(versionFolder) {
            try requireSameFiles(in: versionFolder)
        } else {
            let staging = FilePlacement.temporaryPath(for: versionFolder)
            try FilePlacement.createDirectories(staging)
            for file in package.files {
                try FilePlacement.createDirectories(FileSupport.parentDirectory(of: "\(staging)/\(file)"))
                try FilePlacement.copy("\(package.folder)/\(file)", to: "\(staging)/\(file)")
            }
            FilePlacement.syncAll()
            try FilePlacement.move(staging, to: versionFolder)
        }
        try records.record(target: target, package: package, path: versionFolder, status: ModelPublications.unpacked)
        try FilePlacement.replaceSymbolicLink(at: "\(modelFolder)/current", pointingTo: package.version)
        FilePlacement.syncAll()
        try records.record(target: target, package: package, path: versionFolder, status: ModelPublications.published)
    }

    /// A version folder already there (a killed run renamed it in before recording it) must hold
    /// exactly this package's files.
    private func requireSameFiles(in folder: String) throws {
        for file in package.files {
            let path = "\(folder)/\(file)"
            guard FileSupport.exists(path), try SHA256Digest.ofFile(path) == SHA256Digest.ofFile("\(package.folder)/\(file)") else {
                throw PipelineError(
                    .data, "\(folder) already exists and its \(file) is not this package's; publish \(package.name) as a new version")
            }
        }
    }

    /// Removes the oldest published versions beyond `keep`; never the current one.
    func prune(keep: Int, logger: Logger) throws -> Int64 {
        var removed: Int64 = 0
        for version in try records.versions(target: target, name: package.name).dropFirst(keep) where version != package.version {
            let folder = "\(modelFolder)/\(version)"
            if FileSupport.exists(folder) { try FileManager.default.removeItem(atPath: folder) }
            try records.markRemoved(target: target, name: package.name, version: version)
            logger.info("model.removed", "removed \(package.name) \(version) from \(modelFolder) (keep \(keep))")
            removed += 1
        }
        return removed
    }
}
