import Pipelines

/// What the parser hands back: a whole product, or the rows it had to reject.
public enum ProductReadItem: Sendable, Equatable {
    case product(ProductBlock)
    case rejected(ProductRejection)
    /// A block the store already holds exactly as it makes it (`ProductCSVParser.unchangedBlocks`): not parsed.
    case unchanged(UnchangedProduct)

    /// The line the item starts at.
    public var line: Int {
        switch self {
        case .product(let block): block.line
        case .rejected(let rejection): rejection.line
        case .unchanged(let unchanged): unchanged.line
        }
    }
}

/// A block of the file whose bytes (and the import's settings) are those its product was last stored from.
public struct UnchangedProduct: Sendable, Equatable {
    public var line: Int
    /// The block's rows, each a variant.
    public var variantRows: Int
    public var productID: Int64
    /// The block differs from it in prices and stock levels alone (`ProductCSVParser.Options.checksValuesAlone`):
    /// good, but to be stored.
    public var valuesChanged = false
}

/// Rows that produce nothing: a product block with at least one bad row (every row of the block is
/// listed, the good ones rejected because of the bad one), or a row that belongs to no product.
public struct ProductRejection: Sendable, Equatable {
    /// 1-based line of the first rejected row.
    public var line: Int
    /// Byte offset of the first rejected row.
    public var byteOffset: Int64?
    public var rows: [RejectedRow]
    /// Set on the parts after the first of a block too large to hold whole: the same rejected item.
    public var continuesItem = false

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
/// it (rows with an empty name). Memory holds one product, or one part of a product too large for that;
/// the SKUs seen so far, to catch duplicates
/// (see `Options.duplicateSKUs`), go to a temporary database on disk (`SeenSKUs`).
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
        /// What a SKU used by an earlier row of the file does (`DuplicateSKUs`); when set, a product slug
        /// an earlier product of the file has makes its row bad too (`SeenSlugs`). Nil: neither is checked,
        /// which spares the temporary databases of seen SKUs and slugs.
        public var duplicateSKUs: DuplicateSKUs?
        /// When set, every asset path must resolve under this folder (URLs aside), or its row is bad.
        public var assets: String?
        /// Variant rows a block may have before it is handed out in parts of this many (see `next()`).
        public var partRows: Int
        /// When set, each block (but one handed out in parts) gets the SHA-256 of these settings, the header
        /// and its rows' bytes (`ProductBlock.source`): what the store records it was stored from.
        public var sourceSettings: String?
        /// With `sourceSettings`: each block read in full also gets its shape (`BlockSource.shape`), the
        /// digest without its price and stock cells.
        public var shapeDigests: Bool
        /// With unchanged blocks to find (`skipUnchanged`), for the whole-file check: a block whose shape is
        /// a stored product's, and whose prices and stock levels are good, comes back as `.unchanged` with
        /// `valuesChanged`, checked as an unchanged block is, not read in full.
        public var checksValuesAlone: Bool

        public init(
            mainLanguage: String = "en", reportsBlankLines: Bool = true, duplicateSKUs: DuplicateSKUs? = .withinProduct,
            assets: String? = nil, partRows: Int = 2_000, sourceSettings: String? = nil, shapeDigests: Bool = false,
            checksValuesAlone: Bool = false
        ) {
            self.mainLanguage = mainLanguage
            self.reportsBlankLines = reportsBlankLines
            self.duplicateSKUs = duplicateSKUs
            self.assets = assets
            self.partRows = max(partRows, 1)
            self.sourceSettings = sourceSettings
            self.shapeDigests = shapeDigests
            self.checksValuesAlone = checksValuesAlone
        }
    }

    public let path: String
    public let currency: CurrencyCode
    /// The header's column names, trimmed.
    public var columnNames: [String] { header.names }
    /// The languages of the file, in header order.
    public var languages: [String] { header.languages }

    let options: Options
    let header: ProductCSVHeader
    let rowReader: ProductRowReader
    /// `header.productNameIndex`, asked for every row.
    let nameIndex: Int?
    /// The columns left out of a block's shape: its price and stock cells.
    let valueColumns: [Int]
    let reader: CSVReader
    /// The record read last.
    let record = RecordBuffer()
    var lookahead: RawRow?
    var queued: [ProductReadItem] = []
    let skuCheck: DuplicateSKUCheck?
    /// Kept with the SKUs: the slugs of the products so far.
    let seenSlugs: SeenSlugs?
    private var reachedEnd = false
    /// The block being handed out in parts, if any.
    var largeBlock: LargeBlock?
    /// When set, a block the store holds as it makes it comes back as `.unchanged` (`skipUnchanged`).
    var unchangedBlocks: ProductSourceIndex?
    /// The SKUs and slugs of the unchanged blocks so far, for the duplicate check.
    var unchangedKeys: UnchangedKeys?
    /// Each block's SHA-256, when `Options.sourceSettings` asks for them.
    var digests: BlockDigests?
    /// The block to read in full after `skimUnchanged` went back to its start.
    var blockReadInFull: SkimmedBlock?

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
        nameIndex = header.productNameIndex
        valueColumns = [ProductColumn.price, .stockOnHand].compactMap { [header] in header.index($0, language: options.mainLanguage) }
        if let settings = options.sourceSettings { digests = try BlockDigests(settings: settings, header: reader.lastRecordText()) }
        skuCheck = try options.duplicateSKUs.map { try DuplicateSKUCheck($0) }
        seenSlugs = options.duplicateSKUs != nil ? try SeenSlugs() : nil
    }

    /// Where the next product block starts (after the one `next()` returned last), to resume there.
    public var position: ReaderPosition {
        // A resume starts at the block being handed out in parts: its parts are never stored apart.
        if let block = largeBlock { return block.start }
        if let row = lookahead, let offset = row.byteOffset { return ReaderPosition(offset: offset, line: row.line) }
        return reader.position
    }

    /// Continues at a `position` taken from an earlier parser of the same file. SKUs read before it are
    /// not known to the duplicate check.
    public func resume(at position: ReaderPosition) throws {
        queued = []
        largeBlock = nil
        blockReadInFull = nil
        try rewind(to: position)
    }

    /// Reads on from `position`, forgetting the row read ahead.
    func rewind(to position: ReaderPosition) throws {
        lookahead = nil
        reachedEnd = false
        digests?.restart()
        try reader.resume(at: position)
    }

    /// Bytes read so far and the file's size, for progress.
    public var bytesRead: Int64 { reader.input.position }
    public var fileSize: Int64? { reader.input.fileSize }

    public func close() {
        unchangedKeys?.close()
        unchangedKeys = nil
        unchangedBlocks?.close()
        unchangedBlocks = nil
        reader.input.close()
        skuCheck?.close()
        seenSlugs?.close()
    }

    /// The next product or rejection; nil at the end of the file. A block of more than `partRows` variant
    /// rows comes in parts (`ProductBlock.part`, `ProductRejection.continuesItem`), read again from the
    /// file once it was checked whole: accepted or rejected whole, as any block.
    public func next() throws -> ProductReadItem? {
        if !queued.isEmpty { return queued.removeFirst() }
        if largeBlock != nil { return try nextPart() }
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
            let skimmed = blockReadInFull?.line == first.line ? blockReadInFull : nil
            blockReadInFull = nil
            if skimmed == nil, skimsBlocks, let start = first.byteOffset {
                if let item = try skimUnchanged(first, at: start) { return item }
                continue  // Back at the block's start, to read it in full.
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
                if rows.count > options.partRows { return try startLargeBlock(rows) }
            }
            let source = digests?.finished(line: first.line).map { BlockSource(digest: $0, line: first.line) }
            if let source, let read = try unchanged(rows, source, matched: skimmed?.productID) ?? valuesChanged(rows, source) { return read }
            return try assemble(rows, source: source)
        }
    }

    // MARK: - Rows

    /// A row as read: its fields' bytes, made into strings only when asked for.
    struct RawRow {
        var line: Int
        var byteOffset: Int64?
        var byteLength = 0
        var record: RecordSnapshot
        var readError: RowError?
        /// Its name cell is not empty (set when read).
        var startsProduct = false

        var fieldCount: Int { record.count }
        /// The cells as read (nil for an empty unquoted cell).
        var fields: [String?] { (0..<record.count).map { record.string($0) } }
        /// The cells without padding ("" for an empty one).
        var cells: [String] {
            // In one pass over the row's bytes; most cells of a variant row are empty and cost nothing.
            record.strings { bytes in
                guard let bytes, !bytes.isEmpty else { return "" }
                return String(decoding: bytes, as: UTF8.self).trimmingPadding()
            }
        }
        func cell(_ index: Int) -> String { (record.string(index) ?? "").trimmingPadding() }
        /// `cell(index).isEmpty`, without making the string.
        func cellIsEmpty(_ index: Int) -> Bool { record.withField(index) { UInt8.isEmptyCell($0) } }
        var isBlank: Bool { ProductCSVParser.isBlank(error: readError, fieldCount: fieldCount) { cellIsEmpty(0) } }
    }

    func takeRow() throws -> RawRow? {
        if let row = lookahead {
            lookahead = nil
            return row
        }
        return try readRecord().map(keep)
    }

    /// A record as read into `record`, before it is kept as a `RawRow`.
    struct RecordRead {
        var status: RecordStatus
        var offset: Int64
        var length: Int
        var startsProduct: Bool
    }

    /// Reads the next record into `record`, fed to the block digests; nil at the end of the file.
    func readRecord() throws -> RecordRead? {
        guard !reachedEnd else { return nil }
        let offset = reader.input.position
        guard let status = try reader.next(into: record) else {
            reachedEnd = true
            try digests?.endBlock()
            return nil
        }
        let length = Int(reader.input.position - offset)
        let read = RecordRead(status: status, offset: offset, length: length, startsProduct: recordStartsProduct(status.error))
        if let digests {
            if read.startsProduct { try digests.startBlock(line: status.line) }
            digests.add(reader.input.consumedBytes(last: length), length: length)
        }
        return read
    }

    /// The record read last, kept.
    func keep(_ read: RecordRead) -> RawRow {
        RawRow(
            line: read.status.line, byteOffset: read.offset, byteLength: read.length, record: record.snapshot(),
            readError: read.status.error, startsProduct: read.startsProduct)
    }

    /// A rejected row as it was in the file, read back (rejections are rare; rows are not kept as text).
    func recordText(of row: RawRow) -> String? {
        row.byteOffset.map { reader.recordText(offset: $0, length: row.byteLength) }
    }

    func startsProduct(_ row: RawRow) -> Bool { row.startsProduct }

    /// Whether a record (`error`: how it was broken, if it was) is a blank line.
    static func isBlank(error: RowError?, fieldCount: Int, firstCellIsEmpty: () -> Bool) -> Bool {
        error == nil && fieldCount <= 1 && (fieldCount == 0 || firstCellIsEmpty())
    }

    /// A block's shape (`BlockSource.shape`), when the parser makes digests.
    func shape(of rows: [RawRow]) throws -> Int64? {
        try digests?.shape(of: rows.lazy.map(\.record), excluding: valueColumns)
    }

    /// Whether the record read last (`error`: how it was broken, if it was) starts a product.
    private func recordStartsProduct(_ error: RowError?) -> Bool {
        guard let nameIndex, nameIndex < record.count else { return false }
        // In a broken record only the fields before the broken one can be trusted.
        if let error, error.column <= nameIndex + 1 { return false }
        return !UInt8.isEmptyCell(record.field(nameIndex))
    }

    func blankLineReport(_ row: RawRow) -> ProductReadItem? {
        guard options.reportsBlankLines else { return nil }
        let error = RowError(
            line: row.line, column: 1,
            reason: "Invalid Record Length: header length is \(header.columnCount), got 1 (a blank line; nothing is rejected)")
        return .rejected(
            ProductRejection(
                line: row.line, byteOffset: row.byteOffset, rows: [RejectedRow(fields: row.fields, error: error, record: recordText(of: row))]))
    }
}
