import Foundation
import Pipelines

/// The whole-file check of a first `products.import` run, on its own thread: it reads the file with the
/// duplicate-SKU check on, lists every rejected row in the rejects file, and at the end passes or fails
/// the file against `max_rejects`. The writer commits nothing before it has passed, so a failed check
/// leaves the store as it was.
///
/// It only parses (no rows are worked out), so it runs ahead of the feed; the feed asks it, line by line,
/// which blocks it rejected (`isRejected`), waiting in the rare case that the check is not there yet.
final class ProductImportCheck: @unchecked Sendable {
    /// What the check found in the whole file.
    struct Verdict {
        /// The counts of the rejected blocks.
        var rejects = ProductImportCounts()
        /// First lines of the rejected blocks.
        var rejectedLines: [Int] = []
    }

    private let worker = WorkerThread<Verdict>()
    private var condition: NSCondition { worker.condition }
    /// Under `condition`: every block starting before this line has been checked.
    private var checkedBefore = 0
    /// Under `condition`: first lines of the blocks rejected so far; kept only while within `max_rejects`.
    private var rejected = Set<Int>()

    /// Starts checking `source` (a parser with the duplicate-SKU check on, at the file's first block).
    init(source: ProductSource, config: ProductsImport.Config, rejectsPath: String) {
        worker.start { [self] in
            defer { source.close() }
            return try check(source, config: config, rejectsPath: rejectsPath)
        }
    }

    /// The verdict once the whole file was checked, without waiting; throws a failed check.
    func verdictIfDone() throws -> Verdict? { try worker.resultIfDone() }

    /// Waits for the verdict; throws a failed check.
    func verdict() throws -> Verdict { try worker.result() }

    /// Whether the block starting at `line` was rejected, once the check has got past it. Throws the
    /// check's failure: past `max_rejects` nothing is to be stored.
    func isRejected(line: Int) throws -> Bool {
        try condition.withLock {
            while checkedBefore <= line && worker.outcome == nil { condition.wait() }
            if case .failure(let error) = worker.outcome { throw error }
            return rejected.contains(line)
        }
    }

    /// Stops the check and waits until its thread has exited.
    func close() { worker.cancelAndWait() }

    private func check(_ source: ProductSource, config: ProductsImport.Config, rejectsPath: String) throws -> Verdict {
        let rejects = RejectsFile(path: rejectsPath)
        var verdict = Verdict()
        var last: RowError?
        // Past max_rejects the file is still read to the end, so that every bad row is listed in one go.
        var failing = false
        do {
            var items = 0
            while let item = try source.next() {
                if let rejection = ProductImportRejection.of(item, in: source, assets: config.assets) {
                    verdict.rejects.reject(rejection)
                    for row in rejection.rows { try rejects.add(row.error) }
                    last = rejection.rows.first?.error ?? last
                    failing = verdict.rejects.rowsRejected > Int64(config.maxRejects)
                    if !failing {
                        verdict.rejectedLines.append(rejection.line)
                        condition.withLock { _ = rejected.insert(rejection.line) }
                    }
                }
                items += 1
                if items % 64 == 0 || failing {
                    let next = source.position.line
                    let stop = condition.withLock {
                        checkedBefore = next
                        condition.broadcast()
                        return worker.isCancelled
                    }
                    if stop { throw PipelineError(.internal, "the whole-file check was stopped") }
                }
            }
            try rejects.finish()
        } catch {
            try? rejects.finish()
            throw error
        }
        if failing, let last {
            throw PipelineError(
                .data,
                "\(verdict.rejects.rowsRejected) rejected rows, more than max_rejects \(config.maxRejects) "
                    + "(last: \(last.located(in: config.file.path))); nothing was written to the product store; "
                    + "rejects are listed in \(rejectsPath)")
        }
        return verdict
    }
}

/// Why an item of the import file is rejected, if it is.
enum ProductImportRejection {
    /// The reader's own rejection, or a block with an asset path that does not resolve under `assets`.
    static func of(_ item: ProductReadItem, in source: ProductSource, assets: FilePath?) -> ProductRejection? {
        switch item {
        case .rejected(let rejection): return rejection
        case .product(let block):
            guard let assets else { return nil }
            let columns = source.assetColumns
            var problem: RowError?
            for path in block.assetPaths {
                if case .failure(let failure) = AssetPath.resolve(path, under: assets.path) {
                    problem = RowError(line: block.line, column: columns.product, reason: failure.description)
                    break
                }
            }
            for variant in block.variants where problem == nil {
                for path in variant.assetPaths {
                    if case .failure(let failure) = AssetPath.resolve(path, under: assets.path) {
                        problem = RowError(line: variant.line, column: columns.variant, reason: failure.description)
                        break
                    }
                }
            }
            guard let problem else { return nil }
            let lines = block.variants.map(\.line)
            let rows = (lines.isEmpty ? [block.line] : lines).map { line in
                RejectedRow(
                    fields: [],
                    error: line == problem.line
                        ? problem
                        : RowError(
                            line: line, column: 1,
                            reason: "rejected because line \(problem.line) of the same product was rejected"))
            }
            return ProductRejection(line: block.line, byteOffset: block.byteOffset, rows: rows)
        }
    }
}
