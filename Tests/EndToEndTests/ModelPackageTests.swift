import Foundation
import Pipelines
import Testing

/// model.package and `pipeline model verify` through the built binary, on the real Teachable Machine
/// export in ../shared/reference/dukarun-model, with bsdtar, Python's tarfile/zipfile and sha256sum
/// reading what was written, and hostile archives made by Python.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ModelPackageTests {
    static let reference = PipelineProcess.packageRoot + "/../shared/reference/dukarun-model"
    static let mtime = "2026-12-01T00:00:00Z"

    /// A copy of the reference model in `scratch/name`.
    static func copyModel(_ scratch: Scratch, to name: String = "model") throws -> String {
        let folder = scratch.file(name)
        try FileManager.default.copyItem(atPath: reference, toPath: folder)
        return folder
    }

    static func package(
        _ scratch: Scratch, model: String = "model", out: String = "dist", format: String = "tar.gz", extra: String = "",
        environment: [String: String] = [:]
    ) throws -> PipelineProcess.Result {
        let name = "pkg-\(UUID().uuidString.prefix(8))"
        try scratch.write(
            "\(name).yaml",
            """
            name: \(name)
            state: sqlite:var/state.db
            stages:
              - id: package
                uses: model.package
                with: { model: \(model), out: \(out), name: products, version: "1.0.0", format: \(format)\(extra.isEmpty ? "" : ", " + extra) }
            """)
        return try PipelineProcess.run(["run", "\(name).yaml"], in: scratch.path, environment: environment)
    }

    static func tool(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let result = try ExternalTool.run(arguments, in: directory)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func theReferenceModelPackagesReproduciblyAndVerifies() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        _ = try Self.copyModel(scratch)
        for format in ["tar.gz", "tar.zst", "zip"] {
            let result = try Self.package(scratch, format: format, extra: "mtime: \"\(Self.mtime)\"")
            #expect(result.status == 0, "\(format): \(result.stderr)")
            let file = "dist/products-1.0.0.\(format)"
            let verified = try PipelineProcess.run(["model", "verify", file], in: scratch.path)
            #expect(verified.status == 0 && verified.stdout.contains("4 entries match package.json"), "\(format): \(verified.stderr)")
            let checked = try Self.tool(["sha256sum", "-c", "products-1.0.0.\(format).sha256"], in: scratch.file("dist"))
            #expect(checked.status == 0, "\(checked.output)")
            let listing = try Self.tool(["bsdtar", "-tvf", file], in: scratch.path)
            let lines = listing.output.split(separator: "\n")
            #expect(lines.count == 4, "\(listing.output)")
            #expect(lines.allSatisfy { $0.hasPrefix("-rw-r--r--  0 0      0") && ($0.contains("Dec  1 00:00") || $0.contains("Dec  1  2026")) }, "\(format): \(listing.output)")
        }
        // Python's readers see the same entries, each 0644 at the fixed time.
        let python = try Self.tool(
            [
                "python3", "-c",
                """
                import tarfile, zipfile, json
                t = tarfile.open('dist/products-1.0.0.tar.gz')
                print(json.dumps(sorted((m.name, oct(m.mode), m.mtime, m.uid, m.gid) for m in t.getmembers())))
                z = zipfile.ZipFile('dist/products-1.0.0.zip')
                print(json.dumps(sorted((i.filename, oct(i.external_attr >> 16 & 0o777), i.date_time[:3]) for i in z.infolist())))
                """,
            ], in: scratch.path)
        #expect(python.output.contains("[[\"metadata.json\", \"0o644\", 1796083200, 0, 0], [\"model.json\", \"0o644\", 1796083200, 0, 0], [\"package.json\", \"0o644\", 1796083200, 0, 0], [\"weights.bin\", \"0o644\", 1796083200, 0, 0]]"), "\(python.output)")
        #expect(python.output.contains("[[\"metadata.json\", \"0o644\", [2026, 12, 1]]"), "\(python.output)")

        // Packaged again elsewhere, later, from a copy with new file times (SOURCE_DATE_EPOCH fixing the
        // entries' time): the same bytes.
        let other = try Scratch()
        defer { other.remove() }
        Thread.sleep(forTimeInterval: 1.1)
        _ = try Self.copyModel(other)
        #expect(try Self.package(other, environment: ["SOURCE_DATE_EPOCH": "1796083200"]).status == 0)
        let first = try SHA256Digest.ofFile(scratch.file("dist/products-1.0.0.tar.gz"))
        #expect(try SHA256Digest.ofFile(other.file("dist/products-1.0.0.tar.gz")) == first)
        let package = try JSONValue.parse(
            try Self.tool(["bsdtar", "-xOf", "dist/products-1.0.0.tar.gz", "package.json"], in: scratch.path).output)
        #expect(package["labels"]?.items?.compactMap(\.text) == ["tab", "kyb", "fruits", "mouse", "phone", "pad"])
        #expect(package["image_size"]?.integer == 224 && package["files"]?.items?.count == 3)
    }

    /// Each way a provider's export can be wrong is refused with its precise message.
    @Test func brokenModelsAreRefusedPrecisely() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let weights = try Data(contentsOf: URL(fileURLWithPath: Self.reference + "/weights.bin"))
        func variant(_ name: String, _ change: (String) throws -> Void) throws -> PipelineProcess.Result {
            let folder = try Self.copyModel(scratch, to: name)
            try change(folder)
            return try Self.package(scratch, model: name, out: "dist-\(name)")
        }
        func manifest(_ folder: String) throws -> (JSONValue, String) {
            (try JSONValue.parse(String(contentsOfFile: folder + "/model.json", encoding: .utf8)), folder + "/model.json")
        }

        let truncated = try variant("truncated") { try weights.prefix(2_000_000).write(to: URL(fileURLWithPath: $0 + "/weights.bin")) }
        #expect(truncated.status == 65)
        #expect(truncated.stderr.contains("group 1 (weights.bin): the weights need 2155632 bytes, the shards hold 2000000; the shards end inside weight "), "\(truncated.stderr)")

        let padded = try variant("padded") { try (weights + Data(count: 16)).write(to: URL(fileURLWithPath: $0 + "/weights.bin")) }
        #expect(padded.stderr.contains("the weights need 2155632 bytes, the shards hold 2155648; 16 bytes are left after the last weight"), "\(padded.stderr)")

        let missing = try variant("missing") { try FileManager.default.removeItem(atPath: $0 + "/weights.bin") }
        #expect(missing.status == 65 && missing.stderr.contains("shard 'weights.bin': asset file 'weights.bin' does not exist"), "\(missing.stderr)")

        let extra = try variant("extra") { try Data("x".utf8).write(to: URL(fileURLWithPath: $0 + "/group1-shard9of9.bin")) }
        #expect(extra.status == 65 && extra.stderr.contains("holds files the weights manifest does not list: group1-shard9of9.bin"), "\(extra.stderr)")

        // Twelve shards in natural order package; the same listed in name order are refused.
        func split(_ folder: String, order: ([String]) -> [String]) throws {
            let size = (weights.count + 11) / 12
            var names: [String] = []
            for index in 0..<12 {
                let name = "group1-shard\(index + 1)of12.bin"
                try weights.subdata(in: index * size..<min((index + 1) * size, weights.count)).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
                names.append(name)
            }
            try FileManager.default.removeItem(atPath: folder + "/weights.bin")
            let text = try String(contentsOfFile: folder + "/model.json", encoding: .utf8)
            let listed = order(names).map { "\"\($0)\"" }.joined(separator: ",")
            try text.replacingOccurrences(of: "\"paths\":[\"weights.bin\"]", with: "\"paths\":[\(listed)]")
                .replacingOccurrences(of: "\"paths\": [\"weights.bin\"]", with: "\"paths\": [\(listed)]")
                .write(toFile: folder + "/model.json", atomically: true, encoding: .utf8)
        }
        let natural = try variant("natural") { try split($0, order: { $0 }) }
        #expect(natural.status == 0, "\(natural.stderr)")
        let byName = try variant("by-name") { try split($0, order: { $0.sorted() }) }
        #expect(byName.status == 65 && byName.stderr.contains("shard 'group1-shard10of12.bin' is listed at position 1 of 12; shards must be listed in their natural order"), "\(byName.stderr)")

        let dtype = try variant("dtype") { folder in
            let text = try String(contentsOfFile: folder + "/model.json", encoding: .utf8)
            guard let manifest = text.range(of: "\"weightsManifest\""),
                let range = text.range(of: "\"dtype\": \"float32\"", range: manifest.upperBound..<text.endIndex)
            else { return }
            try text.replacingCharacters(in: range, with: "\"dtype\":\"float16\"").write(toFile: folder + "/model.json", atomically: true, encoding: .utf8)
        }
        #expect(dtype.status == 65 && dtype.stderr.contains("the weights need 2154768 bytes, the shards hold 2155632"), "\(dtype.stderr)")

        // Labels against a dataset manifest: the same six in order pass; a missing, an extra and a moved label are named.
        func datasetManifest(_ labels: [String]) throws -> String {
            let lines = labels.enumerated().map { "{\"index\":\($0.offset),\"label\":\"\($0.element)\"}" }.joined(separator: ",\n")
            return try scratch.write(
                "manifest-\(labels.joined(separator: "-")).json",
                "{\"schema_version\":1,\"dataset_version\":\"\(String(repeating: "ab", count: 32))\",\"labels\":[\n\(lines)\n],\"images\":[\n],\"counts\":{}}\n")
        }
        _ = try Self.copyModel(scratch, to: "labelled")
        let same = try datasetManifest(["tab", "kyb", "fruits", "mouse", "phone", "pad"])
        #expect(try Self.package(scratch, model: "labelled", out: "dist-same", extra: "dataset_manifest: \(same)").status == 0)
        let verified = try PipelineProcess.run(["model", "verify", "dist-same/products-1.0.0.tar.gz"], in: scratch.path)
        #expect(verified.status == 0, "\(verified.stderr)")
        let other = try datasetManifest(["tab", "kyb", "fruits", "mouse", "phone", "laptop"])
        let mismatched = try Self.package(scratch, model: "labelled", out: "dist-other", extra: "dataset_manifest: \(other)")
        #expect(mismatched.status == 65 && mismatched.stderr.contains("missing from the model: laptop; not in the dataset: pad"), "\(mismatched.stderr)")
        let moved = try datasetManifest(["kyb", "tab", "fruits", "mouse", "phone", "pad"])
        let reordered = try Self.package(scratch, model: "labelled", out: "dist-moved", extra: "dataset_manifest: \(moved)")
        #expect(reordered.stderr.contains("in another order: label 1 is 'tab' in the model and 'kyb' in the dataset"), "\(reordered.stderr)")
        let leftInOther = (try? FileManager.default.contentsOfDirectory(atPath: scratch.file("dist-other"))) ?? []
        #expect(leftInOther.isEmpty, "a refused model left \(leftInOther)")
    }

    /// Archives that are not plain packages are refused by name, and nothing lands outside the
    /// verifier's own temporary folder, which is gone afterwards.
    @Test func hostileArchivesAreRefusedAndWriteNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        _ = try Self.copyModel(scratch)
        #expect(try Self.package(scratch, extra: "mtime: \"\(Self.mtime)\"").status == 0)
        try FileManager.default.createDirectory(atPath: scratch.file("hostile"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.file("tmp"), withIntermediateDirectories: true)
        let made = try Self.tool(
            ["python3", PipelineProcess.packageRoot + "/Tests/Peers/hostile_archives.py", "hostile", "dist/products-1.0.0.tar.gz"],
            in: scratch.path)
        #expect(made.status == 0, "\(made.output)")
        let expected = [
            "zip-slip.tar.gz": "entry '../escaped.txt': a path that is absolute or leaves the folder",
            "absolute.tar.gz": "absolute.txt': a path that is absolute or leaves the folder",
            "symlink.tar.gz": "entry 'link': a symbolic link",
            "hardlink.tar.gz": "entry 'hard': a hard link",
            "device.tar.gz": "entry 'device': a device or special file",
            "duplicate.tar.gz": "entry 'model.json': the name appears twice",
            "bomb.tar.gz": "entry 'bomb.bin': the archive expands more than 200 times its size",
            "zip-slip.zip": "entry '../escaped-zip.txt': a path that is absolute or leaves the folder",
        ]
        for (file, message) in expected.sorted(by: { $0.key < $1.key }) {
            let result = try PipelineProcess.run(["model", "verify", "hostile/\(file)"], in: scratch.path, environment: ["TMPDIR": scratch.file("tmp")])
            #expect(result.status == 65, "\(file): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(file): \(result.stderr)")
        }
        #expect(!scratch.exists("escaped.txt") && !scratch.exists("hostile/absolute.txt") && !scratch.exists("escaped-zip.txt"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.file("tmp")).isEmpty, "the verifier left its folder behind")
    }
}
