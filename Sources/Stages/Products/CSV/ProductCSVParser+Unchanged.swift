import Pipelines

extension ProductCSVParser {
    /// Blocks the store holds as they make them come back as `.unchanged` (see `unchanged`). With the
    /// duplicate check on, their SKUs and slugs are kept apart from those of the blocks read in full
    /// (`UnchangedKeys`), which are checked against them.
    func skipUnchanged(_ index: ProductSourceIndex) throws {
        unchangedBlocks = index
        guard let skuCheck, let seenSlugs, let skuIndex = header.index(.sku, language: header.languages[0]) else { return }
        let path = path
        let nameIndex = nameIndex
        let keys = try UnchangedKeys(store: index) { sku, start in
            try Self.line(ofSKU: sku, inBlockAt: start, path: path, skuIndex: skuIndex, nameIndex: nameIndex)
        }
        unchangedKeys = keys
        skuCheck.unchanged = keys
        seenSlugs.unchanged = keys
    }

    /// The block as read when the store holds its product exactly as the block makes it (its digest
    /// matches, `unchangedBlocks`): `.unchanged`, or what reading it in full gives; nil when it is not
    /// such a block.
    ///
    /// The whole-file check reads such a block in full all the same when asset paths are to be checked
    /// (files may have gone since: it is unchanged if they are all there), or when one of its SKUs or
    /// slugs was used by a block read in full before (it is then rejected with the usual messages).
    /// `matched`: the product the index gave the block's digest when `skimUnchanged` read it first.
    func unchanged(_ rows: [RawRow], _ source: BlockSource, matched: Int64? = nil) throws -> ProductReadItem? {
        guard let index = unchangedBlocks, let productID = try matched ?? index.product(digest: source.digest, line: source.line) else {
            return nil
        }
        let unchanged = ProductReadItem.unchanged(UnchangedProduct(line: rows[0].line, variantRows: rows.count, productID: productID))
        guard let unchangedKeys else { return unchanged }
        if options.assets == nil, try fitUnchanged(rows, productID: productID, keys: unchangedKeys) { return unchanged }
        let read = try assemble(rows, source: source)
        guard case .product = read, options.assets != nil else { return read }
        return unchanged
    }

    /// A block no stored digest matched, for the whole-file check (`Options.checksValuesAlone`):
    /// `.unchanged` with `valuesChanged` when its shape is a stored product's (so every cell but its prices
    /// and stock figures is that of a block the store took), every row was read whole, its prices and stock
    /// figures read without an error, and its SKUs and slugs fit as an unchanged block's do; else nil, to
    /// read it in full (a bad figure is then rejected with the usual message).
    func valuesChanged(_ rows: [RawRow], _ source: BlockSource) throws -> ProductReadItem? {
        guard options.checksValuesAlone, options.assets == nil, let index = unchangedBlocks,
            rows.allSatisfy({ $0.readError == nil && $0.fieldCount == header.columnCount }), let shape = try shape(of: rows)
        else { return nil }
        guard let productID = try index.product(shape: shape),
            rows.allSatisfy({ row in (try? rowReader.values(line: row.line, row.cell)) != nil })
        else { return nil }
        if let keys = unchangedKeys, try !fitUnchanged(rows, productID: productID, keys: keys) { return nil }
        return .unchanged(UnchangedProduct(line: rows[0].line, variantRows: rows.count, productID: productID, valuesChanged: true))
    }

    /// Keeps an unchanged block's slugs and SKUs in `keys`; false when a block read in full before used
    /// one of them.
    ///
    /// Most blocks make no string here: their keys are hashed from the cells' bytes, and a key's text is
    /// made only when a filter says a block read before may have used it.
    private func fitUnchanged(_ rows: [RawRow], productID: Int64, keys: UnchangedKeys) throws -> Bool {
        guard let skuIndex = header.index(.sku, language: header.languages[0]) else { return false }
        let skuHashes = rows.map { Self.skuHash($0, skuIndex) }
        return try fitUnchanged(first: rows[0], skuHashes: skuHashes, productID: productID, keys: keys) { Self.sku(rows[$0], skuIndex) }
    }

    /// `fitUnchanged` of a block of the product row `productRow` and variants whose SKUs have the hashes
    /// `skuHashes`; `sku` makes the SKU at an index, or nil when it is not at hand (the block then does
    /// not fit: it is read in full).
    func fitUnchanged(
        first productRow: RawRow, skuHashes: [UInt64], productID: Int64, keys: UnchangedKeys, sku: (Int) -> String?
    ) throws -> Bool {
        guard let offset = productRow.byteOffset, let skuCheck, let seenSlugs else { return false }
        let line = productRow.line
        var slugLanguages: [String] = []
        var slugHashes: [UInt64] = []
        for language in header.languages {
            if let index = header.index(.slug, language: language), !productRow.cellIsEmpty(index),
                let hash = productRow.asciiCellHash(index, prefix: SeenSlugs.keyPrefix(language))
            {
                slugHashes.append(hash)
            } else {
                let slug = rowReader.slug(language, productRow.cell)
                guard !slug.isEmpty else { continue }
                slugHashes.append(BloomFilter.hash(of: SeenSlugs.key(SlugKey(language: language, slug: slug))))
            }
            slugLanguages.append(language)
        }
        let slugsFit = try seenSlugs.fitUnchanged(hashes: slugHashes) { index in
            SeenSlugs.key(SlugKey(language: slugLanguages[index], slug: rowReader.slug(slugLanguages[index], productRow.cell)))
        }
        guard slugsFit else { return false }
        skuCheck.startProduct(line: line)
        guard try skuCheck.fitUnchanged(hashes: skuHashes, sku: sku) else { return false }
        try keys.add(productID, at: ReaderPosition(offset: offset, line: line), skuHashes: skuHashes, slugHashes: slugHashes)
        return true
    }

    /// The row's SKU, the cell at `index`, as the store keeps it.
    static func sku(_ row: RawRow, _ index: Int) -> String { ProductVariant.normalizedSKU(row.cell(index)) }

    /// The `BloomFilter.hash(of:)` of the row's SKU, from its bytes when they are ASCII.
    static func skuHash(_ row: RawRow, _ index: Int) -> UInt64 { row.asciiCellHash(index) ?? BloomFilter.hash(of: sku(row, index)) }

    /// The line of the first row with `sku` in the block at `start` of the file at `path`, read again (for
    /// a SKU of an unchanged block used again, which is rare).
    static func line(ofSKU sku: String, inBlockAt start: ReaderPosition, path: String, skuIndex: Int, nameIndex: Int?) throws -> Int? {
        let reader = try CSVReader(path: path, skipsBlankLines: true, trimsSpaceAroundQuotes: true)
        defer { reader.input.close() }
        try reader.resume(at: start)
        let record = RecordBuffer()
        var first = true
        while let status = try reader.next(into: record) {
            let row = RawRow(line: status.line, record: record.snapshot(), readError: status.error)
            if !first, let nameIndex, !row.cellIsEmpty(nameIndex) { return nil }
            first = false
            if Self.sku(row, skuIndex).utf8.elementsEqual(sku.utf8) { return status.line }
        }
        return nil
    }
}

extension ProductCSVParser.RawRow {
    /// The `BloomFilter.hash(of:)` of `prefix` and `cell(index)`, made from the cell's bytes; nil when
    /// they are not all ASCII (made into a string, and a SKU normalized, they may then change).
    func asciiCellHash(_ index: Int, prefix: String = "") -> UInt64? {
        record.withField(index) { ProductCSVParser.asciiCellHash($0, prefix: prefix) }
    }
}

extension ProductCSVParser {
    /// `RawRow.asciiCellHash` of a cell's bytes (nil for NULL).
    static func asciiCellHash(_ field: UnsafeRawBufferPointer?, prefix: String = "") -> UInt64? {
        guard let field else { return BloomFilter.hash(of: prefix) }
        var start = 0
        var end = field.count
        while start < end, field[start].isCellPadding { start += 1 }
        while end > start, field[end - 1].isCellPadding { end -= 1 }
        let cell = UnsafeRawBufferPointer(rebasing: field[start..<end])
        guard cell.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard !prefix.isEmpty else { return BloomFilter.hash(of: cell) }
        var prefix = prefix
        return prefix.withUTF8 { prefix in
            withUnsafeTemporaryAllocation(byteCount: prefix.count + cell.count, alignment: 1) { key in
                key.copyMemory(from: UnsafeRawBufferPointer(prefix))
                UnsafeMutableRawBufferPointer(rebasing: key[prefix.count...]).copyMemory(from: cell)
                return BloomFilter.hash(of: UnsafeRawBufferPointer(key))
            }
        }
    }
}
