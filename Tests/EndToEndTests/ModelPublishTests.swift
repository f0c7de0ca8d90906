import Foundation
import Pipelines
import Testing

/// model.publish through the built binary: to a folder (versions, an atomic `current`, `keep`, the
/// store's records, kill -9 at random points) and to an HTTP endpoint on loopback (multipart, retries,
/// a token that never shows).
@Suite(.serialized, .timeLimit(.minutes(5))) struct ModelPublishTests {
    /// Packages the reference model as VERSION (its metadata's model name changed per version, so each
    /// version has other bytes) into dist/.
    static func package(_ scratch: Scratch, version: String) throws {
        let folder = scratch.file("model-\(version)")
        if !FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.copyItem(atPath: ModelPackageTests.reference, toPath: folder)
            let metadata = try String(contentsOfFile: folder + "/metadata.json", encoding: .utf8)
            try metadata.replacingOccurrences(of: "tm-my-image-model", with: "shop-model-\(version)")
                .write(toFile: folder + "/metadata.json", atomically: true, encoding: .utf8)
        }
        try scratch.write(
            "package-\(version).yaml",
            """
            name: package-\(version)
            state: sqlite:var/state.db
            stages:
              - id: package
                uses: model.package
                with: { model: model-\(version), out: dist, name: products, version: "\(version)", mtime: "2026-12-01T00:00:00Z" }
            """)
        let result = try PipelineProcess.run(["run", "package-\(version).yaml", "--rerun"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
    }

    static func publishPipeline(_ scratch: Scratch, version: String, to target: String = "models", extra: String = "") throws -> String {
        try scratch.write(
            "publish-\(version).yaml",
            """
            name: publish
            database: sqlite:var/store.db
            state: sqlite:var/state.db
            params: { version: "\(version)" }
            stages:
              - id: publish
                uses: model.publish
                with: { package: "dist/products-${version}.tar.gz", to: "\(target)", keep: 2\(extra.isEmpty ? "" : ", " + extra) }
            """)
        return "publish-\(version).yaml"
    }

    static func current(_ scratch: Scratch) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: scratch.file("models/products/current"))
    }

    @Test func publishingToAFolderSwitchesCurrentKeepsVersionsAndRecordsThem() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for version in ["1.0.0", "1.1.0", "1.2.0"] {
            try Self.package(scratch, version: version)
            let result = try PipelineProcess.run(["run", try Self.publishPipeline(scratch, version: version)], in: scratch.path)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.current(scratch) == version)
            let verified = try PipelineProcess.run(["model", "verify", "dist/products-\(version).tar.gz"], in: scratch.path)
            #expect(verified.status == 0)
        }
        // keep: 2 — the oldest went; the current one holds the package's files.
        let versions = try FileManager.default.contentsOfDirectory(atPath: scratch.file("models/products")).filter { !$0.hasPrefix(".") }.sorted()
        #expect(versions == ["1.1.0", "1.2.0", "current"], "\(versions)")
        #expect(
            FileManager.default.contents(atPath: scratch.file("models/products/current/weights.bin"))
                == FileManager.default.contents(atPath: ModelPackageTests.reference + "/weights.bin"))
        #expect(
            try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT version, status FROM model_publications ORDER BY version")
                == [["1.0.0", "removed"], ["1.1.0", "published"], ["1.2.0", "published"]])

        // The same version and content again: nothing happens. Other content under that version: refused.
        let again = try PipelineProcess.run(["run", "publish-1.2.0.yaml", "--rerun"], in: scratch.path)
        #expect(again.status == 0 && again.stderr.contains("already published"), "\(again.stderr)")
        // 1.2.0 again, made from 1.1.0's model (other metadata, so other bytes).
        try scratch.write(
            "package-other.yaml",
            """
            name: package-other
            state: sqlite:var/state.db
            stages:
              - id: package
                uses: model.package
                with: { model: model-1.1.0, out: dist, name: products, version: "1.2.0", mtime: "2026-12-01T00:00:00Z" }
            """)
        #expect(try PipelineProcess.run(["run", "package-other.yaml"], in: scratch.path).status == 0)
        let changed = try PipelineProcess.run(["run", "publish-1.2.0.yaml", "--rerun"], in: scratch.path)
        #expect(changed.status == 65 && changed.stderr.contains("is already published to"), "\(changed.stderr)")
        #expect(Self.current(scratch) == "1.2.0")
    }

    /// kill -9 anywhere in a publication: `current` is the old version or the new one, whole; running
    /// again finishes it.
    @Test func killedPublicationsLeaveAWholeCurrentAndResume() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.package(scratch, version: "1.0.0")
        try Self.package(scratch, version: "2.0.0")
        var generator = SeededGenerator(seed: 5)
        var kills = 0
        for round in 0..<12 {
            try? FileManager.default.removeItem(atPath: scratch.file("models"))
            try? FileManager.default.removeItem(atPath: scratch.file("var"))
            #expect(try PipelineProcess.run(["run", try Self.publishPipeline(scratch, version: "1.0.0")], in: scratch.path).status == 0)
            let killer = KillAndResume(arguments: ["run", try Self.publishPipeline(scratch, version: "2.0.0")], directory: scratch.path)
            if try killer.killRun(after: Double.random(in: 0.0...0.25, using: &generator)) { kills += 1 }
            let seen = Self.current(scratch)
            #expect(seen == "1.0.0" || seen == "2.0.0", "round \(round): current is \(seen ?? "missing")")
            let weights = FileManager.default.contents(atPath: scratch.file("models/products/current/weights.bin"))
            #expect(weights?.count == 2_155_632, "round \(round): current is not whole")
            let resumed = try killer.resume()
            #expect(resumed.status == 0, "round \(round): \(resumed.stderr)")
            #expect(Self.current(scratch) == "2.0.0")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.file("models/products")).filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty, "round \(round): \(leftovers)")
        }
        #expect(kills >= 3, "only \(kills) kills hit a running publication")
    }

    @Test func publishingToAnEndpointUploadsTheModelWithRetries() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.package(scratch, version: "1.0.0")
        let server = try PeerServer("upload_receiver.py", ["--log", scratch.file("uploads.log"), "--script", "503,200"])
        defer { server.stop() }
        let token = "Bearer mdl-5ecret-7oken"
        let url = "http://127.0.0.1:\(server.port)/api/models/upload?key=k-abc123"
        let file = try Self.publishPipeline(scratch, version: "1.0.0", to: url, extra: "headers_from_env: { Authorization: MODEL_TOKEN }, upload_retries: 2")
        let result = try PipelineProcess.run(["run", file], in: scratch.path, environment: ["MODEL_TOKEN": token])
        #expect(result.status == 0, "\(result.stderr)")
        let uploads = try scratch.read("uploads.log").split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(uploads.count == 2 && uploads[0]["status"]?.integer == 503 && uploads[1]["status"]?.integer == 200)
        #expect(uploads[1]["authorization"]?.text == token)
        let parts = uploads[1]["parts"]?.items ?? []
        #expect(parts.compactMap { $0["field"]?.text } == ["metadata", "model", "weights"])
        let weights = parts.first { $0["field"]?.text == "weights" }
        #expect(weights?["bytes"]?.integer == 2_155_632)
        #expect(weights?["sha256"]?.text == (try SHA256Digest.ofFile(ModelPackageTests.reference + "/weights.bin")))
        let records = try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT target, status FROM model_publications")
        #expect(records == [["http://127.0.0.1:\(server.port)/api/models/upload", "published"]])
        // The token and the URL's key are nowhere in what the run printed or kept.
        try NotifyWebhookTests.expectNoSecret(["mdl-5ecret-7oken", "k-abc123"], in: scratch, outputs: [result])
    }
}
