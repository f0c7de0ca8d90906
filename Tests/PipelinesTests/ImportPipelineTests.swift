import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// The shared import machinery: its checkpoint, its whole-file check, its transactions.
@Suite(.timeLimit(.minutes(1))) struct ImportPipelineTests {
    struct TableProgress: Codable, Equatable {
        var columns: [String]
        var read: Int64
        var written: Int64
        var rejected: Int64
    }

    struct ProductProgress: Codable {
        var counts: ProductImportCounts
    }

    @Test func checkpointsOfEarlierVersionsStillResume() throws {
        // As table.import and products.import wrote them before they shared the pipeline.
        let table = #"{"columns":["id","sku"],"finished":false,"input":{"modified":1700000000000,"size":120},"position":{"line":5,"offset":64},"read":4,"rejected":1,"written":3}"#
        let decoded = try JSONDecoder().decode(ImportCheckpoint<TableProgress>.self, from: Data(table.utf8))
        #expect(decoded.position == ReaderPosition(offset: 64, line: 5))
        #expect(decoded.input == InputFingerprint(size: 120, modified: 1_700_000_000_000))
        #expect(decoded.rejectedLines == [])
        #expect(decoded.progress == TableProgress(columns: ["id", "sku"], read: 4, written: 3, rejected: 1))
        let products = #"{"counts":{"productsCreated":2,"productsRejected":0,"productsUnchanged":0,"productsUpdated":0,"rowsRead":8,"rowsRejected":0,"variantsCreated":8,"variantsDeleted":0,"variantsUnchanged":0,"variantsUpdated":0},"finished":true,"input":{"modified":1,"size":2},"position":{"line":9,"offset":900},"rejectedLines":[12,40]}"#
        let product = try JSONDecoder().decode(ImportCheckpoint<ProductProgress>.self, from: Data(products.utf8))
        #expect(product.finished)
        #expect(product.rejectedLines == [12, 40])
        #expect(product.progress.counts.variantsCreated == 8)
        // And what is written now reads back the same, flat.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let again = String(decoding: try encoder.encode(decoded), as: UTF8.self)
        #expect(again == table.replacingOccurrences(of: #""rejected":1"#, with: #""rejected":1,"rejectedLines":[]"#))
    }

    /// Items from a list: a line number and whether it is rejected.
    final class ListSource: ImportCheckSource {
        var items: [(line: Int, bad: Bool)]
        var next = 0
        var closed = false
        init(_ items: [(line: Int, bad: Bool)]) { self.items = items }
        func nextChecked() throws -> CheckedItem? {
            guard next < items.count else { return nil }
            defer { next += 1 }
            let item = items[next]
            return CheckedItem(
                line: item.line, rejectedRows: item.bad ? [RowError(line: item.line, column: 2, reason: "bad \(item.line)")] : [])
        }
        var position: ReaderPosition { ReaderPosition(offset: Int64(next), line: next < items.count ? items[next].line : 1000) }
        func close() { closed = true }
    }

    @Test func theCheckListsRejectsAndPassesWithinMaxRejects() throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rejects = folder.appendingPathComponent("rejects.csv").path
        let source = ListSource((1...300).map { ($0 + 1, $0 % 100 == 0) })
        let check = ImportCheck(
            source: source, target: ImportCheck.Target(file: "in.csv", description: "t", maxRejects: 3, rejectsPath: rejects))
        defer { check.close() }
        #expect(try check.isRejected(line: 101))
        #expect(try !check.isRejected(line: 102))
        let verdict = try check.verdict()
        #expect(verdict.rowsRejected == 3)
        #expect(verdict.rejectedLines == [101, 201, 301])
        #expect(source.closed)
        #expect(try String(contentsOfFile: rejects, encoding: .utf8) == "line,column,reason\n101,2,bad 101\n201,2,bad 201\n301,2,bad 301\n")
    }

    @Test func pastMaxRejectsTheCheckFailsAndNamesTheLastBadRow() throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let rejects = folder.appendingPathComponent("rejects.csv").path
        let check = ImportCheck(
            source: ListSource([(2, true), (3, false), (4, true)]),
            target: ImportCheck.Target(file: "in.csv", description: "table t", maxRejects: 1, rejectsPath: rejects))
        defer { check.close() }
        do {
            _ = try check.verdict()
            Issue.record("expected a failure")
        } catch let error as PipelineError {
            #expect(error.code == .data)
            #expect(
                error.message
                    == "2 rejected rows, more than max_rejects 1 (last: in.csv:4:2: bad 4); nothing was written to table t; rejects are listed in \(rejects)")
        }
        #expect(throws: PipelineError.self) { _ = try check.isRejected(line: 3) }
    }

    @Test func inTransactionCommitsOrRollsBack() throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let connection = try DatabaseLocator.sqlite(path: folder.appendingPathComponent("t.db").path)
            .connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        try connection.executeScript("CREATE TABLE t (x INTEGER)")
        try connection.inTransaction { try connection.execute("INSERT INTO t VALUES (1)", []) }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try connection.inTransaction {
                try connection.execute("INSERT INTO t VALUES (2)", [])
                throw Stop()
            }
        }
        var rows: [Int64] = []
        try connection.inReadTransaction {
            try connection.query("SELECT x FROM t", [], columns: { _ in }) { rows.append($0.int64(0) ?? 0) }
        }
        #expect(rows == [1])
        // Nothing is left open: a new transaction starts.
        try connection.inTransaction { try connection.execute("INSERT INTO t VALUES (3)", []) }
    }

    @Test func scratchDatabasesBindBytesInPlace() throws {
        let scratch = try SQLiteScratch(purpose: "a test", cacheKiB: 64)
        defer { scratch.close() }
        try scratch.execute("CREATE TABLE s (k TEXT PRIMARY KEY, n INTEGER)")
        let insert = try scratch.prepare("INSERT INTO s VALUES (?1, ?2)")
        var text = "é-key"
        try text.withUTF8 { bytes in
            try insert.bind(text: UnsafeRawBufferPointer(bytes), at: 1)
            try insert.bind(7, at: 2)
            #expect(try !insert.step())
            insert.reset()
        }
        let lookup = try scratch.prepare("SELECT k, n FROM s")
        #expect(try lookup.step())
        #expect(lookup.int64(1) == 7)
        #expect(lookup.withBytes(0) { String(decoding: $0, as: UTF8.self) } == "é-key")
        lookup.reset()
        do {
            _ = try scratch.prepare("SELECT nope FROM s")
            Issue.record("expected a failure")
        } catch let error as DatabaseError {
            #expect(error.message.hasPrefix("a test: no such column"))
        }
        scratch.close()
        #expect(throws: DatabaseError.self) { try insert.bind(1, at: 1) }
    }
}
