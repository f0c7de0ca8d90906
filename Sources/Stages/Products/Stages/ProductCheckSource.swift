import Pipelines

/// The import file read for the whole-file check of a first `products.import` run: with the
/// duplicate-SKU check on, and asset paths resolved, each product block accepted or rejected whole. At
/// the end of the file it warns of the SKUs that variants of one product share.
final class ProductCheckSource: ImportCheckSource {
    private let source: ProductSource
    private let assets: FilePath?
    private let logger: Logger
    /// Where the unchanged blocks found go, for the feed to skip.
    private let unchanged: UnchangedRuns?
    private var warned = false

    init(source: ProductSource, assets: FilePath?, logger: Logger, unchanged: UnchangedRuns?) {
        self.source = source
        self.assets = assets
        self.logger = logger
        self.unchanged = unchanged
    }

    func nextChecked() throws -> CheckedItem? {
        guard let item = try source.next() else {
            if !warned, let shared = source.sharedSKUs { warn(shared) }
            warned = true
            unchanged?.finish()
            return nil
        }
        if let unchanged {
            var unchangedRows: Int?
            var valuesOf: Int64?
            // A block whose values changed is for the feed to read; the writer need not look its product up.
            if case .unchanged(let block) = item {
                if block.valuesChanged { valuesOf = block.productID } else { unchangedRows = block.variantRows }
            }
            unchanged.classified(line: item.line, next: source.position, unchangedRows: unchangedRows, valuesOf: valuesOf)
        }
        if let rejection = ProductImportRejection.of(item, in: source, assets: assets) {
            return CheckedItem(
                line: rejection.line, rejectedRows: rejection.rows.map(\.error), records: rejection.rows.map { $0.record ?? "" },
                continuesItem: rejection.continuesItem)
        }
        return CheckedItem(line: item.line)
    }

    private func warn(_ shared: SharedSKUReport) {
        for example in shared.examples {
            logger.warning(
                "products.shared_sku",
                "the product at line \(example.line) gives the SKU '\(example.sku)' to several variants; they are told apart by their option values")
        }
        if shared.count > shared.examples.count {
            logger.warning(
                "products.shared_sku", "\(shared.count) SKUs in all are shared by variants of one product; the first \(shared.examples.count) are named above")
        }
    }

    var position: ReaderPosition { source.position }

    func close() {
        unchanged?.finish()
        source.close()
    }
}

/// Why an item of the import file is rejected, if it is.
enum ProductImportRejection {
    /// The reader's own rejection, or a product JSONL block with an asset path that does not resolve
    /// under `assets` (the CSV parser checks those itself).
    static func of(_ item: ProductReadItem, in source: ProductSource, assets: FilePath?) -> ProductRejection? {
        switch item {
        case .rejected(let rejection): return rejection
        case .unchanged: return nil
        case .product(let block):
            guard let assets, case .jsonl = source else { return nil }
            var problem: RowError?
            if let failure = AssetPath.firstProblem(block.assetPaths, under: assets.path) {
                problem = RowError(line: block.line, column: 1, reason: failure.description)
            }
            for variant in block.variants where problem == nil {
                if let failure = AssetPath.firstProblem(variant.assetPaths, under: assets.path) {
                    problem = RowError(line: variant.line, column: 1, reason: failure.description)
                }
            }
            guard let problem else { return nil }
            let record = block.byteOffset.flatMap { source.lineText(at: ReaderPosition(offset: $0, line: block.line)) }
            let lines = block.variants.map(\.line)
            let rows = (lines.isEmpty ? [block.line] : lines).map { line in
                RejectedRow(
                    fields: [],
                    error: line == problem.line
                        ? problem
                        : RowError(
                            line: line, column: 1, reason: "rejected because line \(problem.line) of the same product was rejected"),
                    record: record)
            }
            return ProductRejection(line: block.line, byteOffset: block.byteOffset, rows: rows)
        }
    }
}
