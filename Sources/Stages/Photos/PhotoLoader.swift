import Foundation
import Pipelines

/// Gets each candidate photo's bytes (a file under the assets folder, or a download), and judges them by
/// their own content: SHA-256, format and size from the header, the byte and pixel limits. New images are
/// staged in the dataset's folder at once in copy mode, so each file is read once.
///
/// Unchecked Sendable: every member is immutable, and of `checkpoints` only the stop flag (an atomic read)
/// is used from the worker threads.
struct PhotoLoader: @unchecked Sendable {
    let assets: AssetPath.Folder?
    let maxBytes: Int64
    let minPixels: Int
    let fetch: HTTPFetch
    let folder: DatasetFolder
    let link: PhotoLink
    let checkpoints: Checkpoints

    struct Tally {
        var downloaded: Int64 = 0

        static func + (left: Tally, right: Tally) -> Tally { Tally(downloaded: left.downloaded + right.downloaded) }
    }

    /// Inspects candidates two at a time (one per core: reading, hashing and writing files overlap),
    /// giving the inspections in the candidates' order.
    func inspect(_ batch: [(PhotoScratch.Candidate, labelFolder: String?)]) throws -> (inspections: [PhotoScratch.Inspection], tally: Tally) {
        let results = ResultSlots<(PhotoScratch.Inspection, Tally)>(count: batch.count)
        DispatchQueue.concurrentPerform(iterations: batch.count) { index in
            var tally = Tally()
            results.set(index, Result { (try inspect(batch[index].0, labelFolder: batch[index].labelFolder, tally: &tally), tally) })
        }
        var inspections: [PhotoScratch.Inspection] = []
        var tally = Tally()
        for result in results.values {
            let (inspection, counted) = try result.get()
            inspections.append(inspection)
            tally = tally + counted
        }
        return (inspections, tally)
    }

    func inspect(_ candidate: PhotoScratch.Candidate, labelFolder: String?, tally: inout Tally) throws -> PhotoScratch.Inspection {
        var inspection = PhotoScratch.Inspection(seq: candidate.seq)
        func problem(_ reason: String, _ detail: String) -> PhotoScratch.Inspection {
            inspection.reason = reason
            inspection.detail = detail
            return inspection
        }
        let bytes: [UInt8]
        var localPath: String?
        // Without an assets folder only URLs resolve; a local path is refused below.
        switch assets.map({ $0.resolve(candidate.asset) }) ?? AssetPath.resolve(candidate.asset, under: ".") {
        case .success(.url(let url)):
            switch try download(url, of: candidate) {
            case .success(let body):
                bytes = body
                tally.downloaded += 1
            case .failure(let failure): return problem(failure.reason, failure.detail)
            }
        case .success(.file(let path)):
            guard assets != nil else {
                throw PipelineError(
                    .config,
                    "product \(candidate.productID) has the local asset '\(candidate.asset)', but photos.extract has no 'assets' folder to find it in")
            }
            do {
                let size = try FileSupport.size(of: path)
                guard size <= maxBytes else {
                    return problem("too-large", "\(size) bytes, over max_bytes (\(ByteCount(maxBytes).parameterDisplay))")
                }
                bytes = try FileSupport.readWholeFile(path, limit: Int(maxBytes))
            } catch let error as PipelineError {
                return problem("unreadable", error.message)
            }
            localPath = path
        case .failure(let pathProblem):
            return problem(pathProblem.isMissing ? "missing" : "outside-assets", pathProblem.description)
        }
        let sha256 = try bytes.withUnsafeBytes { try SHA256.hex(ofBytes: $0) }
        inspection.sha256 = sha256
        inspection.bytes = Int64(bytes.count)
        let header: ImageHeader
        switch ImageHeader.inspect(bytes) {
        case .success(let found): header = found
        case .failure(let imageProblem): return problem(imageProblem.code, imageProblem.description)
        }
        inspection.header = header
        guard header.width >= minPixels, header.height >= minPixels else {
            return problem("too-small", "\(header.width)×\(header.height) pixels, under min_pixels (\(minPixels))")
        }
        let name = DatasetFolder.fileName(sha256: sha256, format: header.format)
        let alreadyInDataset = labelFolder.map { folder.holds(labelFolder: $0, name: name, size: Int64(bytes.count)) } == true
        if let localPath, link == .hardlink || alreadyInDataset {
            inspection.source = localPath
        } else if alreadyInDataset {
            inspection.source = nil
        } else {
            inspection.source = try folder.stage(bytes, sha256: sha256, format: header.format)
        }
        return inspection
    }

    private struct DownloadProblem: Error {
        var reason: String
        var detail: String
    }

    /// The body of a 2xx answer; a refusal (another status, a body over the limit) is the photo's problem;
    /// a peer that keeps failing fails the stage, to be resumed when it answers again.
    private func download(_ url: String, of candidate: PhotoScratch.Candidate) throws -> Result<[UInt8], DownloadProblem> {
        do {
            let response = try fetch.get(url, stop: { [checkpoints] in checkpoints.isStopRequested })
            guard response.isSuccess else {
                return .failure(DownloadProblem(reason: "download-refused", detail: "HTTP \(response.status) from \(Transfer.peer(of: url))"))
            }
            return .success(response.body)
        } catch {
            if error.code == .tooLarge {
                return .failure(DownloadProblem(reason: "too-large", detail: "the download is over max_bytes (\(ByteCount(maxBytes).parameterDisplay))"))
            }
            guard error.isRetryable else { return .failure(DownloadProblem(reason: "download-refused", detail: error.message)) }
            try checkpoints.stopIfRequested()
            // The message names the peer, never the URL's path or query, which may carry a token.
            throw PipelineError(
                .io, "cannot download asset \(candidate.assetID) of product \(candidate.productID): \(error.message); run again to resume",
                isTransient: true)
        }
    }
}

/// One result per index, each written once by whichever thread computes it.
private final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Result<Value, any Error>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, any Error>) { lock.withLock { slots[index] = result } }

    var values: [Result<Value, any Error>] {
        lock.withLock { slots.map { $0 ?? .failure(PipelineError(.internal, "a photo was not inspected")) } }
    }
}

extension AssetPath.Problem {
    var isMissing: Bool { if case .missing = self { true } else { false } }
}
