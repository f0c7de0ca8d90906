import Pipelines

/// A product block of more than `partRows` variant rows, handed out in parts so that memory holds one
/// part, not the block. The block is read twice: once to check every row (and record its SKUs), without
/// keeping any, then again from its start, a part at a time, as products or as rejected rows.
struct LargeBlock {
    var start: ReaderPosition
    /// The product read from the block's first row; nil when that row is bad.
    var product: ProductBlock?
    var firstBad: RowError?
    /// The block's rows, blank lines aside.
    var rows: Int
    var handedOut = 0
    var parts = 0
}

extension ProductCSVParser {
    /// Checks the rest of the block whose first rows are `rows`, then hands out its first part.
    func startLargeBlock(_ rows: [RawRow]) throws -> ProductReadItem? {
        // Blank lines inside the block are reported again with its parts.
        queued.removeAll()
        guard let offset = rows.first?.byteOffset else {
            throw PipelineError(.internal, "\(path): a product block without a byte offset")
        }
        var product: ProductBlock?
        var firstBad: RowError?
        var count = 0
        func check(_ row: RawRow) throws {
            if case .failure(let error) = try read(row, first: count == 0, product: &product, recordsSKU: true), firstBad == nil {
                firstBad = error
            }
            count += 1
        }
        for row in rows { try check(row) }
        while let row = try takeRow() {
            if row.isBlank { continue }
            if startsProduct(row) { break }
            try check(row)
        }
        let start = ReaderPosition(offset: offset, line: rows[0].line)
        largeBlock = LargeBlock(start: start, product: product, firstBad: firstBad, rows: count)
        try rewind(to: start)
        return try nextPart()
    }

    /// The next part of `largeBlock`: up to `partRows` of its rows, read again.
    func nextPart() throws -> ProductReadItem? {
        guard var block = largeBlock else { return nil }
        let firstVariant = block.handedOut
        var variants: [ProductVariant] = []
        var rejected: [RejectedRow] = []
        var product = block.product
        while variants.count + rejected.count < options.partRows, block.handedOut < block.rows {
            guard let row = try takeRow() else { throw changedWhileRead(block) }
            if row.isBlank {
                if let report = blankLineReport(row) { queued.append(report) }
                continue
            }
            guard block.handedOut == 0 || !startsProduct(row) else { throw changedWhileRead(block) }
            let outcome = try read(row, first: block.handedOut == 0, product: &product, recordsSKU: false)
            block.handedOut += 1
            if let firstBad = block.firstBad {
                rejected.append(rejectedRow(row, error: outcome.failure, firstBad: firstBad))
            } else if case .success(let variant) = outcome {
                variants.append(variant)
            } else {
                throw changedWhileRead(block)
            }
        }
        let isLast = block.handedOut >= block.rows
        defer {
            block.parts += 1
            largeBlock = isLast ? nil : block
        }
        if block.firstBad != nil {
            return .rejected(
                ProductRejection(
                    line: block.start.line, byteOffset: block.start.offset, rows: rejected, continuesItem: block.parts > 0))
        }
        guard var part = block.product else { throw changedWhileRead(block) }
        part.byteOffset = block.start.offset
        part.variants = variants
        part.part = BlockPart(index: block.parts, firstVariant: firstVariant, isLast: isLast)
        Self.fillOptionGroupValues(&part)
        return .product(part)
    }

    private func changedWhileRead(_ block: LargeBlock) -> PipelineError {
        PipelineError(
            .io, "\(path): the product block at line \(block.start.line) changed while it was read; nothing of it was stored")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
