import Foundation
import Pipelines
import TestImages
import Testing

/// photos.extract and manifest.write through the built binary, on Vendure's demo catalogue and its 54
/// real photos, with the consumers (Hugging Face datasets, Pillow, a JSON Schema validator) reading what
/// was written.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PhotosExtractTests {
    static func counter(_ name: String, _ result: PipelineProcess.Result) -> Int { PhotoCatalogue.counter(name, in: result.stderr) ?? 0 }

    @Test func vendureCatalogueBecomesADatasetProvidersRead() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "p.yaml",
            PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets)
                + """

                  - id: sagemaker
                    uses: manifest.write
                    needs: [photos]
                    with: { dataset: out/photos, formats: [sagemaker], uri_prefix: "s3://shop-ml/ds/", created_at: "2026-12-06T00:00:00Z" }
                  - id: vertex
                    uses: manifest.write
                    needs: [photos]
                    with: { dataset: out/photos, formats: [vertex-jsonl, vertex-csv], uri_prefix: "gs://shop-ml/ds/" }
                """)
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        // Every product, the chair whose three variants share a SKU among them, has one photo, each its own
        // label, all in training.
        #expect(Self.counter("images", result) == 54 && Self.counter("labels", result) == 54)
        #expect(Self.counter("excluded", result) == 0)
        let dataset = scratch.file("out/photos")
        let files = PhotoCatalogue.tree(dataset)
        #expect(files.keys.filter { $0.hasPrefix("train/") && !$0.hasSuffix("metadata.jsonl") }.count == 54)
        #expect(files["train/laptop/f63799dc270ba4a4.jpg"] == FileManager.default.contents(atPath: PhotoCatalogue.assets + "/derick-david-409858-unsplash.jpg"))
        try PhotoCatalogue.expectConsumersAccept(dataset)

        let verified = try PipelineProcess.run(["manifest", "verify", "out/photos/manifest.json"], in: scratch.path)
        #expect(verified.status == 0 && verified.stdout.contains("all 54 images match"), "\(verified.stderr)")

        // Changed, missing and unlisted files are each named, exit 65.
        try Data("not the photo".utf8).write(to: URL(fileURLWithPath: dataset + "/train/laptop/f63799dc270ba4a4.jpg"))
        try FileManager.default.removeItem(atPath: dataset + "/train/tablet/" + (try FileManager.default.contentsOfDirectory(atPath: dataset + "/train/tablet")[0]))
        try scratch.write("out/photos/train/laptop/extra.jpg", "x")
        let broken = try PipelineProcess.run(["manifest", "verify", "out/photos/manifest.json"], in: scratch.path)
        #expect(broken.status == 65)
        #expect(broken.stderr.contains("changed   train/laptop/f63799dc270ba4a4.jpg"))
        #expect(broken.stderr.contains("missing   train/tablet/"))
        #expect(broken.stderr.contains("unlisted  train/laptop/extra.jpg"))
        #expect(try PipelineProcess.run(["manifest", "verify", "nothing.json"], in: scratch.path).status == 66)
    }

    /// Truncated, non-image and tiny files are left out with their reason; the same bytes twice under
    /// one label are kept once, under two labels left out of both; splits come out by hash.
    @Test func badPhotosAreLeftOutAndReported() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let photos = try FileManager.default.contentsOfDirectory(atPath: PhotoCatalogue.assets).sorted()
        try FileManager.default.createDirectory(atPath: scratch.file("assets"), withIntermediateDirectories: true)
        func put(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: scratch.file("assets/\(name)"))) }
        var products: [PhotoCatalogue.Product] = []
        // Ten products with four distinct photos each (the same picture with a different JPEG comment).
        for index in 0..<10 {
            let jpeg = Array(try Data(contentsOf: URL(fileURLWithPath: PhotoCatalogue.assets + "/" + photos[index])))
            var names: [String] = []
            for copy in 0..<4 {
                let name = "p\(index)-\(copy).jpg"
                try put(name, TestImages.withComment(jpeg, "copy \(copy)"))
                names.append(name)
            }
            products.append(.init(slug: "product-\(index)", assets: names))
        }
        let shared = Array(try Data(contentsOf: URL(fileURLWithPath: PhotoCatalogue.assets + "/" + photos[20])))
        try put("shared.jpg", shared)
        try put("shared-again.jpg", shared)
        products[0].assets += ["p0-0-again.jpg"]
        try put("p0-0-again.jpg", Array(try Data(contentsOf: URL(fileURLWithPath: scratch.file("assets/p0-0.jpg")))))
        let good = Array(try Data(contentsOf: URL(fileURLWithPath: PhotoCatalogue.assets + "/" + photos[30])))
        try put("truncated.jpg", Array(good.prefix(good.count / 2)))
        try put("text.jpg", Array("this is not a photo\n".utf8))
        try put("tiny.png", TestImages.png(width: 1, height: 1))
        products[1].assets += ["truncated.jpg", "text.jpg", "tiny.png"]
        products.append(.init(slug: "shared-a", assets: ["shared.jpg"]))
        products.append(.init(slug: "shared-b", assets: ["shared-again.jpg"]))
        try scratch.write("products.csv", PhotoCatalogue.csv(products))
        try scratch.write("p.yaml", PhotoCatalogue.pipeline(file: "products.csv", assets: "assets"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let reasons = try PhotoCatalogue.reportReasons(scratch)
        #expect(reasons["truncated.jpg"] == "truncated")
        #expect(reasons["text.jpg"] == "not-an-image")
        #expect(reasons["tiny.png"] == "too-small")
        #expect(reasons["p0-0-again.jpg"] == "duplicate")
        #expect(reasons["shared.jpg"] == "conflict" && reasons["shared-again.jpg"] == "conflict")
        #expect(reasons.count == 6, "\(reasons)")
        #expect(Self.counter("images", result) == 40 && Self.counter("labels", result) == 10)
        #expect(Self.counter("duplicates", result) == 1 && Self.counter("conflicts", result) == 2)
        #expect(!scratch.exists("out/photos/train/shared-a") && !scratch.exists("out/photos/train/shared-b"))
        let splits = Set(PhotoCatalogue.tree(scratch.file("out/photos")).keys.compactMap { $0.split(separator: "/").first.map(String.init) })
        #expect(splits.isSuperset(of: ["train", "validation", "test"]), "\(splits)")
        try PhotoCatalogue.expectConsumersAccept(scratch.file("out/photos"))

        // Too few labels: 65, naming the labels that fell short; the report is still written.
        try scratch.write("p.yaml", PhotoCatalogue.pipeline(file: "products.csv", assets: "assets", extract: "min_images: 5, min_labels: 3"))
        let failed = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
        #expect(failed.status == 65)
        #expect(failed.stderr.contains("only 0 label(s) have at least 5 usable image(s), fewer than min_labels (3)"), "\(failed.stderr)")
        #expect(failed.stderr.contains("product-0 (4)") && failed.stderr.contains("shared-a (0)"))
        #expect(try PhotoCatalogue.reportReasons(scratch)["p3-1.jpg"] == "label-too-small")
    }

    /// A re-run with nothing changed rewrites nothing; a changed catalogue places and removes only the
    /// photos that changed.
    @Test func reRunsTouchOnlyWhatChanged() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.copyItem(atPath: PhotoCatalogue.assets, toPath: scratch.file("assets"))
        let csv = try String(contentsOfFile: PhotoCatalogue.demoCSV, encoding: .utf8)
        try scratch.write("products.csv", csv)
        try scratch.write("p.yaml", PhotoCatalogue.pipeline(file: "products.csv", assets: "assets"))
        #expect(try PipelineProcess.run(["run", "p.yaml"], in: scratch.path).status == 0)
        let before = try PhotoCatalogue.stamps(scratch.file("out/photos"))
        let again = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
        #expect(again.status == 0 && Self.counter("placed", again) == 0 && Self.counter("unchanged", again) == 54, "\(again.stderr)")
        #expect(try PhotoCatalogue.stamps(scratch.file("out/photos")) == before, "a re-run with nothing changed rewrote files")

        // The laptop gets a new photo; nothing else changes.
        let jpeg = Array(try Data(contentsOf: URL(fileURLWithPath: scratch.file("assets/derick-david-409858-unsplash.jpg"))))
        try Data(TestImages.withComment(jpeg, "retouched")).write(to: URL(fileURLWithPath: scratch.file("assets/laptop-new.jpg")))
        try scratch.write("products.csv", csv.replacingOccurrences(of: "derick-david-409858-unsplash.jpg", with: "laptop-new.jpg        "))
        let changed = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(Self.counter("placed", changed) == 1 && Self.counter("removed", changed) == 1 && Self.counter("unchanged", changed) == 53)
        let after = try PhotoCatalogue.stamps(scratch.file("out/photos"))
        let kept = before.filter { $0.key.hasPrefix("train/") && !$0.key.hasPrefix("train/laptop/") && !$0.key.hasSuffix("metadata.jsonl") }
        #expect(kept.allSatisfy { after[$0.key] == $0.value }, "untouched photos were rewritten")
        #expect(after.keys.contains { $0.hasPrefix("train/laptop/") } && !after.keys.contains("train/laptop/f63799dc270ba4a4.jpg"))
    }

    /// Labels by SKU and by facet; an out folder with other files is refused; PostgreSQL gives the same
    /// dataset as SQLite.
    @Test func labelKindsForeignFoldersAndPostgres() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("p.yaml", PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets, extract: "label: \"facet:category\""))
        let byCategory = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(byCategory.status == 0, "\(byCategory.stderr)")
        let categories = try FileManager.default.contentsOfDirectory(atPath: scratch.file("out/photos/train")).filter { $0 != "metadata.jsonl" }.sorted()
        #expect(categories == ["Electronics", "Home-Garden-" + String(try SHA256.hex(of: "Home & Garden").prefix(8)), "Sports-Outdoor-" + String(try SHA256.hex(of: "Sports & Outdoor").prefix(8))], "\(categories)")
        try PhotoCatalogue.expectConsumersAccept(scratch.file("out/photos"))

        try FileManager.default.removeItem(atPath: scratch.file("out"))
        try scratch.write("p.yaml", PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets, extract: "label: sku"))
        let bySKU = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
        #expect(bySKU.status == 0, "\(bySKU.stderr)")
        let reasons = try PhotoCatalogue.reportReasons(scratch)
        #expect(reasons["derick-david-409858-unsplash.jpg"] == "no-label", "the laptop has four variants and only a product photo")
        #expect(scratch.exists("out/photos/train/LU32J590UQUXEN"), "a single-variant product's photo is its SKU's")

        try scratch.write("elsewhere/notes.txt", "mine")
        try scratch.write("q.yaml", PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets).replacingOccurrences(of: "out: out/photos", with: "out: elsewhere").replacingOccurrences(of: "name: photos", with: "name: elsewhere"))
        let refused = try PipelineProcess.run(["run", "q.yaml"], in: scratch.path)
        #expect(refused.status == 78 && refused.stderr.contains("holds files photos.extract did not write ('notes.txt')"), "\(refused.stderr)")
        #expect(try scratch.read("elsewhere/notes.txt") == "mine")

        let postgres = try Scratch()
        defer { postgres.remove() }
        let store = try ProductsTestStore(.postgres, in: postgres)
        defer { store.drop() }
        try postgres.write("p.yaml", PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets).replacingOccurrences(of: "sqlite:store.db", with: store.url))
        let onPostgres = try PipelineProcess.run(["run", "p.yaml"], in: postgres.path)
        #expect(onPostgres.status == 0, "\(onPostgres.stderr)")
        let sqlite = try Scratch()
        defer { sqlite.remove() }
        try sqlite.write("p.yaml", PhotoCatalogue.pipeline(file: PhotoCatalogue.demoCSV, assets: PhotoCatalogue.assets))
        #expect(try PipelineProcess.run(["run", "p.yaml"], in: sqlite.path).status == 0)
        func images(_ scratch: Scratch) throws -> [Substring] {
            try scratch.read("out/photos/.pipeline/dataset.jsonl").split(separator: "\n").filter { !$0.contains("\"kind\":\"dataset\"") }
        }
        #expect(try images(postgres) == images(sqlite))
    }

    /// Settings that cannot work are refused at validation with their place, before anything runs.
    @Test func invalidSettingsAreRefusedWithTheirPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "bad.yaml",
            """
            name: bad
            stages:
              - id: photos
                uses: photos.extract
                with: { out: out, label: "facet:", split: { train: 80, validaton: 20 } }
              - id: more
                uses: photos.extract
                with: { out: out2, split: { train: 70, validation: 10, test: 10 }, link: symlink }
              - id: vertex
                uses: manifest.write
                with: { dataset: out, formats: [vertex-csv, dukarun], uri_prefix: "s3://bucket/ds/" }
            """)
        let result = try PipelineProcess.run(["validate", "bad.yaml"], in: scratch.path)
        #expect(result.status == 78, "\(result.stderr)")
        for expected in [
            "bad.yaml:5:", "'facet:' needs a facet code", "unknown split 'validaton'", "did you mean 'validation'",
            "bad.yaml:8:", "the splits add up to 90%, not 100%", "expected one of copy, hardlink, found 'symlink'",
            "the vertex-csv manifest needs a gs:// uri_prefix, found 's3://bucket/ds/'", "the dukarun manifest needs channel",
        ] {
            #expect(result.stderr.contains(expected), "missing '\(expected)' in \(result.stderr)")
        }
    }
}
