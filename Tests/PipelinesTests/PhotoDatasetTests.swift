import Foundation
@testable import Pipelines
@testable import Stages
import TestImages
import Testing

@Suite(.timeLimit(.minutes(1))) struct ImageHeaderTests {
    @Test func readsTheSizeOfARealJPEG() throws {
        let header = try ImageHeader.inspect(try TestImages.vendureJPEG("daniel-korpai-1302051-unsplash.jpg")).get()
        #expect(header == ImageHeader(format: .jpeg, width: 1280, height: 1600))
    }

    @Test func readsPNGGIFAndWebPHeaders() throws {
        #expect(try ImageHeader.inspect(TestImages.png(width: 640, height: 480)).get() == ImageHeader(format: .png, width: 640, height: 480))
        #expect(try ImageHeader.inspect(TestImages.gif(width: 300, height: 200)).get() == ImageHeader(format: .gif, width: 300, height: 200))
        #expect(
            try ImageHeader.inspect(TestImages.webpLossless(width: 1024, height: 77)).get()
                == ImageHeader(format: .webp, width: 1024, height: 77))
    }

    @Test func judgesByContentNotName() throws {
        #expect(ImageHeader.inspect([]) == .failure(.empty))
        #expect(ImageHeader.inspect(Array("this is a text file named photo.jpg\n".utf8)) == .failure(.notAnImage))
        let jpeg = try TestImages.vendureJPEG()
        #expect(ImageHeader.inspect(Array(jpeg.prefix(jpeg.count / 2))) == .failure(.truncated(.jpeg)))
        #expect(ImageHeader.inspect(Array(jpeg.prefix(100))) == .failure(.truncated(.jpeg)))
        let png = TestImages.png(width: 10, height: 10)
        #expect(ImageHeader.inspect(Array(png.dropLast(12))) == .failure(.truncated(.png)))
        #expect(ImageHeader.inspect(Array(TestImages.gif(width: 4, height: 4).dropLast())) == .failure(.truncated(.gif)))
        #expect(ImageHeader.inspect(Array(TestImages.webpLossless(width: 4, height: 4).dropLast(20))) == .failure(.truncated(.webp)))
        // A JPEG comment changes the bytes, not the picture: still whole.
        #expect(try ImageHeader.inspect(TestImages.withComment(jpeg, "copy 2")).get().width == 1600)
    }

    @Test func neverTrapsOnArbitraryBytes() {
        var generator = SeededGenerator(seed: 7)
        let starts: [[UInt8]] = [[0xFF, 0xD8, 0xFF], [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], Array("GIF89a".utf8), Array("RIFF".utf8)]
        for round in 0..<2000 {
            let length = Int.random(in: 0...200, using: &generator)
            let bytes = starts[round % starts.count] + (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = ImageHeader.inspect(bytes)
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct PhotoDatasetRulesTests {
    @Test func safeLabelsKeepTheirNameOthersGetAHash() throws {
        #expect(try DatasetFolder.folderName(for: "laptop") == "laptop")
        #expect(try DatasetFolder.folderName(for: "404.038.96") == "404.038.96")
        let unsafe = try DatasetFolder.folderName(for: "Café / Bar")
        #expect(unsafe.hasPrefix("Caf-Bar-") && unsafe.count == "Caf-Bar-".count + 8)
        #expect(try DatasetFolder.folderName(for: "a/b") != DatasetFolder.folderName(for: "a b"))
        for hostile in ["..", ".", "", "../etc", String(repeating: "x", count: 300)] {
            let name = try DatasetFolder.folderName(for: hostile)
            #expect(!name.hasPrefix(".") && !name.contains("/") && name.utf8.count <= 100, "\(hostile) -> \(name)")
        }
    }

    @Test func splitsAreStableWhenPhotosComeAndGo() throws {
        let shares = SplitShares.standard
        func split(_ label: String, _ index: Int) throws -> String {
            let sha = try SHA256.hex(of: "\(label)-\(index)")
            return shares.split(at: Int(try PhotoSelection.score(label: label, sha256: sha) % 10_000))
        }
        let before = try (0..<500).map { try split("chair", $0) }
        let after = try (0..<500).map { try split("chair", $0) }
        #expect(before == after)
        let counts = Dictionary(grouping: before, by: { $0 }).mapValues(\.count)
        #expect((360...440).contains(counts["train"] ?? 0), "\(counts)")
        #expect((25...75).contains(counts["validation"] ?? 0) && (25...75).contains(counts["test"] ?? 0), "\(counts)")
    }

    @Test func vertexDisplayNamesFitVertexRules() {
        #expect(ManifestDataset.vertexName("laptop") == "laptop")
        #expect(ManifestDataset.vertexName("32-inch-monitor") == "L_32_inch_monitor")
        let long = ManifestDataset.vertexName(String(repeating: "ab-", count: 30))
        #expect(long.count == 32 && long.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
    }

    @Test func relativePathsFromManifestToDataset() {
        #expect(NativeManifest.relativePath(from: "/a/ds", to: "/a/ds") == ".")
        #expect(NativeManifest.relativePath(from: "/a/manifests", to: "/a/ds") == "../ds")
    }
}
