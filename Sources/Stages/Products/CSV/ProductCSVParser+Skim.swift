import Pipelines

extension ProductCSVParser {
    /// Whether `next()` skims blocks (`skimUnchanged`): when it looks for unchanged blocks and would not
    /// read one in full anyway (asset paths to check, blank lines to report).
    var skimsBlocks: Bool { unchangedBlocks != nil && options.assets == nil && !options.reportsBlankLines }

    /// The block of the product row `first` (at `start`), read without keeping its variant rows: their
    /// SKUs are hashed as they are read, which is all an unchanged block needs. Most of a file imported
    /// before is such blocks, and keeping each row was much of what reading them cost.
    ///
    /// Returns `.unchanged`; or nil, having gone back to the block's start, when the block is not
    /// unchanged or only its rows can tell (a SKU not ASCII, one a block read before may have used, two
    /// that may be one): `next()` then reads it in full, as it would have without skimming.
    func skimUnchanged(_ first: RawRow, at start: Int64) throws -> ProductReadItem? {
        guard let index = unchangedBlocks, let skuIndex = header.index(.sku, language: header.languages[0]),
            first.readError == nil, skuIndex < first.fieldCount
        else { return try readInFull(first, at: start) }
        var skuHashes = [Self.skuHash(first, skuIndex)]
        var needsRows = false
        while true {
            if skuHashes.count < options.partRows, let hash = try skimVariantRow(skuIndex: skuIndex) {
                skuHashes.append(hash)
                continue
            }
            guard let read = try readRecord() else { break }
            let error = read.status.error
            if Self.isBlank(error: error, fieldCount: record.count, firstCellIsEmpty: { UInt8.isEmptyCell(record.field(0)) }) { continue }
            if read.startsProduct {
                lookahead = keep(read)
                break
            }
            guard error == nil, skuHashes.count < options.partRows, skuIndex < record.count,
                let hash = Self.asciiCellHash(record.field(skuIndex))
            else {
                needsRows = true
                break
            }
            skuHashes.append(hash)
        }
        guard !needsRows, let digest = digests?.finished(line: first.line), let productID = try index.product(digest: digest, line: first.line)
        else { return try readInFull(first, at: start) }
        if let keys = unchangedKeys {
            // The first row's SKU is at hand; a variant row's is not.
            let fits = try fitUnchanged(first: first, skuHashes: skuHashes, productID: productID, keys: keys) {
                $0 == 0 ? Self.sku(first, skuIndex) : nil
            }
            // The index has given its product: read in full, the block is matched to it again.
            guard fits else { return try readInFull(first, at: start, matched: productID) }
        }
        return .unchanged(UnchangedProduct(line: first.line, variantRows: skuHashes.count, productID: productID))
    }

    /// The hash of the SKU of the next record, consumed and fed to the block digests without being read
    /// into `record`, when it is a plain variant row (`CSVReader.peekPlainRecord`: no product name, a SKU
    /// that needs no unquoting, nothing `readRecord` would find wrong); nil when it is not, for
    /// `readRecord` to read. Most rows of a file imported before are such rows.
    private func skimVariantRow(skuIndex: Int) throws -> UInt64? {
        guard let nameIndex, let row = try reader.peekPlainRecord(nameIndex, skuIndex, firstMustBeEmpty: true),
            let hash = Self.asciiCellHash(row.second)
        else { return nil }
        reader.skip(row)
        digests?.add(reader.input.consumedBytes(last: row.length), length: row.length)
        return hash
    }

    private func readInFull(_ first: RawRow, at start: Int64, matched productID: Int64? = nil) throws -> ProductReadItem? {
        blockReadInFull = SkimmedBlock(line: first.line, productID: productID)
        try rewind(to: ReaderPosition(offset: start, line: first.line))
        return nil
    }
}

/// A block `skimUnchanged` went back to the start of, to be read in full: where it starts, and the
/// product the index matched its digest to, if it got that far.
struct SkimmedBlock {
    var line: Int
    var productID: Int64?
}
