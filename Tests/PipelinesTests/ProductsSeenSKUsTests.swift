import Foundation
import Pipelines
import Testing

@testable import Stages

@Suite struct ProductsSeenSKUsTests {
    @Test func aRepeatedSKUGivesTheLineThatFirstUsedIt() throws {
        let seen = try SeenSKUs()
        defer { seen.close() }
        #expect(try seen.record("A", line: 2) == nil)
        #expect(try seen.record("B", line: 3) == nil)
        #expect(try seen.record("A", line: 7) == 2)
        // The first line stays the one recorded.
        #expect(try seen.record("A", line: 9) == 2)
        #expect(try seen.record("B", line: 10) == 3)
    }

    @Test func emptyAndUnusualSKUsAreKeysLikeAnyOther() throws {
        let seen = try SeenSKUs()
        defer { seen.close() }
        for (line, sku) in ["", " ", "a", "A", "404.038.96", "zh-奇妙", "nul\u{0}byte", "nul"].enumerated() {
            #expect(try seen.record(sku, line: line + 1) == nil, "\(sku)")
        }
        #expect(try seen.record("", line: 20) == 1)
        #expect(try seen.record("nul\u{0}byte", line: 21) == 7)
        #expect(try seen.record("nul", line: 22) == 8)
    }

    @Test func skusAreComparedByTheirBytes() throws {
        let seen = try SeenSKUs(batchSize: 2)
        defer { seen.close() }
        #expect(try seen.record("caf\u{E9}", line: 1) == nil)
        #expect(try seen.record("cafe\u{301}", line: 2) == nil)
        #expect(try seen.record("x", line: 3) == nil)
        #expect(try seen.record("cafe\u{301}", line: 4) == 2)
        #expect(try seen.record("caf\u{E9}", line: 5) == 1)
    }

    /// SKUs in order, in reverse and shuffled, through small batches and commits; a filter of 64 bits
    /// says "maybe" for nearly everything, so the database lookups are tried too.
    @Test(arguments: [1 << 25, 64])
    func duplicatesAreFoundAcrossBatchesAndCommits(filterBits: Int) throws {
        var random = SeedRandom(seed: 7)
        for order in ["ascending", "descending", "shuffled"] {
            var skus = (1...1_000).map { String(format: "SKU-%05d", $0) }
            if order == "descending" { skus.reverse() }
            if order == "shuffled" { skus.shuffle(using: &random) }
            let seen = try SeenSKUs(batchSize: 7, filterBits: filterBits, cacheKiB: 64, commitEvery: 5)
            defer { seen.close() }
            for (index, sku) in skus.enumerated() {
                #expect(try seen.record(sku, line: index + 2) == nil, "\(order) \(sku)")
            }
            for index in stride(from: 0, to: skus.count, by: 37) {
                #expect(try seen.record(skus[index], line: 5_000 + index) == index + 2, "\(order) \(skus[index])")
            }
            #expect(try seen.record("SKU-99999", line: 6_001) == nil)
            #expect(try seen.record("SKU-00000", line: 6_002) == nil)
            #expect(try seen.record("SKU-00000", line: 6_003) == 6_002)
        }
    }

    @Test func aClosedSetRefusesToRecord() throws {
        let seen = try SeenSKUs()
        seen.close()
        #expect(throws: DatabaseError.self) { try seen.record("A", line: 1) }
    }

    /// The starts of unchanged blocks come back by product, whether their ids rose batch by batch (kept
    /// a batch a row), fell, or repeated a range already stored (kept a row each), and still pending.
    @Test func unchangedStartsAreFoundInRunsAndSingly() throws {
        let starts = try UnchangedStarts()
        defer { starts.close() }
        // 64 rising from 1000, 64 falling from 500, 64 rising again from 2000 with a hole, 10 more pending,
        // then 64 that rise but reach into the first run's range.
        let rising = (0..<64).map { Int64(1000 + 2 * $0) }
        let falling = (0..<64).map { Int64(500 - $0) }
        let risingAgain = (0..<64).map { Int64(2000 + 3 * $0) }
        let overlapping = (0..<64).map { Int64(1001 + 2 * $0) }
        let pending = (0..<10).map { Int64(9000 + $0) }
        let all = rising + falling + risingAgain + overlapping + pending
        for (index, id) in all.enumerated() {
            try starts.add(id, at: ReaderPosition(offset: Int64(100 * index), line: index + 2))
        }
        for (index, id) in all.enumerated() {
            #expect(try starts.start(of: id) == ReaderPosition(offset: Int64(100 * index), line: index + 2), "product \(id)")
        }
        for absent: Int64 in [0, 436, 999, 1128, 1999, 2001, 2190, 8999, 9010, .max] {
            #expect(try starts.start(of: absent) == nil, "product \(absent)")
        }
    }
}

/// xorshift64: a repeatable shuffle.
struct SeedRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
