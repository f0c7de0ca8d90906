import Foundation
import Pipelines

/// `photos.extract`: gathers the product store's photos into an image-classification dataset laid out as
/// `OUT/<split>/<label>/<file>`, validated from their own bytes, deduplicated by SHA-256, split stably by
/// hash, and kept in step with the catalogue: a re-run places only new images and removes unwanted ones.
///
/// Not chunked: after a kill the stage runs again whole and converges on the same dataset (files appear
/// by rename only, images staged by the killed run are reused), so its result is byte-identical to an
/// uninterrupted run's.
public enum PhotosExtract: StageKind {
    public struct Config: Sendable {
        var out: FilePath
        var assets: FilePath?
        var label: PhotoLabel
        var minImages: Int
        var minLabels: Int
        var minPixels: Int
        var maxBytes: ByteCount
        var split: SplitShares
        var link: PhotoLink
        var includeVariantAssets: Bool
        var report: FilePath?
        var downloadTimeout: Duration
        var downloadRetries: Int
    }

    public static let name = "photos.extract"
    public static let summary = "Gather the product store's photos into an image dataset (OUT/<split>/<label>/<file>), validated, deduplicated and split stably"

    static let out = Parameter<FilePath>.required("out", doc: "the dataset folder (new, empty, or an earlier extraction's)")
    static let assets = Parameter<FilePath?>.optional(
        "assets", doc: "the folder local asset paths are relative to (as given to products.import); never left through .. or a link")
    static let label = Parameter<PhotoLabel>.optional(
        "label", default: .product, doc: "what names a class: the product's slug, the variant's SKU, or a product facet's value")
    static let minImages = Parameter<Int>.optional("min_images", default: 1, doc: "labels with fewer images are dropped, with a warning").within(1...1_000_000)
    static let minLabels = Parameter<Int>.optional("min_labels", default: 2, doc: "fewer labels left fails the stage (65)").within(1...1_000_000)
    static let minPixels = Parameter<Int>.optional("min_pixels", default: 32, doc: "images narrower or lower are left out").within(1...65_535)
    static let maxBytes = Parameter<ByteCount>.optional(
        "max_bytes", default: ByteCount(30_000_000), doc: "images (and downloads) larger are left out"
    ).within(ByteCount(1)...ByteCount(1 << 30))
    static let split = Parameter<SplitShares>.optional("split", default: .standard, doc: "percent of images per split")
    static let link = Parameter<PhotoLink>.optional(
        "link", default: .copy, doc: "copy the images, or hard-link them to the assets (same file system; a changed asset then changes the dataset)")
    static let includeVariantAssets = Parameter<Bool>.optional(
        "include_variant_assets", default: true, doc: "also take the variants' own photos")
    static let report = Parameter<FilePath?>.optional(
        "report", doc: "CSV of the photos left out and why; default var/STAGE.report.csv beside the pipeline")
    static let downloadTimeout = Parameter<Duration>.optional(
        "download_timeout", default: .seconds(30), doc: "per http(s) asset request")
    static let downloadRetries = Parameter<Int>.optional(
        "download_retries", default: 3, doc: "tries after the first on 429, 5xx, timeouts and broken connections"
    ).within(0...20)

    public static let parameters = ParameterSet(
        out, assets, label, minImages, minLabels, minPixels, maxBytes, split, link, includeVariantAssets, report, downloadTimeout,
        downloadRetries
    ) { out, assets, label, minImages, minLabels, minPixels, maxBytes, split, link, includeVariantAssets, report, downloadTimeout, downloadRetries in
        Config(
            out: out, assets: assets, label: label, minImages: minImages, minLabels: minLabels, minPixels: minPixels, maxBytes: maxBytes,
            split: split, link: link, includeVariantAssets: includeVariantAssets, report: report, downloadTimeout: downloadTimeout,
            downloadRetries: downloadRetries)
    }

    static let photos = Counter("photos", unit: "photos", doc: "photos of the store considered")
    static let images = Counter("images", unit: "images", doc: "images in the dataset")
    static let labels = Counter("labels", unit: "labels", doc: "labels in the dataset")
    static let excluded = Counter("excluded", unit: "photos", doc: "photos left out (listed in the report with the reason)")
    static let duplicates = Counter("duplicates", unit: "photos", doc: "the same bytes again under one label, kept once")
    static let conflicts = Counter("conflicts", unit: "photos", doc: "the same bytes under two labels, left out of both")
    static let placed = Counter("placed", unit: "files", doc: "image files written, linked or moved into the dataset")
    static let unchanged = Counter("unchanged", unit: "files", doc: "image files already in place, left untouched")
    static let removed = Counter("removed", unit: "files", doc: "image files no longer wanted, removed")
    static let downloaded = Counter("downloaded", unit: "photos", doc: "http(s) assets downloaded")
    public static let counters = [photos, images, labels, excluded, duplicates, conflicts, placed, unchanged, removed, downloaded]

    static let datasetOutput = Output<FilePath>("dataset", doc: "the dataset folder")
    static let indexOutput = Output<FileDigest>("index", doc: "the dataset's index (.pipeline/dataset.jsonl), which manifest.write reads")
    static let reportOutput = Output<FileDigest>("report", doc: "the CSV of photos left out")
    static let imagesOutput = Output<Int64>("images", doc: "the number of images in the dataset")
    public static let outputs = [datasetOutput.declaration, indexOutput.declaration, reportOutput.declaration, imagesOutput.declaration]

    public static let execution = StageExecution.whole()

    public static func check(_ config: Config, in workspace: Workspace) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let assets = config.assets, FileSupport.isSameFile(assets.path, config.out.path) {
            issues.append(ConfigIssue("out must not be the assets folder", parameter: "out"))
        }
        return issues
    }

    public static func effects(of config: Config, in workspace: Workspace) -> StageEffects {
        StageEffects(
            reads: ["product store in \(workspace.database)"] + (config.assets.map { ["photos under \($0.path)"] } ?? []),
            writes: ["dataset \(config.out.path)", "report \(reportPath(config, workspace))"])
    }

    static func reportPath(_ config: Config, _ workspace: Workspace, stage: String = "<stage id>") -> String {
        config.report?.path ?? "\(workspace.workDirectory)/\(stage).report.csv"
    }

    public static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
        let store = try context.database()
        let folder = DatasetFolder(root: config.out.path)
        try folder.prepare()
        let scratch = try PhotoScratch(logger: context.logger)
        defer { scratch.close() }

        let candidates = try store.inReadTransaction {
            try PhotoCatalog(label: config.label, includeVariantAssets: config.includeVariantAssets).load(from: store, into: scratch)
        }
        context.logger.info("photos.catalog", "the store has \(candidates) photo(s) to consider")
        let loader = PhotoLoader(
            assets: config.assets.map { AssetPath.Folder($0.path) }, maxBytes: config.maxBytes.bytes, minPixels: config.minPixels,
            fetch: HTTPFetch(headers: ["User-Agent: pipeline"], timeout: config.downloadTimeout, retries: config.downloadRetries, maxBytes: Int(config.maxBytes.bytes)),
            folder: folder, link: config.link, checkpoints: context.checkpoints)
        var tally = PhotoLoader.Tally()
        var done: Int64 = 0
        var batch: [(PhotoScratch.Candidate, labelFolder: String?)] = []
        func inspectBatch() throws {
            try context.checkpoints.stopIfRequested()
            let (inspections, counted) = try loader.inspect(batch)
            for inspection in inspections { try scratch.record(inspection) }
            tally = tally + counted
            done += Int64(batch.count)
            batch.removeAll(keepingCapacity: true)
            context.progress(unit: "photos", count: done, done: done, total: candidates)
        }
        try scratch.each(
            "SELECT seq, label, label_name, product_id, product_name, sku, asset_id, asset, problem FROM candidates ORDER BY seq"
        ) { row in
            let candidate = PhotoScratch.Candidate(
                seq: row.int64(0) ?? 0, label: row.string(1), labelName: row.string(2) ?? "", productID: row.int64(3) ?? 0,
                productName: row.string(4) ?? "", sku: row.string(5), assetID: row.int64(6) ?? 0, asset: row.string(7) ?? "",
                problem: row.string(8))
            if candidate.problem == nil {
                batch.append((candidate, try candidate.label.map(DatasetFolder.folderName(for:))))
                if batch.count == 64 { try inspectBatch() }
            } else {
                try scratch.record(PhotoScratch.Inspection(seq: candidate.seq))
                done += 1
            }
        }
        if !batch.isEmpty { try inspectBatch() }
        context.progress(unit: "photos", count: done, done: done, total: candidates, finished: true)

        let selection = PhotoSelection(minImages: config.minImages, minLabels: config.minLabels, shares: config.split)
        let reportPath = reportPath(config, context.workspace, stage: context.stageID)
        let chosen: PhotoSelection.Result
        do {
            chosen = try selection.select(in: scratch, logger: context.logger)
        } catch {
            _ = try? PhotoReport.write(from: scratch, to: reportPath, owner: context.checkpoints.key)
            throw error
        }
        try context.checkpoints.stopIfRequested()
        let sync = try DatasetSync(folder: folder, link: config.link, logger: context.logger).run(scratch)
        if sync.copiedForLink > 0 {
            context.logger.warning(
                "photos.link-copied", "\(sync.copiedForLink) image(s) were copied: their assets lie on another file system than \(config.out.path)")
        }
        let header = DatasetIndex.Header(
            labelBy: config.label.parameterDisplay, shares: config.split, store: context.workspace.database.redacted,
            pipeline: context.run.pipeline, runIdentity: String(context.run.identity.prefix(12)), stage: context.stageID)
        let index = try DatasetIndex.write(header, from: scratch, to: folder.indexPath, owner: context.checkpoints.key)
        let report = try PhotoReport.write(from: scratch, to: reportPath, owner: context.checkpoints.key)
        if report.rows > 0 {
            context.logger.warning("photos.excluded", "\(report.rows) photo(s) left out; see \(reportPath)")
        }
        context.logger.info(
            "photos.done",
            "dataset \(config.out.path): \(chosen.kept) images under \(chosen.labels) labels (\(sync.placed) placed, \(sync.unchanged) unchanged, \(sync.removed) removed)")
        return StageOutcome(
            counts: [
                photos: candidates, images: chosen.kept, labels: chosen.labels, excluded: report.rows, duplicates: chosen.duplicates,
                conflicts: chosen.conflicts, placed: sync.placed + sync.moved, unchanged: sync.unchanged, removed: sync.removed,
                downloaded: tally.downloaded,
            ],
            outputs: [
                datasetOutput.value(config.out), indexOutput.value(index), reportOutput.value(report.file),
                imagesOutput.value(chosen.kept),
            ])
    }
}
