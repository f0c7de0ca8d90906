import Foundation
import Pipelines
import Testing

/// http(s) assets downloaded from a real server on loopback that misbehaves: a 500, a 429 with
/// Retry-After, an answer past the timeout, a cut-off body, a 404, a body over max_bytes, a peer down.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PhotosDownloadTests {
    struct Request: Decodable {
        var path: String
        var arrived: Int?
    }

    @Test func downloadsRetryAndReportWhatTheyCannotGet() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try PeerServer("asset_server.py", ["--root", PhotoCatalogue.assets, "--log", scratch.file("requests.log")])
        defer { server.stop() }
        let base = "http://127.0.0.1:\(server.port)"
        let photos = try FileManager.default.contentsOfDirectory(atPath: PhotoCatalogue.assets).sorted()
        let modes = ["ok", "flaky", "ratelimit", "slow", "truncated", "missing", "big"]
        let products = modes.enumerated().map { index, mode in
            PhotoCatalogue.Product(slug: "product-\(mode)", assets: ["\(base)/\(mode)/\(photos[index])"])
        }
        try scratch.write("products.csv", PhotoCatalogue.csv(products))
        try scratch.write(
            "p.yaml",
            PhotoCatalogue.pipeline(
                file: "products.csv", assets: ".", extract: "download_timeout: 1s, download_retries: 2, max_bytes: 1MB"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(PhotoCatalogue.counter("downloaded", in: result.stderr) == 5)
        #expect(PhotoCatalogue.counter("images", in: result.stderr) == 5)
        let reasons = try PhotoCatalogue.reportReasons(scratch)
        #expect(reasons["\(base)/missing/\(photos[5])"] == "download-refused")
        #expect(reasons["\(base)/big/\(photos[6])"] == "too-large")
        let requests = try scratch.read("requests.log").split(separator: "\n").map {
            try JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }.filter { $0.arrived != nil }
        for mode in ["flaky", "ratelimit", "slow", "truncated"] {
            #expect(requests.filter { $0.path.hasPrefix("/\(mode)/") }.count == 2, "\(mode): \(requests)")
        }
        #expect(requests.filter { $0.path.hasPrefix("/missing/") }.count == 1, "a 404 is not retried")
        // The photo downloaded is the photo served.
        let laptop = try FileManager.default.contentsOfDirectory(atPath: scratch.file("out/photos/train/product-ok"))
        #expect(
            FileManager.default.contents(atPath: scratch.file("out/photos/train/product-ok/\(laptop[0])"))
                == FileManager.default.contents(atPath: PhotoCatalogue.assets + "/" + photos[0]))
        try PhotoCatalogue.expectConsumersAccept(scratch.file("out/photos"))

        // A peer that keeps failing fails the stage (74, to be resumed later), naming the peer only.
        try scratch.write("down.csv", PhotoCatalogue.csv(products + [.init(slug: "product-down", assets: ["\(base)/down/\(photos[8])?token=s3cr3t-t0k3n"])]))
        try scratch.write(
            "down.yaml",
            PhotoCatalogue.pipeline(file: "down.csv", assets: ".", extract: "download_timeout: 1s, download_retries: 1")
                .replacingOccurrences(of: "out/photos", with: "out/down").replacingOccurrences(of: "name: photos", with: "name: down"))
        let down = try PipelineProcess.run(["run", "down.yaml"], in: scratch.path)
        #expect(down.status == 74, "\(down.stderr)")
        #expect(down.stderr.contains("\(base): HTTP 503 (after 2 tries)"), "\(down.stderr)")
        #expect(!down.stderr.contains("s3cr3t-t0k3n"))
    }
}
