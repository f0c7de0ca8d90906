import Pipelines

/// The SHA-256 of each product block as read from the file: the import's settings, the header and the
/// bytes of the block's records (blank lines after it included), so that equal digests mean the block
/// would be stored exactly as before. Blocks start at the rows that start a product.
final class BlockDigests {
    /// Bump when the same bytes would be read, checked or stored differently: stored digests then no
    /// longer match and every product is compared once more.
    static let rulesVersion = 1

    /// Fed the settings and the header once; each block's digest starts as a copy of it.
    private let prefix: SHA256State
    /// The same for shapes (`shape(of:excluding:)`), which are never equal to a block's digest.
    private let shapePrefix: SHA256State
    /// The current block's digest.
    private var block: SHA256State
    /// The line of the current block.
    private var current: Int?
    private var finished: (line: Int, digest: SHA256Value)?
    /// A record of the current block was not all in the reader's buffer: the block gets no digest.
    private var incomplete = false

    init(settings: String, header: String) throws {
        var prefix = try SHA256State()
        var shapePrefix = prefix
        var text = "products.import block digest \(Self.rulesVersion)\n\(settings)\n\(header)\n"
        text.withUTF8 { prefix.update(UnsafeRawBufferPointer($0)) }
        var shapeText = "products.import block shape \(Self.rulesVersion)\n\(settings)\n\(header)\n"
        shapeText.withUTF8 { shapePrefix.update(UnsafeRawBufferPointer($0)) }
        self.prefix = prefix
        self.shapePrefix = shapePrefix
        block = prefix
    }

    /// The first 64 bits of the digest of a block's records (as parsed) without the fields at `excluded`, with the settings
    /// and the header: two blocks with the same shape differ in those fields alone (see
    /// `RecordSnapshot.update(_:excluding:)`).
    func shape(of records: some Sequence<RecordSnapshot>, excluding excluded: [Int]) throws -> Int64 {
        var state = shapePrefix
        for record in records { record.update(&state, excluding: excluded) }
        return try state.finish().leadingInt64
    }

    /// The row at `line` starts a product: the block before it ends.
    func startBlock(line: Int) throws {
        try endBlock()
        block = prefix
        current = line
        incomplete = false
    }

    /// The bytes of a record `length` bytes long, as far as the reader still holds them.
    func add(_ record: UnsafeRawBufferPointer, length: Int) {
        guard current != nil else { return }
        if record.count != length { incomplete = true }
        block.update(record)
    }

    /// The end of the file, or of the block: its digest is kept for `finished(line:)`.
    func endBlock() throws {
        guard let current else { return }
        let digest = try block.finish()
        finished = incomplete ? nil : (current, digest)
        self.current = nil
    }

    /// After a seek: what was read before it no longer belongs to the next block.
    func restart() {
        current = nil
        finished = nil
    }

    /// The digest of the block that started at `line`, once it has ended.
    func finished(line: Int) -> SHA256Value? {
        guard let finished, finished.line == line else { return nil }
        return finished.digest
    }
}
