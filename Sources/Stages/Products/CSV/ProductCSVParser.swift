import Pipelines

/// What the parser hands back: a whole product, or the rows it had to reject.
public enum ProductReadItem: Sendable, Equatable {
    case product(ProductBlock)
    case rejected(ProductRejection)
}

/// Rows that produce nothing: a product block with at least one bad row (every row of the block is
/// listed, the good ones rejected because of the bad one), or a row that belongs to no product.
public struct ProductRejection: Sendable, Equatable {
    /// 1-based line of the first rejected row.
    public var line: Int
    /// Byte offset of the first rejected row.
    public var byteOffset: Int64?
    public var rows: [RejectedRow]

    public var errors: [RowError] { rows.map(\.error) }
}

public struct RejectedRow: Sendable, Equatable {
    /// The cells as read (nil for an empty unquoted cell); incomplete when the CSV itself was broken.
    public var fields: [String?]
    public var error: RowError
    /// The row as it was in the file, for the rejects file; nil where it is not known.
    public var record: String? = nil
}

/// Reads Vendure's product import CSV one product at a time: the product row and the variant rows below
/// it (rows with an empty name). Memory holds one product; the SKUs seen so far, to catch duplicates
/// (see `Options.rejectsDuplicateSKUs`), go to a temporary database on disk (`SeenSKUs`).
///
/// The header is checked when the parser is made: a file missing required columns, mixing translated and
/// untranslated columns of one field, or missing a translation is rejected whole, before any product,
/// with Vendure's messages. Blank lines do not end a product; like Vendure, they are reported as rows of
/// the wrong length (unless `reportsBlankLines` is off) but reject nothing.
public final class ProductCSVParser {
    public struct Options: Sendable {
        /// The language of untranslated columns, and of products in files without translated columns.
        public var mainLanguage: String
        public var reportsBlankLines: Bool
        /// A SKU used by an earlier row of the file makes its row bad. Vendure itself allows duplicates
        /// (its demo catalogue has one); turning this off also spares the temporary database of seen SKUs.
        public var rejectsDuplicateSKUs: Bool

        public init(mainLanguage: String = "en", reportsBlankLines: Bool = true, rejectsDuplicateSKUs: Bool = true) {
            self.mainLanguage = mainLanguage
            self.reportsBlankLines = reportsBlankLines
            self.rejectsDuplicateSKUs = rejectsDuplicateSKUs
        }
    }

    public let path: String
    public let currency: CurrencyCode
    /// The header's column names, trimmed.
    public var columnNames: [String] { header.names }
    /// The languages of the file, in header order.
    public var languages: [String] { header.languages }

    private let options: Options
    private let header: ProductCSVHeader
    private let rowReader: ProductRowReader
    private let reader: CSVReader
    private let record = RecordBuffer()
    private var lookahead: RawRow?
    private var queued: [ProductReadItem] = []
    private let seenSKUs: SeenSKUs?
    private var reachedEnd = false

    public init(path: String, currency: CurrencyCode, options: Options = Options()) throws {
        self.path = path
        self.currency = currency
        self.options = options
        // Vendure reads with csv-parse's `trim: true`: its files pad quoted cells (`, "a, b"  ,`).
        reader = try CSVReader(path: path, skipsBlankLines: false, trimsSpaceAroundQuotes: true)
        var headerLine = 1
        var names: [String] = []
        let headerRecord = RecordBuffer()
        while names.isEmpty {
            guard let status = try reader.next(into: headerRecord) else {
                throw PipelineError(.data, "\(path): the file is empty, expected a header line")
            }
            if let error = status.error { throw error.pipelineError(file: path) }
            headerLine = status.line
            names = (0..<headerRecord.count).map { headerRecord.string($0) ?? "" }
            if names.allSatisfy({ $0.trimmingPadding().isEmpty }) { names = [] }
        }
        do {
            header = try ProductCSVHeader(names: names, mainLanguage: options.mainLanguage)
        } catch {
            throw PipelineError(.data, error.message, location: SourceLocation(file: path, line: headerLine, column: error.column))
        }
        rowReader = ProductRowReader(header: header, currency: currency)
        seenSKUs = options.rejectsDuplicateSKUs ? try SeenSKUs() : nil
    }

    /// Where the next product block starts (after the one `next()` returned last), to resume there.
    public var position: ReaderPosition {
        if let row = lookahead, let offset = row.byteOffset { return ReaderPosition(offset: offset, line: row.line) }
        return reader.position
    }

    /// Continues at a `position` taken from an earlier parser of the same file. SKUs read before it are
    /// not known to the duplicate check.
    public func resume(at position: ReaderPosition) throws {
        lookahead = nil
        queued = []
        reachedEnd = false
        try reader.resume(at: position)
    }

    /// Bytes read so far and the file's size, for progress.
    public var bytesRead: Int64 { reader.input.position }
    public var fileSize: Int64? { reader.input.fileSize }

    public func close() {
        reader.input.close()
        seenSKUs?.close()
    }

    /// The next product or rejection; nil at the end of the file.
    public func next() throws -> ProductReadItem? {
        if !queued.isEmpty { return queued.removeFirst() }
        while true {
            guard let first = try takeRow() else { return nil }
            if first.isBlank {
                if let report = blankLineReport(first) { return report }
                continue
            }
            guard startsProduct(first) else {
                return .rejected(ProductRejection(
                    line: first.line, byteOffset: first.byteOffset,
                    rows: [RejectedRow(fields: first.fields, error: first.readError ?? RowError(
                        line: first.line, column: (header.productNameIndex ?? 0) + 1,
                        reason: "a variant row (empty name) without a product row above it"), record: recordText(of: first))]))
            }
            var rows = [first]
            while let row = try takeRow() {
                if row.isBlank {
                    if let report = blankLineReport(row) { queued.append(report) }
                    continue
                }
                if startsProduct(row) {
                    lookahead = row
                    break
                }
                rows.append(row)
            }
            return try assemble(rows)
        }
    }

    // MARK: - Rows

    private struct RawRow {
        var line: Int
        var byteOffset: Int64?
        var byteLength = 0
        var fields: [String?]
        var readError: RowError?

        var isBlank: Bool { readError == nil && fields.allSatisfy { ($0 ?? "").trimmingPadding().isEmpty } && fields.count <= 1 }
        var cells: [String] { fields.map { ($0 ?? "").trimmingPadding() } }
    }

    private func takeRow() throws -> RawRow? {
        if let row = lookahead {
            lookahead = nil
            return row
        }
        guard !reachedEnd else { return nil }
        let offset = reader.input.position
        guard let status = try reader.next(into: record) else {
            reachedEnd = true
            return nil
        }
        let fields = (0..<record.count).map { record.string($0) }
        return RawRow(
            line: status.line, byteOffset: offset, byteLength: Int(reader.input.position - offset), fields: fields,
            readError: status.error)
    }

    /// A rejected row as it was in the file, read back (rejections are rare; rows are not kept as text).
    private func recordText(of row: RawRow) -> String? {
        row.byteOffset.map { reader.recordText(offset: $0, length: row.byteLength) }
    }

    private func startsProduct(_ row: RawRow) -> Bool {
        guard let nameIndex = header.productNameIndex, nameIndex < row.fields.count else { return false }
        // In a broken record only the fields before the broken one can be trusted.
        if let error = row.readError, error.column <= nameIndex + 1 { return false }
        return !(row.fields[nameIndex] ?? "").trimmingPadding().isEmpty
    }

    private func blankLineReport(_ row: RawRow) -> ProductReadItem? {
        guard options.reportsBlankLines else { return nil }
        let error = RowError(
            line: row.line, column: 1,
            reason: "Invalid Record Length: header length is \(header.columnCount), got 1 (a blank line; nothing is rejected)")
        return .rejected(
            ProductRejection(
                line: row.line, byteOffset: row.byteOffset, rows: [RejectedRow(fields: row.fields, error: error, record: recordText(of: row))]))
    }

    // MARK: - Blocks

    private func assemble(_ rows: [RawRow]) throws -> ProductReadItem {
        var errors: [RowError?] = []
        var product: ProductBlock?
        for (position, row) in rows.enumerated() {
            let sku: String
            do throws(RowError) {
                if let error = row.readError { throw error }
                guard row.fields.count == header.columnCount else {
                    throw RowError(
                        line: row.line, column: min(row.fields.count, header.columnCount) + 1,
                        reason: "Invalid Record Length: header length is \(header.columnCount), got \(row.fields.count)")
                }
                let cells = row.cells
                if position == 0 { product = try rowReader.product(from: cells, line: row.line) }
                let variant = try rowReader.variant(from: cells, line: row.line, optionGroupCount: product?.optionGroups.count)
                product?.variants.append(variant)
                sku = variant.sku
            } catch {
                errors.append(error)
                continue
            }
            errors.append(try duplicateSKU(sku, line: row.line))
        }
        guard let firstBad = errors.compactMap({ $0 }).first else {
            guard var block = product else { return .product(ProductBlock(line: rows[0].line, translations: [], variants: [])) }
            block.byteOffset = rows[0].byteOffset
            Self.fillOptionGroupValues(&block)
            return .product(block)
        }
        let rejected = zip(rows, errors).map { row, error in
            RejectedRow(
                fields: row.fields,
                error: error ?? RowError(
                    line: row.line, column: 1, reason: "rejected because line \(firstBad.line) of the same product was rejected"),
                record: recordText(of: row))
        }
        return .rejected(ProductRejection(line: rows[0].line, byteOffset: rows[0].byteOffset, rows: rejected))
    }

    /// Records the SKU of a good row; the row's error when an earlier row used it.
    private func duplicateSKU(_ sku: String, line: Int) throws -> RowError? {
        guard let seenSKUs else { return nil }
        return try seenSKUs.duplicate(sku, line: line, column: (header.index(.sku, language: header.languages[0]) ?? 0) + 1)
    }

    /// Vendure's `populateOptionGroupValues`: each group's values are the distinct values its variants
    /// use, in order of first use.
    static func fillOptionGroupValues(_ block: inout ProductBlock) {
        for group in block.optionGroups.indices {
            for translation in block.optionGroups[group].translations.indices {
                let language = block.optionGroups[group].translations[translation].languageCode
                var values: [String] = []
                // A set beside the list: one product may have tens of thousands of variants.
                var seen: Set<String> = []
                for variant in block.variants {
                    guard let optionValues = variant.translations.first(where: { $0.languageCode == language })?.optionValues,
                        group < optionValues.count, seen.insert(optionValues[group]).inserted
                    else { continue }
                    values.append(optionValues[group])
                }
                block.optionGroups[group].translations[translation].values = values
            }
        }
    }
}
