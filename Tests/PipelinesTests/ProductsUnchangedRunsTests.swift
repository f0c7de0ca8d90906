import Foundation
import Pipelines
import Testing

@testable import Stages

/// How the whole-file check hands unchanged blocks to the feed (`UnchangedRuns`), and how the reading
/// threads find a block's product by digest (`ProductSourceIndex`).
@Suite(.timeLimit(.minutes(1)))
struct ProductsUnchangedRunsTests {
    static func at(_ line: Int) -> ReaderPosition { ReaderPosition(offset: Int64(line * 10), line: line) }

    /// The check on a thread of its own: classifies `blocks` blocks, two lines each from line 2, as `kind`
    /// says of each (its unchanged rows, or the product whose prices and stock alone it changes), then ends.
    static func classifyOnAThread(
        _ runs: UnchangedRuns, blocks: Int, _ kind: @escaping @Sendable (Int) -> (unchangedRows: Int?, valuesOf: Int64?)
    ) {
        let check = Thread {
            for block in 0..<blocks {
                let line = 2 + block * 2
                let (rows, product) = kind(block)
                runs.classified(line: line, next: at(line + 2), unchangedRows: rows, valuesOf: product)
            }
            runs.finish()
        }
        check.start()
    }

    @Test func consecutiveUnchangedBlocksBecomeOneRunTakenOnceItEnds() throws {
        let runs = UnchangedRuns()
        // Blocks at lines 2, 4, 6 unchanged, 8 changed, 10 unchanged, then the end of the file at 12.
        let check = Thread {
            for (line, unchanged) in [(2, true), (4, true), (6, true), (8, false), (10, true)] {
                runs.classified(line: line, next: Self.at(line + 2), unchangedRows: unchanged ? 2 : nil)
            }
            runs.finish()
        }
        check.start()
        #expect(runs.run(at: 2) == UnchangedRuns.Run(line: 2, end: Self.at(8), products: 3, variantRows: 6))
        #expect(runs.run(at: 8) == nil)
        #expect(runs.run(at: 10) == UnchangedRuns.Run(line: 10, end: Self.at(12), products: 1, variantRows: 2))
        #expect(runs.run(at: 12) == nil)
    }

    @Test func theFeedDropsRunsItWasNotAskedFor() {
        let runs = UnchangedRuns()
        runs.classified(line: 2, next: Self.at(4), unchangedRows: 1)
        runs.classified(line: 4, next: Self.at(6), unchangedRows: nil)
        runs.classified(line: 6, next: Self.at(8), unchangedRows: 1)
        runs.finish()
        // A feed that read line 2's block itself (after a resume, say) drops that run and takes the next.
        #expect(runs.run(at: 4) == nil)
        #expect(runs.run(at: 6)?.products == 1)
    }

    @Test func blocksWhoseValuesAloneChangedGoToTheFeedWithTheirProduct() {
        let runs = UnchangedRuns()
        runs.classified(line: 2, next: Self.at(4), unchangedRows: 1)
        runs.classified(line: 4, next: Self.at(6), unchangedRows: nil, valuesOf: 41)
        runs.classified(line: 6, next: Self.at(8), unchangedRows: nil)
        runs.classified(line: 8, next: Self.at(10), unchangedRows: nil, valuesOf: 43)
        runs.classified(line: 10, next: Self.at(12), unchangedRows: nil, valuesOf: 45)
        runs.finish()
        #expect(runs.run(at: 2)?.products == 1)
        #expect(runs.run(at: 4) == nil)
        #expect(runs.valuesOf(blockAt: 4) == 41)
        #expect(runs.valuesOf(blockAt: 4) == nil)
        #expect(runs.run(at: 6) == nil)
        #expect(runs.valuesOf(blockAt: 6) == nil)
        // The feed read line 8's block in parts and did not ask about it.
        #expect(runs.run(at: 10) == nil)
        #expect(runs.valuesOf(blockAt: 10) == 45)
    }

    /// Blocks the feed does not ask about take room from the runs until the feed passes them.
    @Test func blocksTheFeedDoesNotAskAboutDoNotHoldTheCheckUp() throws {
        let runs = UnchangedRuns(capacity: 4)
        let blocks = runs.capacity * 10
        Self.classifyOnAThread(runs, blocks: blocks) { block -> (unchangedRows: Int?, valuesOf: Int64?) in
            block % 5 == 0 ? (1, nil) : (nil, Int64(block))
        }
        var vouched = 0
        for block in 0..<blocks {
            let line = 2 + block * 2
            if runs.run(at: line) != nil { continue }
            // Every third block read in parts: not asked about.
            if block % 3 != 0, runs.valuesOf(blockAt: line) == Int64(block) { vouched += 1 }
        }
        #expect(vouched == (0..<blocks).filter { $0 % 5 != 0 && $0 % 3 != 0 }.count)
    }

    /// With a small queue: the feed and the check take turns block by block here, and under load each
    /// turn can wait for the scheduler (4,096 runs of room made this test take a minute once).
    @Test func theCheckWaitsForRoomAndNeverForTheFeedsOwnBlocks() throws {
        let runs = UnchangedRuns(capacity: 16)
        let blocks = runs.capacity * 3
        // Every other block changed: as many runs as unchanged blocks, three times the room.
        Self.classifyOnAThread(runs, blocks: blocks) { block in (block % 2 == 0 ? 1 : nil, nil) }
        var taken = 0
        for block in 0..<blocks where runs.run(at: 2 + block * 2) != nil { taken += 1 }
        #expect(taken == blocks / 2)
    }

    @Test(arguments: [SQLDialect.sqlite, .postgres]) func theIndexFollowsTheFileThroughEditsRemovalsAndInsertions(
        dialect: SQLDialect
    ) throws {
        try withStoreDatabase(dialect) { database throws in
            let connection = database.connection
            try StoreSchema.schema.migrate(connection, logger: Logger(handler: SilentLogHandler()))
            let now = "'2026-01-01T00:00:00Z'"
            for id in 1...200 {
                try connection.executeScript("INSERT INTO store_products (id, created_at, updated_at) VALUES (\(id), \(now), \(now))")
                // Rows recorded before 2026-12-07 hold all 64 hex digits; later ones the first 32.
                let digest = try SHA256.hex(of: "d\(id)")
                _ = try connection.execute(
                    "INSERT INTO store_product_sources (product_id, digest, line) VALUES ($1, $2, $3)",
                    [.integer(Int64(id)), .text(id % 2 == 0 ? String(digest.prefix(32)) : digest), .integer(Int64(id * 3))])
            }
            guard let index = try ProductSourceIndex.open(try StoreTestDatabase.open(database.locator, schema: database.schema)) else {
                Issue.record("a store with recorded sources gave no index")
                return
            }
            defer { index.close() }
            // The file: product 5 changed, 10...19 removed, a new block before 30, 40 moved to the end.
            var file: [(digest: String, line: Int)] = []
            var line = 2
            for id in 1...200 where !(10...19).contains(id) && id != 40 {
                if id == 30 { file.append(("new", line)); line += 3 }
                file.append((id == 5 ? "d5-changed" : "d\(id)", line))
                line += 3
            }
            file.append(("d40", line))
            var found: [Int64?] = []
            for block in file {
                let digest = try #require(SHA256Value(hex: SHA256.hex(of: block.digest)))
                found.append(try index.product(digest: digest, line: block.line))
            }
            let expected: [Int64?] = file.map { block in
                guard block.digest.hasPrefix("d"), !block.digest.hasSuffix("changed"), block.digest != "d40" else { return nil }
                return Int64(block.digest.dropFirst())
            }
            #expect(found == expected)
        }
    }
}
