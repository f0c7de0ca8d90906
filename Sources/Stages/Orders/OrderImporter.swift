import Foundation
import Pipelines

/// `orders.import`'s part of the shared import pipeline: orders read whole (a Shopify order's rows
/// together), checked by themselves and for a code used twice in the file, and upserted by code.
final class OrderImporter: ChunkImporter {
    struct Progress: Codable {
        var read: Int64 = 0
        var rejected: Int64 = 0
        var store = OrderStore.Result()
    }

    private let reader: any OrderReader
    private let makeReader: () throws -> any OrderReader
    private let store: OrderStore
    private let context: StageContext
    private var rejections = ImportRejections.lines([])
    let startPosition: ReaderPosition

    init(makeReader: @escaping () throws -> any OrderReader, store: OrderStore, context: StageContext) throws {
        self.makeReader = makeReader
        reader = try makeReader()
        self.store = store
        self.context = context
        startPosition = reader.position
    }

    func close() { reader.close() }

    func initialProgress() -> Progress { Progress() }

    func makeCheckSource() throws -> any ImportCheckSource { try OrderCheckSource(reader: makeReader()) }

    func begin(resumingAt position: ReaderPosition?, progress: Progress, rejections: ImportRejections) throws {
        self.rejections = rejections
        if let position { try reader.resume(at: position) }
    }

    func loadChunk(rows: Int, progress: inout Progress) throws -> ChunkEnd {
        var loaded = 0
        while loaded < rows {
            guard let item = try reader.next() else { return ChunkEnd(position: reader.position, reachedEnd: true) }
            loaded += item.records.count
            progress.read += 1
            guard let order = item.order, try !rejections.isRejected(line: item.line) else {
                progress.rejected += 1
                continue
            }
            try store.upsert(order, into: &progress.store)
        }
        return ChunkEnd(position: reader.position, reachedEnd: false)
    }

    func counts(of progress: Progress) -> StageCounts {
        [
            ImportCounters.read: progress.read, ImportCounters.rejected: progress.rejected, OrdersImport.created: progress.store.created,
            OrdersImport.updated: progress.store.updated, OrdersImport.unchanged: progress.store.unchanged,
            OrdersImport.refunds: progress.store.refunds, OrdersImport.paymentsLinked: progress.store.paymentsLinked,
        ]
    }
}

/// The orders file read for the whole-file check: each order accepted or rejected with its reason, and an
/// order code a second time rejected naming the line that used it first.
private final class OrderCheckSource: ImportCheckSource {
    private let reader: any OrderReader
    private let seenCodes: SeenSKUs

    init(reader: any OrderReader) throws {
        self.reader = reader
        do { seenCodes = try SeenSKUs() } catch {
            reader.close()
            throw error
        }
    }

    func nextChecked() throws -> CheckedItem? {
        guard let item = try reader.next() else { return nil }
        var error = item.error
        if let order = item.order, let first = try seenCodes.record(order.code, line: item.line) {
            error = RowError(line: item.line, column: 1, reason: "order \(order.code) is also at line \(first): one code, one order")
        }
        guard let error else { return CheckedItem(line: item.line) }
        return CheckedItem(line: item.line, rejectedRows: [error], records: [item.records.first ?? ""])
    }

    var position: ReaderPosition { reader.position }

    func close() {
        reader.close()
        seenCodes.close()
    }
}
