import Pipelines

/// Brings `OUT/<split>/<label>/` to exactly the kept images: a file already in place with its size is
/// left alone (its name is its content's hash), one in another split is moved, one no longer wanted is
/// removed, and new ones are moved in from staging or linked or copied from their source. Every file
/// appears under its final name whole (temporary name, then rename), so a kill leaves no partial image,
/// and running again converges on the same tree.
struct DatasetSync {
    let folder: DatasetFolder
    let link: PhotoLink
    let logger: Logger

    struct Tally {
        var unchanged: Int64 = 0
        var placed: Int64 = 0
        var moved: Int64 = 0
        var removed: Int64 = 0
        var copiedForLink: Int64 = 0
    }

    func run(_ scratch: PhotoScratch) throws -> Tally {
        var tally = Tally()
        try removeUnwanted(scratch, &tally)
        try placeMissing(scratch, &tally)
        try folder.clearStaging()
        FilePlacement.syncAll()
        return tally
    }

    /// Walks the label folders of every split: temporary files and files no longer wanted go; files
    /// wanted in another split are moved there.
    private func removeUnwanted(_ scratch: PhotoScratch, _ tally: inout Tally) throws {
        for split in DatasetFolder.splits {
            let splitPath = "\(folder.root)/\(split)"
            for labelEntry in try FilePlacement.entries(of: splitPath) ?? [] where labelEntry.kind == .directory {
                let labelPath = "\(splitPath)/\(labelEntry.name)"
                for entry in try FilePlacement.entries(of: labelPath) ?? [] {
                    let path = "\(labelPath)/\(entry.name)"
                    guard case .file(let size) = entry.kind else {
                        logger.warning("photos.foreign-entry", "\(path) is not a regular file; left as it is")
                        continue
                    }
                    if FilePlacement.isTemporary(name: entry.name) {
                        try FilePlacement.remove(path)
                        continue
                    }
                    let relative = "\(split)/\(labelEntry.name)/\(entry.name)"
                    if try isWanted(relative, size: size, in: scratch) {
                        try scratch.execute("UPDATE kept SET present = 1 WHERE path = $1", [.text(relative)])
                        tally.unchanged += 1
                    } else if let target = try wantedElsewhere(folder: labelEntry.name, name: entry.name, size: size, in: scratch) {
                        try FilePlacement.createDirectories(FileSupport.parentDirectory(of: "\(folder.root)/\(target)"))
                        try FilePlacement.move(path, to: "\(folder.root)/\(target)")
                        try scratch.execute("UPDATE kept SET present = 1 WHERE path = $1", [.text(target)])
                        tally.moved += 1
                    } else {
                        try FilePlacement.remove(path)
                        tally.removed += 1
                    }
                }
                FilePlacement.removeEmptyDirectory(labelPath)
            }
        }
    }

    private func isWanted(_ path: String, size: Int64, in scratch: PhotoScratch) throws -> Bool {
        try scratch.count(
            "SELECT COUNT(*) FROM kept k JOIN inspected i ON i.seq = k.seq WHERE k.path = $1 AND i.bytes = $2",
            [.text(path), .integer(size)]) > 0
    }

    private func wantedElsewhere(folder labelFolder: String, name: String, size: Int64, in scratch: PhotoScratch) throws -> String? {
        var target: String?
        try scratch.each(
            """
            SELECT k.path FROM kept k JOIN inspected i ON i.seq = k.seq
            WHERE k.folder = $1 AND k.name = $2 AND i.bytes = $3 AND k.present = 0
            """, [.text(labelFolder), .text(name), .integer(size)]
        ) { target = $0.string(0) }
        return target
    }

    private func placeMissing(_ scratch: PhotoScratch, _ tally: inout Tally) throws {
        try scratch.each(
            """
            SELECT k.path, k.sha256, i.format, i.source, i.bytes FROM kept k JOIN inspected i ON i.seq = k.seq
            WHERE k.present = 0 ORDER BY k.path
            """
        ) { row in
            let relative = row.string(0) ?? ""
            let sha256 = row.string(1) ?? ""
            guard let format = row.string(2).flatMap(ImageHeader.Format.init(rawValue:)) else { return }
            let target = "\(folder.root)/\(relative)"
            try FilePlacement.createDirectories(FileSupport.parentDirectory(of: target))
            let staged = folder.stagedPath(sha256: sha256, format: format)
            let source = row.string(3)
            if source == staged || (link == .copy && FileSupport.exists(staged)) {
                try FilePlacement.move(staged, to: target)
            } else if let source, link == .hardlink, try FilePlacement.hardLink(source, to: target) {
                // linked
            } else if let source {
                if link == .hardlink { tally.copiedForLink += 1 }
                try copy(source, to: target, sha256: sha256, bytes: row.int64(4) ?? 0)
            } else {
                throw PipelineError(.internal, "no source for \(relative): it was neither staged nor in the dataset")
            }
            tally.placed += 1
        }
    }

    /// Copies a source file, checking that it still holds the bytes that were inspected (never reading
    /// more than their size: a file that grew has changed).
    private func copy(_ source: String, to target: String, sha256: String, bytes size: Int64) throws {
        let changed = PipelineError(.data, "\(source) changed while the dataset was being written; run again", isTransient: true)
        let bytes: [UInt8]
        do { bytes = try FileSupport.readWholeFile(source, limit: Int(size)) } catch let error as PipelineError where error.code == .data { throw changed }
        let actual = try bytes.withUnsafeBytes { try SHA256.hex(ofBytes: $0) }
        guard actual == sha256 else {
            throw changed
        }
        try bytes.withUnsafeBytes { try FilePlacement.write($0, to: target) }
    }
}
