import Foundation
import Pipelines
import TestImages
import Testing

/// kill -9 anywhere in an extraction and its manifests, run again: the dataset, its index, the report
/// and every manifest are byte-identical to an uninterrupted run's, with no temporary file left.
@Suite(.serialized, .timeLimit(.minutes(8))) struct PhotosResumeTests {
    /// 150 products with 4 photos each (distinct small PNGs), imported once into store.db.
    static func prepare(_ scratch: Scratch) throws {
        var generator = SeededGenerator(seed: 42)
        try FileManager.default.createDirectory(atPath: scratch.file("assets"), withIntermediateDirectories: true)
        var products: [PhotoCatalogue.Product] = []
        for product in 0..<150 {
            var names: [String] = []
            for photo in 0..<4 {
                let payload = (0..<6_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let name = "p\(product)-\(photo).png"
                try Data(TestImages.png(width: 64 + photo, height: 48 + product % 7, payload: payload))
                    .write(to: URL(fileURLWithPath: scratch.file("assets/\(name)")))
                names.append(name)
            }
            products.append(.init(slug: "product-\(product)", assets: names))
        }
        try scratch.write("products.csv", PhotoCatalogue.csv(products))
        try scratch.write("import.yaml", PhotoCatalogue.pipeline(file: "products.csv", assets: "assets"))
        let imported = try PipelineProcess.run(["run", "import.yaml"], in: scratch.path)
        #expect(imported.status == 0, "\(imported.stderr)")
        try FileManager.default.removeItem(atPath: scratch.file("out"))
        try FileManager.default.removeItem(atPath: scratch.file("var"))
        try scratch.write(
            "p.yaml",
            PhotoCatalogue.pipeline(file: "products.csv", assets: "assets", formats: "[native, huggingface, dukarun]", importStage: false))
    }

    /// The dataset folder and the report, as bytes.
    static func result(_ scratch: Scratch) throws -> [String: Data] {
        var files = PhotoCatalogue.tree(scratch.file("out"))
        files["REPORT"] = FileManager.default.contents(atPath: scratch.file("var/photos.report.csv"))
        return files
    }

    @Test func killedExtractionsResumeToTheSameDataset() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try Self.prepare(scratch)
        let killer = KillAndResume(arguments: ["run", "p.yaml"], directory: scratch.path)
        let (first, seconds) = try killer.timedRun()
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try Self.result(scratch)
        #expect(expected.keys.filter { $0.hasSuffix(".png") }.count == 600)
        #expect(expected.keys.contains("photos/manifest.json") && expected.keys.contains("photos/dukarun.json"))
        try killer.killAtRandomPoints(
            20, seed: 12, duration: seconds,
            reset: {
                try? FileManager.default.removeItem(atPath: scratch.file("out"))
                try? FileManager.default.removeItem(atPath: scratch.file("var"))
            },
            check: { kill in
                let resumed = try Self.result(scratch)
                let temporary = resumed.keys.filter { $0.hasSuffix(".tmp") || $0.contains("/staging/") }
                #expect(temporary.isEmpty, "kill \(kill): left \(temporary.prefix(3))")
                let missing = Set(expected.keys).subtracting(resumed.keys).sorted()
                let extra = Set(resumed.keys).subtracting(expected.keys).sorted()
                #expect(missing.isEmpty && extra.isEmpty, "kill \(kill): missing \(missing.prefix(3)), extra \(extra.prefix(3))")
                let differing = expected.keys.filter { resumed[$0] != expected[$0] }
                #expect(differing.isEmpty, "kill \(kill): \(differing.prefix(3)) differ from the uninterrupted run")
            })
    }
}
