import Foundation

/// What the whole-file check learns of one item of an input: a row, or a block of rows (a product with
/// its variants).
public struct CheckedItem: Sendable {
    /// The item's first line.
    public var line: Int
    /// One error per row of a rejected item; empty when the item is accepted.
    public var rejectedRows: [RowError]
    /// The rejected rows as they were in the file, when the source keeps them (one per error).
    public var records: [String]
    /// More rows of the item before (a large item checked in parts): not another item.
    public var continuesItem: Bool

    public init(line: Int, rejectedRows: [RowError] = [], records: [String] = [], continuesItem: Bool = false) {
        self.continuesItem = continuesItem
        self.line = line
        self.rejectedRows = rejectedRows
        self.records = records
    }
}

/// An input read for the whole-file check: item after item, each accepted or rejected with its errors.
public protocol ImportCheckSource: AnyObject {
    func nextChecked() throws -> CheckedItem?
    /// Where the item after the last one returned starts.
    var position: ReaderPosition { get }
    func close()
}

/// What the check found in the whole file.
public struct ImportVerdict: Sendable, Equatable, Codable {
    public var rowsRejected: Int64 = 0
    public var itemsRejected: Int64 = 0
    /// First lines of the rejected items.
    public var rejectedLines: [Int] = []

    public init() {}
}

/// The whole-file check of an import's first run, on its own thread: it reads the input once, lists
/// every rejected row in the rejects file, and passes or fails the file against `max_rejects`. The
/// importer commits nothing before the check has passed, so a failed check leaves the target as it was.
///
/// It only parses, so it runs ahead of the loader; a loader that cannot tell a rejected item by itself
/// asks `isRejected(line:)`, which waits in the rare case that the check is not there yet.
public final class ImportCheck: @unchecked Sendable {
    /// What the failure names: `table items`, `the product store`.
    public struct Target: Sendable {
        public var file: String
        public var description: String
        public var maxRejects: Int
        public var rejectsPath: String
        /// The stage's checkpoint key, which owns the rejects file's temporary file.
        public var owner: String?

        public init(file: String, description: String, maxRejects: Int, rejectsPath: String, owner: String? = nil) {
            self.owner = owner
            self.file = file
            self.description = description
            self.maxRejects = maxRejects
            self.rejectsPath = rejectsPath
        }
    }

    private let worker = WorkerThread<ImportVerdict>()
    private var condition: NSCondition { worker.condition }
    /// Under `condition`: every item starting before this line has been checked.
    private var checkedBefore = 0
    /// Under `condition`: first lines of the items rejected so far; kept only while within `max_rejects`.
    private var rejected = Set<Int>()

    /// Starts checking `source` (positioned at the input's first item) on a new thread, which owns it.
    public init(source: any ImportCheckSource, target: Target) {
        let handoff = ThreadHandoff(source)
        worker.start { [self] in
            let source = handoff.value
            defer { source.close() }
            do {
                return try check(source, target: target)
            } catch {
                throw PipelineError.wrapping(error)
            }
        }
    }

    /// True once the check has finished, whatever its verdict.
    public var isFinished: Bool { condition.withLock { worker.outcome != nil } }

    /// The verdict once the whole file was checked, without waiting; throws a failed check.
    public func verdictIfDone() throws -> ImportVerdict? { try worker.resultIfDone() }

    /// Waits for the verdict; throws a failed check.
    public func verdict() throws -> ImportVerdict { try worker.result() }

    /// Whether the item starting at `line` was rejected, once the check has got past it. Throws the
    /// check's failure: past `max_rejects` nothing is to be stored.
    public func isRejected(line: Int) throws -> Bool {
        try condition.withLock {
            while checkedBefore <= line && worker.outcome == nil { condition.wait() }
            if case .failure(let error) = worker.outcome { throw error }
            return rejected.contains(line)
        }
    }

    /// Stops the check and waits until its thread has exited.
    public func close() { worker.cancelAndWait() }

    private func check(_ source: any ImportCheckSource, target: Target) throws -> ImportVerdict {
        let rejects = RejectsFile(path: target.rejectsPath, owner: target.owner)
        var verdict = ImportVerdict()
        var last: RowError?
        // Past max_rejects the file is still read to the end, so that every bad row is listed in one go.
        var failing = false
        do {
            var items = 0
            while let item = try source.nextChecked() {
                if !item.rejectedRows.isEmpty {
                    if !item.continuesItem { verdict.itemsRejected += 1 }
                    verdict.rowsRejected += Int64(item.rejectedRows.count)
                    for (index, row) in item.rejectedRows.enumerated() {
                        try rejects.add(row, record: index < item.records.count ? item.records[index] : nil)
                    }
                    last = item.rejectedRows.first ?? last
                    failing = verdict.rowsRejected > Int64(target.maxRejects)
                    if !failing && !item.continuesItem {
                        verdict.rejectedLines.append(item.line)
                        condition.withLock { _ = rejected.insert(item.line) }
                    }
                }
                items += 1
                if items % 64 == 0 || failing {
                    let next = source.position.line
                    let stop = condition.withLock {
                        checkedBefore = next
                        condition.broadcast()
                        return worker.isCancelled
                    }
                    if stop { throw PipelineError(.internal, "the whole-file check was stopped") }
                }
            }
            try rejects.finish()
        } catch {
            try? rejects.finish()
            throw error
        }
        if failing, let last {
            throw PipelineError(
                .data,
                "\(verdict.rowsRejected) rejected rows, more than max_rejects \(target.maxRejects) "
                    + "(last: \(target.file):\(last.line):\(last.column): \(last.reason)); nothing was written to "
                    + "\(target.description); rejects are listed in \(target.rejectsPath)")
        }
        return verdict
    }
}
