import Pipelines

/// The layout of a photo dataset on disk: `OUT/<split>/<label>/<file>` (what Hugging Face's `imagefolder`
/// and torchvision's `ImageFolder` read), plus `OUT/.pipeline/` with the index `dataset.jsonl` that
/// `manifest.write` reads and a staging folder for images not yet placed. Hidden folders are ignored by
/// those readers, and the `.pipeline` folder marks the dataset as one this tool manages: a folder that
/// holds other files is never written into.
struct DatasetFolder {
    static let splits = ["train", "validation", "test"]
    let root: String

    var control: String { "\(root)/.pipeline" }
    var staging: String { "\(control)/staging" }
    var indexPath: String { "\(control)/dataset.jsonl" }

    /// A file's name in the dataset: its content's SHA-256 (16 hex digits) and the extension of its
    /// format, so a name never changes while the bytes stay the same.
    static func fileName(sha256: String, format: ImageHeader.Format) -> String {
        "\(sha256.prefix(16)).\(format.fileExtension)"
    }

    /// A label as a folder name: kept as it is when it is already a safe name (ASCII letters, digits,
    /// `-`, `_`, `.`, not starting with a dot, at most 100 bytes); otherwise the safe characters with `-`
    /// for the others, plus 8 hex digits of the label's SHA-256 so that two labels never share a folder.
    static func folderName(for label: String) throws -> String {
        func isSafe(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
        }
        if !label.isEmpty, !label.hasPrefix("."), label.utf8.count <= 100, label.unicodeScalars.allSatisfy(isSafe) { return label }
        var safe = ""
        for scalar in label.unicodeScalars {
            if isSafe(scalar) {
                safe.unicodeScalars.append(scalar)
            } else if !safe.hasSuffix("-") {
                safe += "-"
            }
        }
        while safe.hasPrefix(".") || safe.hasPrefix("-") { safe.removeFirst() }
        while safe.hasSuffix("-") { safe.removeLast() }
        if safe.utf8.count > 80 { safe = String(safe.prefix(80)) }
        return (safe.isEmpty ? "label" : safe) + "-" + (try SHA256.hex(of: label)).prefix(8)
    }

    /// Makes the folder ready: creates it, or checks that it is empty or already a dataset, and removes
    /// staging files a killed run left half-written.
    func prepare() throws {
        if let entries = try FilePlacement.entries(of: root), !entries.isEmpty, !entries.contains(where: { $0.name == ".pipeline" }) {
            let shown = entries.prefix(3).map { "'\($0.name)'" }.joined(separator: ", ")
            throw PipelineError(
                .config,
                "the out folder \(root) holds files photos.extract did not write (\(shown)); give an empty or new folder, or the folder of an earlier extraction")
        }
        try FilePlacement.createDirectories(staging)
        for folder in [control, staging] {
            for entry in try FilePlacement.entries(of: folder) ?? [] where FilePlacement.isTemporary(name: entry.name) {
                try FilePlacement.remove("\(folder)/\(entry.name)")
            }
        }
    }

    /// Whether some split already holds `name` for the label, with `size` bytes.
    func holds(labelFolder: String, name: String, size: Int64) -> Bool {
        Self.splits.contains { split in
            var status = stat()
            return lstat("\(root)/\(split)/\(labelFolder)/\(name)", &status) == 0 && status.st_mode & S_IFMT == S_IFREG
                && Int64(status.st_size) == size
        }
    }

    func stagedPath(sha256: String, format: ImageHeader.Format) -> String {
        "\(staging)/\(sha256).\(format.fileExtension)"
    }

    /// Writes an image's bytes to the staging folder (once per content) and gives the staged path.
    func stage(_ bytes: [UInt8], sha256: String, format: ImageHeader.Format) throws -> String {
        let path = stagedPath(sha256: sha256, format: format)
        var status = stat()
        if lstat(path, &status) == 0, Int64(status.st_size) == Int64(bytes.count) { return path }
        try bytes.withUnsafeBytes { try FilePlacement.write($0, to: path) }
        return path
    }

    /// Empties the staging folder of images the dataset did not take.
    func clearStaging() throws {
        for entry in try FilePlacement.entries(of: staging) ?? [] { try FilePlacement.remove("\(staging)/\(entry.name)") }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
