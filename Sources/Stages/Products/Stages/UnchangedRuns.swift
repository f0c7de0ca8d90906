import Foundation
import Pipelines

/// The unchanged blocks the whole-file check found, handed to the feed so that it seeks past them
/// instead of reading them a second time: runs of consecutive unchanged blocks, in file order, a
/// bounded number at a time. With them go the blocks found to change their stored product's prices and
/// stock levels alone, with that product, which the writer then does not look up by SKU and slug.
///
/// The check classifies every block in turn; the feed, at each block it comes to, waits until the
/// check has classified it and, when it starts a run, until the run has ended, then takes the run.
/// The feed comes to every block start the check does (its blocks are the check's), so it takes or
/// drops every run in order. Either side wakes the other only when it waits for what just happened.
final class UnchangedRuns: @unchecked Sendable {
    struct Run: Equatable {
        /// The first line of the run's first block.
        var line: Int
        /// Where the block after the run starts.
        var end: ReaderPosition
        var products = 0
        var variantRows = 0
    }

    /// Ended runs waiting for the feed before the check waits for room.
    let capacity: Int

    private let condition = NSCondition()
    private var runs: [Run] = []
    private var first = 0
    /// Blocks whose prices and stock levels alone changed, by their first line: the stored product.
    private var valueBlocks: [(line: Int, productID: Int64)] = []
    private var firstValueBlock = 0
    /// The last run can still grow: the last block classified was unchanged.
    private var lastRunOpen = false
    /// Every block starting before this line has been classified.
    private var checkedBefore = 0
    private var finished = false
    /// The line the feed waits at, if it waits.
    private var feedWaitsAt: Int?
    private var checkWaits = false

    init(capacity: Int = 4_096) {
        self.capacity = max(1, capacity)
    }

    /// The check: the block at `line` (`unchangedRows`: its variant rows when it is unchanged, else nil;
    /// `valuesOf`: the stored product whose prices and stock levels alone it changes) is classified; the
    /// next block starts at `next`.
    func classified(line: Int, next: ReaderPosition, unchangedRows: Int?, valuesOf productID: Int64? = nil) {
        condition.withLock {
            if let productID {
                waitForRoom()
                Self.dropTaken(&valueBlocks, taken: &firstValueBlock)
                valueBlocks.append((line, productID))
            }
            if let rows = unchangedRows {
                if lastRunOpen, first < runs.count, runs[runs.count - 1].end.line == line {
                    runs[runs.count - 1].end = next
                    runs[runs.count - 1].products += 1
                    runs[runs.count - 1].variantRows += rows
                } else {
                    waitForRoom()
                    Self.dropTaken(&runs, taken: &first)
                    runs.append(Run(line: line, end: next, products: 1, variantRows: rows))
                }
            }
            lastRunOpen = unchangedRows != nil
            checkedBefore = max(checkedBefore, next.line)
            if let line = feedWaitsAt, canAnswer(line) { condition.broadcast() }
        }
    }

    /// Removes the `taken` entries at the front of `entries` once they are half of it: the queue's memory
    /// stays bounded, and each entry is moved a bounded number of times.
    private static func dropTaken<Entry>(_ entries: inout [Entry], taken: inout Int) {
        guard taken > 0 && taken * 2 >= entries.count else { return }
        entries.removeFirst(taken)
        taken = 0
    }

    /// Under the lock: waits while `capacity` runs and blocks wait for the feed.
    private func waitForRoom() {
        while runs.count - first + valueBlocks.count - firstValueBlock >= capacity && !finished {
            checkWaits = true
            condition.wait()
        }
    }

    /// The check has ended (read the whole file, failed or stopped): the feed waits no more.
    func finish() {
        condition.withLock {
            finished = true
            lastRunOpen = false
            condition.broadcast()
        }
    }

    /// The feed, at the block starting at `line`: the run starting there, once the check has passed it
    /// and the run has ended.
    func run(at line: Int) -> Run? {
        condition.withLock {
            // What the feed passed without taking it (blocks it read itself) must not hold the check up.
            dropPassed(before: line)
            while !canAnswer(line) {
                feedWaitsAt = line
                condition.wait()
            }
            feedWaitsAt = nil
            dropPassed(before: line)
            guard first < runs.count, runs[first].line == line else { return nil }
            first += 1
            return runs[first - 1]
        }
    }

    /// The feed, having read the block at `line` in full (after `run(at:)` at or before it): the stored
    /// product whose prices and stock levels alone the block changes, when the check found it so.
    func valuesOf(blockAt line: Int) -> Int64? {
        condition.withLock {
            dropPassed(before: line)
            guard firstValueBlock < valueBlocks.count, valueBlocks[firstValueBlock].line == line else { return nil }
            firstValueBlock += 1
            wakeTheCheck()
            return valueBlocks[firstValueBlock - 1].productID
        }
    }

    /// Under the lock: drops the runs and blocks before `line`, and wakes the check if it waits for room.
    private func dropPassed(before line: Int) {
        while first < runs.count, runs[first].line < line { first += 1 }
        while firstValueBlock < valueBlocks.count, valueBlocks[firstValueBlock].line < line { firstValueBlock += 1 }
        wakeTheCheck()
    }

    private func wakeTheCheck() {
        guard checkWaits else { return }
        checkWaits = false
        condition.broadcast()
    }

    /// Whether the block at `line` is classified, and the run it starts (if any) has ended.
    private func canAnswer(_ line: Int) -> Bool {
        if finished { return true }
        guard checkedBefore > line else { return false }
        return !(lastRunOpen && runs.last?.line == line)
    }
}
