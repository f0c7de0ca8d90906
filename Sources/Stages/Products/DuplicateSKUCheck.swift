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
    /// The SKUs of the blocks found unchanged, which are not recorded here.
    var unchanged: UnchangedKeys?

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
        var first = recording ? try seen.record(sku, line: line) : try seen.firstLine(of: sku).flatMap { $0 == line ? nil : $0 }
        if let earlier = try unchanged?.line(ofSKU: sku) { first = min(first ?? earlier, earlier) }
        if policy == .withinProduct {
            // The variant's key as the store has it: the options in the product's first language.
            let key = VariantKey(sku: sku, options: variant.translations.first?.optionValues ?? [])
            let earlier = recording ? try productVariants.record(key, line: line) : try productVariants.firstLine(of: key)
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

    /// `sku` is shared by variants of the product being read: counted once for the report.
    private func noteShared(_ sku: String) {
        guard sharedInProduct.insert(sku).inserted else { return }
        shared.count += 1
        if shared.examples.count < SharedSKUReport.examplesKept { shared.examples.append((sku, productLine)) }
    }
}

extension DuplicateSKUCheck {
    /// Whether the SKUs of the product started last, a block found unchanged (so good in itself: the
    /// store holds it as it is), may stand unrecorded: false when a product read before used one of them.
    /// Notes the SKUs its variants share.
    ///
    /// `hashes`: the `BloomFilter.hash(of:)` of each variant's SKU; `sku` makes the SKU at an index,
    /// asked for only when its hash may have been recorded or another variant's hash is the same (past 32
    /// variants, always). Nil: not at hand, so the block does not fit (it is read in full), nothing noted.
    func fitUnchanged(hashes: [UInt64], sku: (Int) -> String?) throws -> Bool {
        guard try !seen.recordedAny(hashes: hashes, key: sku) else { return false }
        guard policy == .withinProduct else { return true }
        var shared: [String] = []
        if hashes.count <= 32 {  // Most products: a set would cost more than comparing.
            for index in hashes.indices.dropFirst() {
                for earlier in 0..<index where hashes[earlier] == hashes[index] {
                    guard let first = sku(earlier), let again = sku(index) else { return false }
                    if first == again {
                        shared.append(again)
                        break
                    }
                }
            }
        } else {
            var distinct = Set<String>()
            for index in hashes.indices {
                guard let value = sku(index) else { return false }
                if !distinct.insert(value).inserted { shared.append(value) }
            }
        }
        shared.forEach(noteShared)
        return true
    }
}

/// The variants of one product by SKU and option values, each with its line: in memory for the usual
/// product, in a temporary database past `inMemoryLimit` (a product of many thousand variants).
private struct ProductVariantKeys {
    static let inMemoryLimit = 4_096
    /// By the key itself: its one-string form (`VariantKey.text`) is made only for the database.
    private var inMemory: [VariantKey: Int] = [:]
    private var onDisk: SeenSKUs?

    mutating func reset() {
        inMemory.removeAll(keepingCapacity: inMemory.count <= Self.inMemoryLimit)
        onDisk?.close()
        onDisk = nil
    }

    func close() { onDisk?.close() }

    func firstLine(of key: VariantKey) throws -> Int? {
        if let onDisk { return try onDisk.firstLine(of: key.text) }
        return inMemory[key]
    }

    /// Records `key` at `line`; the line that had it first, if one did.
    mutating func record(_ key: VariantKey, line: Int) throws -> Int? {
        if let onDisk { return try onDisk.record(key.text, line: line) }
        if let first = inMemory[key] { return first }
        inMemory[key] = line
        if inMemory.count > Self.inMemoryLimit {
            let disk = try SeenSKUs(batchSize: 4_096, filterBits: 1 << 22, cacheKiB: 1_024)
            for (key, line) in inMemory { _ = try disk.record(key.text, line: line) }
            inMemory.removeAll()
            onDisk = disk
        }
        return nil
    }
}
