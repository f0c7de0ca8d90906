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

    @Test func duplicatesAreFoundAcrossCommits() throws {
        let seen = try SeenSKUs(cacheKiB: 64, commitEvery: 7)
        defer { seen.close() }
        for line in 1...1_000 {
            #expect(try seen.record("SKU-\(line)", line: line) == nil)
        }
        for line in stride(from: 1, through: 1_000, by: 37) {
            #expect(try seen.record("SKU-\(line)", line: 5_000 + line) == line)
        }
        #expect(try seen.record("SKU-1001", line: 6_001) == nil)
    }

    @Test func aClosedSetRefusesToRecord() throws {
        let seen = try SeenSKUs()
        seen.close()
        #expect(throws: DatabaseError.self) { try seen.record("A", line: 1) }
    }
}
