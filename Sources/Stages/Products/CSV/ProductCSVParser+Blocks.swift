import Pipelines

// A product block's rows made into its product and variants, or into the rows it rejects.
extension ProductCSVParser {
    func assemble(_ rows: [RawRow], source: BlockSource?) throws -> ProductReadItem {
        var errors: [RowError?] = []
        var product: ProductBlock?
        for (position, row) in rows.enumerated() {
            switch try read(row, first: position == 0, product: &product, recordsSKU: true) {
            case .success(let variant):
                product?.variants.append(variant)
                errors.append(nil)
            case .failure(let error): errors.append(error)
            }
        }
        guard let firstBad = errors.compactMap({ $0 }).first else {
            guard var block = product else { return .product(ProductBlock(line: rows[0].line, translations: [], variants: [])) }
            block.byteOffset = rows[0].byteOffset
            block.source = source
            if options.shapeDigests, source != nil { block.source?.shape = try shape(of: rows) }
            Self.fillOptionGroupValues(&block)
            return .product(block)
        }
        let rejected = zip(rows, errors).map { row, error in rejectedRow(row, error: error, firstBad: firstBad) }
        return .rejected(ProductRejection(line: rows[0].line, byteOffset: rows[0].byteOffset, rows: rejected))
    }

    func rejectedRow(_ row: RawRow, error: RowError?, firstBad: RowError) -> RejectedRow {
        RejectedRow(
            fields: row.fields,
            error: error ?? RowError(
                line: row.line, column: 1, reason: "rejected because line \(firstBad.line) of the same product was rejected"),
            record: recordText(of: row))
    }

    /// One row of a block: its variant, or what is wrong with it. The block's first row also gives the
    /// product. `recordsSKU`: the SKU is recorded for the duplicate check (else only looked up, for a row
    /// read again: a duplicate is a SKU recorded first by another line).
    func read(_ row: RawRow, first: Bool, product: inout ProductBlock?, recordsSKU: Bool) throws
        -> Result<ProductVariant, RowError>
    {
        if first { skuCheck?.startProduct(line: row.line) }
        let variant: ProductVariant
        do throws(RowError) {
            if let error = row.readError { throw error }
            guard row.fieldCount == header.columnCount else {
                throw RowError(
                    line: row.line, column: min(row.fieldCount, header.columnCount) + 1,
                    reason: "Invalid Record Length: header length is \(header.columnCount), got \(row.fieldCount)")
            }
            let cells = row.cells
            if first {
                product = try rowReader.product(from: cells, line: row.line)
                try checkAssets(product?.assetPaths ?? [], column: .assets, line: row.line)
            }
            variant = try rowReader.variant(from: cells, line: row.line, optionGroupCount: product?.optionGroups.count)
            try checkAssets(variant.assetPaths, column: .variantAssets, line: row.line)
        } catch {
            return .failure(error)
        }
        if first, let seenSlugs, let product {
            let slugColumn = { (language: String) in (self.header.index(.slug, language: language) ?? 0) + 1 }
            if let error = try seenSlugs.duplicate(product, line: row.line, recording: recordsSKU, column: slugColumn) {
                return .failure(error)
            }
        }
        if let skuCheck {
            let column = (header.index(.sku, language: header.languages[0]) ?? 0) + 1
            if let error = try skuCheck.check(variant, line: row.line, column: column, recording: recordsSKU) { return .failure(error) }
        }
        return .success(variant)
    }

    private func checkAssets(_ paths: [String], column: ProductColumn, line: Int) throws(RowError) {
        guard let assets = options.assets, let problem = AssetPath.firstProblem(paths, under: assets) else { return }
        throw RowError(line: line, column: (columnNames.firstIndex(of: column.rawValue) ?? 0) + 1, reason: problem.description)
    }

    /// Vendure's `populateOptionGroupValues`: each group's values are the distinct values its variants
    /// use, in order of first use.
    static func fillOptionGroupValues(_ block: inout ProductBlock) {
        for group in block.optionGroups.indices {
            for translation in block.optionGroups[group].translations.indices {
                let language = block.optionGroups[group].translations[translation].languageCode
                var values: [String] = []
                // A set beside the list once it is long: one product may have tens of thousands of variants.
                var seen: Set<String>?
                for variant in block.variants {
                    // The variant's translations are usually in the groups' order of languages.
                    let matching =
                        translation < variant.translations.count && variant.translations[translation].languageCode == language
                        ? variant.translations[translation] : variant.translations.first { $0.languageCode == language }
                    guard let optionValues = matching?.optionValues, group < optionValues.count else { continue }
                    let value = optionValues[group]
                    if seen == nil, values.count >= 16 { seen = Set(values) }
                    guard seen?.insert(value).inserted ?? !values.contains(value) else { continue }
                    values.append(value)
                }
                block.optionGroups[group].translations[translation].values = values
            }
        }
    }
}
