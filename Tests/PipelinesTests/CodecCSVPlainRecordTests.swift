import Foundation
import Testing

@testable import Pipelines

/// `CSVReader.peekPlainRecord`: a record it finds must be one `next(into:)` reads without an error, with
/// the same two fields, the same length and the same lines; anything it is unsure of is left to `next`.
@Suite(.timeLimit(.minutes(2))) struct CodecCSVPlainRecordTests {
    let folder = CodecTemporaryFolder()

    /// What a reader that peeks first saw of a file, and how many records it found plain.
    struct Walk {
        var records: [[String?]] = []
        var plain = 0
    }

    /// Reads `bytes` twice at once, one reader peeking before each record and one with `next` alone, and
    /// checks them against each other record by record.
    func walk(
        _ bytes: [UInt8], first: Int, second: Int, firstMustBeEmpty: Bool = false, trims: Bool = false, bufferSize: Int = 1 << 20
    ) throws -> Walk {
        let path = folder.file("walk.csv", bytes)
        let peeking = CSVReader(input: try InputFile(path: path, bufferSize: bufferSize), skipsBlankLines: false, trimsSpaceAroundQuotes: trims)
        let full = CSVReader(input: try InputFile(path: path, bufferSize: bufferSize), skipsBlankLines: false, trimsSpaceAroundQuotes: trims)
        defer {
            peeking.input.close()
            full.input.close()
        }
        let record = RecordBuffer()
        let fullRecord = RecordBuffer()
        var walk = Walk()
        while true {
            let line = peeking.nextLine
            let plain = try peeking.peekPlainRecord(first, second, firstMustBeEmpty: firstMustBeEmpty)
            let fields = plain.map { [$0.first.map { String(decoding: $0, as: UTF8.self) }, $0.second.map { String(decoding: $0, as: UTF8.self) }] }
            if let plain { peeking.skip(plain) }
            let status = try plain == nil ? peeking.next(into: record) : nil
            guard let expected = try full.next(into: fullRecord) else {
                #expect(plain == nil && status == nil, "a record past the end at line \(line)")
                return walk
            }
            if let plain, let fields {
                walk.plain += 1
                #expect(expected.error == nil, "plain at line \(line), but \(String(describing: expected.error))")
                #expect(plain.line == expected.line)
                #expect(fields == [fullRecord.string(first), fullRecord.string(second)], "line \(line)")
                #expect(!firstMustBeEmpty || (fullRecord.field(first)?.allSatisfy { $0 == 0x20 || $0 == 0x09 } ?? true))
                walk.records.append(fields)
            } else {
                #expect(status == expected)
                walk.records.append([])
            }
            #expect(peeking.position == full.position, "after line \(line)")
            #expect(peeking.lastRecordText() == full.lastRecordText())
        }
    }

    @Test func plainRecordsAreFoundWithTheirFields() throws {
        let text = ",,x,SKU1,5.00\r\nName,slug,\"a, b\",SKU2,1\n,,\"two\nlines\",\"SKU3\",2\n,,é,SKU4,3\n"
        let result = try walk(Array(text.utf8), first: 0, second: 3)
        #expect(result.plain == 4)
        #expect(result.records == [[nil, "SKU1"], ["Name", "SKU2"], [nil, "SKU3"], [nil, "SKU4"]])
        // The line after the record with a line break inside a field.
        let lines = try walk(Array((text + "last,,,SKU5,\n").utf8), first: 0, second: 3)
        #expect(lines.plain == 5)
    }

    @Test func whatTheFullParserDecidesIsLeftToIt() throws {
        let cases: [(String, Bool)] = [
            ("\n", false),  // blank
            ("\r\n", false),
            (",,x,\"S\"\"1\",1\n", false),  // a doubled quote in a field asked for
            (",,x,S\"1,1\n", false),  // a quote inside an unquoted field
            (",,\"x\"y,S1,1\n", false),  // text after a closing quote
            (",,x,S1,1\rnext\n", false),  // a lone CR ends the record
            (",,x\n", false),  // too few fields
            (",,x,S1,\"open\n", false),  // a quote left open to the end of the file
            (",,x,S1,1", false),  // no line break at the end of the file
            (",,\u{FF}x,S1,1\n", false),  // not UTF-8 (the U+FF below is written as one byte)
            ("A,,x,S1,1\n", false),  // the first field must be empty
            ("  ,,x,S1,1\n", true),  // padding is empty
            (",,\"x\"\"y\",S1,1\n", true),  // a doubled quote in another field
        ]
        for (text, plain) in cases {
            var bytes = Array(text.utf8)
            if let invalid = bytes.firstIndex(of: 0xC3) { bytes.replaceSubrange(invalid...invalid + 1, with: [0xFF]) }
            let result = try walk(bytes, first: 0, second: 3, firstMustBeEmpty: true)
            #expect((result.plain > 0) == plain, "\(text.debugDescription)")
        }
        // Padding before a quote is the full parser's when it trims it; else it is data.
        #expect(try walk(Array(",, \"x\",S1,1\n".utf8), first: 0, second: 3, trims: true).plain == 0)
        #expect(try walk(Array(",, x,S1,1\n".utf8), first: 0, second: 3, trims: true).plain == 1)
        #expect(try walk(Array(",,x,S1,1\n".utf8), first: 0, second: 3).plain == 1)
    }

    @Test func recordsSplitAtEveryBufferBoundary() throws {
        let text = String(repeating: ",,\"a,\nb\",SKU-00001,12.50,x\r\nP,p,d,SKU-2,1,\"q\"\"\"\n", count: 8)
        let whole = try walk(Array(text.utf8), first: 0, second: 3)
        #expect(whole.plain == 16)
        for bufferSize in [7, 16, 17, 31, 64] {
            let split = try walk(Array(text.utf8), first: 0, second: 3, bufferSize: bufferSize)
            #expect(split.records == whole.records, "buffer of \(bufferSize) bytes")
        }
    }

    /// Mutants of product-file rows: whatever the bytes, the peeking reader reads what the full one does.
    @Test func mutantsReadTheSameBothWays() throws {
        let samples = [
            "name,slug,sku,price\nChair,chair,SKU1,1.00\n,,SKU2,2.00\r\n,,\"SKU3\",\"3,00\"\n\"Desk\",desk,SKU4,4\n",
            ",,\"two\nlines\",\"S\"\"5\"\n,, a ,SKU6,\n  \"padded\" ,x,SKU7,7\n,é,SKU8,8\n",
        ]
        var plain = 0
        let mutants = try FuzzTests.forEachMutant(of: samples, seed: 0x504C_4149) { bytes in
            for (trims, bufferSize) in [(false, 1 << 20), (true, 1 << 20), (true, 13)] {
                plain += try walk(bytes, first: 0, second: 2, firstMustBeEmpty: true, trims: trims, bufferSize: bufferSize).plain
                plain += try walk(bytes, first: 2, second: 1, trims: trims, bufferSize: bufferSize).plain
            }
        }
        #expect(mutants > 100)
        #expect(plain > mutants)
    }
}
