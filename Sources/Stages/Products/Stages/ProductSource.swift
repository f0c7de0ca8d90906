import Pipelines

/// The product blocks of an input file, Vendure CSV or product JSONL, behind one interface for
/// `products.import`.
enum ProductSource {
    case csv(ProductCSVParser)
    case jsonl(ProductJSONLReader)

    /// Opens the file; a Vendure CSV's header is checked here, so a file missing required columns fails
    /// before anything is written.
    static func open(
        _ file: FilePath, format: ProductFormat, currency: CurrencyCode, language: String, rejectsDuplicateSKUs: Bool
    ) throws -> ProductSource {
        switch format {
        case .vendureCSV:
            let options = ProductCSVParser.Options(
                mainLanguage: language, reportsBlankLines: false, rejectsDuplicateSKUs: rejectsDuplicateSKUs)
            return .csv(try ProductCSVParser(path: file.path, currency: currency, options: options))
        case .jsonl:
            return .jsonl(try ProductJSONLReader(path: file.path, rejectsDuplicateSKUs: rejectsDuplicateSKUs))
        }
    }

    func next() throws -> ProductReadItem? {
        switch self {
        case .csv(let parser): try parser.next()
        case .jsonl(let reader): try reader.next()
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

    /// The rows at `lines` of the product block that starts at `position`, as they were in the file, read
    /// again by a reader of their own (for a block rejected after it was parsed, e.g. for its assets).
    func recordTexts(ofBlockAt position: ReaderPosition, lines: [Int]) -> [String] {
        guard let last = lines.max() else { return [] }
        var texts: [Int: String] = [:]
        do {
            switch self {
            case .csv(let parser):
                let reader = try CSVReader(path: parser.path, skipsBlankLines: false, trimsSpaceAroundQuotes: true)
                defer { reader.input.close() }
                try reader.resume(at: position)
                let record = RecordBuffer()
                while let status = try reader.next(into: record), status.line <= last { texts[status.line] = reader.lastRecordText() }
            case .jsonl(let products):
                let reader = try JSONLReader(path: products.path, columns: [])
                defer { reader.input.close() }
                try reader.resume(at: position)
                if try reader.next(into: RecordBuffer()) != nil { texts[position.line] = reader.lastLineText() }
            }
        } catch {
            return lines.map { _ in "" }
        }
        return lines.map { texts[$0] ?? "" }
    }

    /// The 1-based column of the product's and the variants' asset lists, for rejects.
    var assetColumns: (product: Int, variant: Int) {
        switch self {
        case .csv(let parser):
            let names = parser.columnNames
            return (
                (names.firstIndex(of: ProductColumn.assets.rawValue) ?? 0) + 1,
                (names.firstIndex(of: ProductColumn.variantAssets.rawValue) ?? 0) + 1
            )
        case .jsonl: return (1, 1)
        }
    }

    func close() {
        switch self {
        case .csv(let parser): parser.close()
        case .jsonl(let reader): reader.close()
        }
    }
}
