import Pipelines

/// What `products.import` does with a SKU an earlier row of the file used.
public enum DuplicateSKUs: String, ParameterChoice {
    /// As Vendure: the variants of one product may share a SKU when their option values tell them apart
    /// (a warning names it); a SKU another product of the file used is a bad row.
    case withinProduct = "within-product"
    /// Every SKU once in the file: a SKU used before is a bad row.
    case reject
}

/// The SKUs a product of the file shares among its variants, for the import's warnings.
struct SharedSKUReport: Sendable {
    static let examplesKept = 10
    var count = 0
    /// The first few: the SKU and the line of its product.
    var examples: [(sku: String, line: Int)] = []
}

/// The duplicate check of one file's SKUs: the SKUs seen so far (in `SeenSKUs`, memory bounded), and,
/// under `within-product`, the variants of the product being read by SKU and option values, so that a
/// shared SKU must still name a variant of its own.
final class DuplicateSKUCheck {
    let policy: DuplicateSKUs
    private let seen: SeenSKUs
    private(set) var shared = SharedSKUReport()
    private var productLine = 0
    private var productVariants = ProductVariantKeys()
    private var sharedInProduct = Set<String>()

    init(_ policy: DuplicateSKUs) throws {
        self.policy = policy
        seen = try SeenSKUs()
    }

    func close() {
        seen.close()
        productVariants.close()
    }

    /// Starts the product whose row is at `line`; the same product read again (a large one, in parts)
    /// keeps what its first reading recorded.
    func startProduct(line: Int) {
        guard line != productLine else { return }
        productLine = line
        productVariants.reset()
        sharedInProduct.removeAll()
    }

    /// The error for `variant` at `line` (the SKU's cell at `column`) when its SKU may not be used there.
    /// `recording`: the SKU is recorded (else the row is read again and only looked up: a duplicate is a
    /// SKU recorded first by another line).
    func check(_ variant: ProductVariant, line: Int, column: Int, recording: Bool) throws -> RowError? {
        let sku = variant.sku
        let first: Int?
        if recording {
            first = try recordedBefore(sku, line: line)
        } else {
            first = try seen.firstLine(of: sku).flatMap { $0 == line ? nil : $0 }
        }
        if policy == .withinProduct {
            // The variant's key as the store has it: the options in the product's first language.
            let key = VariantKey(sku: sku, options: variant.translations.first?.optionValues ?? [])
            let earlier = recording ? try productVariants.record(key.text, line: line) : try productVariants.firstLine(of: key.text)
            if let earlier, earlier != line {
                let reason =
                    key.options.isEmpty
                    ? "duplicate SKU '\(sku)': line \(earlier) of the same product already uses it and the product has no options to tell them apart"
                    : "duplicate variant: line \(earlier) already has the SKU '\(sku)'" + ProductRows.sameOptions(key)
                return RowError(line: line, column: column, reason: reason)
            }
        }
        guard let first else { return nil }
        guard policy == .withinProduct, first >= productLine else {
            return SeenSKUs.duplicateError(sku, line: line, column: column, firstLine: first, inAnotherProduct: policy == .withinProduct)
        }
        if recording { noteShared(sku) }
        return nil
    }

    /// Records that `line` uses `sku`; the earlier line that used it first, if one did. A SKU recorded at
    /// this very line already (by `recordUnchanged`, before it found the block taken) counts as new.
    private func recordedBefore(_ sku: String, line: Int) throws -> Int? {
        try seen.record(sku, line: line).flatMap { $0 == line ? nil : $0 }
    }

    /// `sku` is shared by variants of the product being read: counted once for the report.
    private func noteShared(_ sku: String) {
        guard sharedInProduct.insert(sku).inserted else { return }
        shared.count += 1
        if shared.examples.count < SharedSKUReport.examplesKept { shared.examples.append((sku, productLine)) }
    }
}

extension DuplicateSKUCheck {
    /// Records the SKU of a variant of a block known to be good in itself (one the store holds as it is);
    /// false when another product of the file used the SKU first.
    func recordUnchanged(_ sku: String, line: Int) throws -> Bool {
        guard let first = try recordedBefore(sku, line: line) else { return true }
        guard first >= productLine else { return false }
        if policy == .withinProduct { noteShared(sku) }
        return true
    }
}

/// The variants of one product by SKU and option values, each with its line: in memory for the usual
/// product, in a temporary database past `inMemoryLimit` (a product of many thousand variants).
private struct ProductVariantKeys {
    static let inMemoryLimit = 4_096
    private var inMemory: [String: Int] = [:]
    private var onDisk: SeenSKUs?

    mutating func reset() {
        inMemory.removeAll(keepingCapacity: inMemory.count <= Self.inMemoryLimit)
        onDisk?.close()
        onDisk = nil
    }

    func close() { onDisk?.close() }

    func firstLine(of key: String) throws -> Int? {
        try onDisk?.firstLine(of: key) ?? inMemory[key]
    }

    /// Records `key` at `line`; the line that had it first, if one did.
    mutating func record(_ key: String, line: Int) throws -> Int? {
        if let onDisk { return try onDisk.record(key, line: line) }
        if let first = inMemory[key] { return first }
        inMemory[key] = line
        if inMemory.count > Self.inMemoryLimit {
            let disk = try SeenSKUs(batchSize: 4_096, filterBits: 1 << 22, cacheKiB: 1_024)
            for (key, line) in inMemory { _ = try disk.record(key, line: line) }
            inMemory.removeAll()
            onDisk = disk
        }
        return nil
    }
}
