import Pipelines

/// The product blocks of an input file, Vendure CSV or product JSONL, behind one interface for
/// `products.import`.
enum ProductSource {
    case csv(ProductCSVParser)
    case jsonl(ProductJSONLReader)

    /// Opens the file; a Vendure CSV's header is checked here, so a file missing required columns fails
    /// before anything is written. The CSV parser checks asset paths under `assets` itself (it hands large
    /// blocks out in parts); for product JSONL, `ProductImportRejection` does.
    static func open(
        _ file: FilePath, format: ProductFormat, currency: CurrencyCode, language: String, duplicateSKUs: DuplicateSKUs?,
        assets: FilePath?, sourceSettings: String? = nil, shapeDigests: Bool = false, checksValuesAlone: Bool = false
    ) throws -> ProductSource {
        switch format {
        case .vendureCSV:
            let options = ProductCSVParser.Options(
                mainLanguage: language, reportsBlankLines: false, duplicateSKUs: duplicateSKUs,
                assets: assets?.path, sourceSettings: sourceSettings, shapeDigests: shapeDigests, checksValuesAlone: checksValuesAlone)
            return .csv(try ProductCSVParser(path: file.path, currency: currency, options: options))
        case .jsonl:
            return .jsonl(try ProductJSONLReader(path: file.path, duplicateSKUs: duplicateSKUs))
        }
    }

    /// Blocks the store holds as they make it come back as `.unchanged` (Vendure CSV only; product JSONL
    /// blocks are always compared row by row). Takes `index` over, closing it with the source.
    func skipUnchanged(_ index: ProductSourceIndex) throws {
        guard case .csv(let parser) = self else { return index.close() }
        try parser.skipUnchanged(index)
    }

    func next() throws -> ProductReadItem? {
        switch self {
        case .csv(let parser): try parser.next()
        case .jsonl(let reader): try reader.next()
        }
    }

    /// The SKUs shared within products so far (when the duplicate check is on).
    var sharedSKUs: SharedSKUReport? {
        switch self {
        case .csv(let parser): parser.skuCheck?.shared
        case .jsonl(let reader): reader.skuCheck?.shared
        }
    }

    /// Where the next product starts.
    var position: ReaderPosition {
        switch self {
        case .csv(let parser): parser.position
        case .jsonl(let reader): reader.position
        }
    }

    func resume(at position: ReaderPosition) throws {
        switch self {
        case .csv(let parser): try parser.resume(at: position)
        case .jsonl(let reader): try reader.resume(at: position)
        }
    }

    /// The product line at `position` of a product JSONL file, as it was in the file (for a product
    /// rejected after it was parsed, for its assets); nil for a CSV.
    func lineText(at position: ReaderPosition) -> String? {
        guard case .jsonl(let products) = self else { return nil }
        do {
            let reader = try JSONLReader(path: products.path, columns: [])
            defer { reader.input.close() }
            try reader.resume(at: position)
            return try reader.next(into: RecordBuffer()) != nil ? reader.lastLineText() : nil
        } catch {
            return nil
        }
    }

    func close() {
        switch self {
        case .csv(let parser): parser.close()
        case .jsonl(let reader): reader.close()
        }
    }
}
