import Pipelines

extension ProductCSVParser {
    /// The block as read when the store holds its product exactly as the block makes it (its digest
    /// matches, `unchangedBlocks`): `.unchanged`, or what reading it in full gives; nil when it is not
    /// such a block.
    ///
    /// The whole-file check reads such a block in full all the same when asset paths are to be checked
    /// (files may have gone since: it is unchanged if they are all there), or when one of its SKUs or
    /// slugs was used earlier in the file (it is then rejected with the usual messages). Otherwise its
    /// SKUs and slugs are recorded as reading it would, for the blocks after it.
    func unchanged(_ rows: [RawRow], _ source: BlockSource) throws -> ProductReadItem? {
        guard let index = unchangedBlocks, let productID = try index.product(digest: source.digest, line: source.line) else {
            return nil
        }
        let unchanged = ProductReadItem.unchanged(UnchangedProduct(line: rows[0].line, variantRows: rows.count, productID: productID))
        guard skuCheck != nil || seenSlugs != nil else { return unchanged }
        if options.assets == nil, try recordUnchanged(rows) { return unchanged }
        let read = try assemble(rows, source: source)
        guard case .product = read, options.assets != nil else { return read }
        return unchanged
    }

    /// Records an unchanged block's slugs and SKUs, as reading it would; false when another product of the
    /// file used one of them first. What was recorded by then stays: reading the block in full records
    /// the same at the same lines, which counts as new.
    private func recordUnchanged(_ rows: [RawRow]) throws -> Bool {
        let line = rows[0].line
        if let seenSlugs {
            for language in header.languages {
                let slug = SlugKey(language: language, slug: rowReader.slug(language, rows[0].cell))
                guard !slug.slug.isEmpty else { continue }
                if let first = try seenSlugs.record(slug, line: line), first != line { return false }
            }
        }
        guard let skuCheck, let skuIndex = header.index(.sku, language: header.languages[0]) else { return true }
        skuCheck.startProduct(line: line)
        for row in rows {
            let sku = ProductVariant.normalizedSKU(row.cell(skuIndex))
            guard try skuCheck.recordUnchanged(sku, line: row.line) else { return false }
        }
        return true
    }
}
