import Testing
import Pipelines

@Suite struct CodecJSONLReaderTests {
    let folder = CodecTemporaryFolder()

    func readAll(_ text: String, columns: [String]? = nil) throws -> [(fields: [String?], status: RecordStatus)] {
        let reader = try JSONLReader(path: folder.file("a.jsonl", text), columns: columns)
        let record = RecordBuffer()
        var result: [(fields: [String?], status: RecordStatus)] = []
        while let status = try reader.next(into: record) { result.append((fields(of: record), status)) }
        return result
    }

    @Test func numbersKeepTheirExactText() throws {
        let rows = try readAll(#"{"n": 12345678901234567890.123456789, "e": -1.5E+300, "z": 0}"# + "\n")
        #expect(rows.first?.fields == ["12345678901234567890.123456789", "-1.5E+300", "0"])
    }

    @Test func valuesOfEveryKindInTheGivenKeyOrder() throws {
        let text = """
            {"b": true, "a": "x", "c": null, "d": {"k": [1, 2.50, "s\\u0041"], "e": {}}, "f": false}
            {"a": "only a"}
            """
        let rows = try readAll(text, columns: ["a", "b", "c", "d", "f"])
        #expect(rows.map(\.fields) == [
            ["x", "true", nil, #"{"k":[1,2.50,"s\u0041"],"e":{}}"#, "false"],
            ["only a", nil, nil, nil, nil],
        ])
    }

    @Test func stringEscapesIncludingSurrogatePairs() throws {
        let rows = try readAll(#"{"s": "q\"b\\s\/n\n\t\r\b\f \u00e9 \ud83d\ude00 \u65E5 é"}"#)
        #expect(rows.first?.fields == ["q\"b\\s/n\n\t\r\u{08}\u{0C} é 😀 日 é"])
    }

    @Test func columnsDefaultToTheKeysOfTheFirstObjectAndBlankLinesAreSkipped() throws {
        let reader = try JSONLReader(path: folder.file("a.jsonl", "\n  \n{\"x\":1,\"y\":\"two\"}\r\n\n{\"y\":\"3\"}"))
        #expect(try reader.keysOfFirstValidObject() == ["x", "y"])
        let record = RecordBuffer()
        #expect(try reader.next(into: record) == RecordStatus(line: 3))
        #expect(reader.columns == ["x", "y"])
        #expect(fields(of: record) == ["1", "two"])
        #expect(try reader.next(into: record) == RecordStatus(line: 5))
        #expect(fields(of: record) == [nil, "3"])
        #expect(try reader.next(into: record) == nil)
    }

    @Test func rowErrorsHaveLineAndColumnAndReadingContinues() throws {
        let text = """
            {"a": 1}
            {"a": 1, "zz": 2}
            [1]
            {"a": 01}
            {"a": "\\ud800"}
            {"a": tru}
            {"a": 1} x
            {"a": "open
            {"a": 1, "a": 2}
            {"a": 5}
            """
        let rows = try readAll(text, columns: ["a"])
        #expect(rows.map { $0.status.error } == [
            nil,
            RowError(line: 2, column: 10, reason: "unknown key 'zz'"),
            RowError(line: 3, column: 1, reason: "expected a JSON object"),
            RowError(line: 4, column: 8, reason: "expected ',' or '}'"),
            RowError(line: 5, column: 8, reason: "\\u escape is a high surrogate without its low half"),
            RowError(line: 6, column: 7, reason: "invalid value"),
            RowError(line: 7, column: 10, reason: "unexpected characters after the object"),
            RowError(line: 8, column: 7, reason: "string not closed"),
            RowError(line: 9, column: 10, reason: "key 'a' appears twice"),
            nil,
        ])
        #expect(rows.last?.fields == ["5"])
    }

    @Test func invalidUTF8IsReportedAtItsByte() throws {
        let path = folder.file("a.jsonl", Array(#"{"a": ""#.utf8) + [0xFF] + Array("\"}\n{\"a\": \"ok\"}\n".utf8))
        let reader = try JSONLReader(path: path, columns: ["a"])
        let record = RecordBuffer()
        #expect(try reader.next(into: record)?.error == RowError(line: 1, column: 8, reason: "invalid UTF-8"))
        #expect(try reader.next(into: record)?.isValid == true)
        #expect(fields(of: record) == ["ok"])
    }

    /// A broken first line once failed the whole file; it is a rejected row like a broken second line.
    @Test func brokenFirstLineIsARowErrorAndColumnsComeFromTheFirstValidObject() throws {
        let path = folder.file("a.jsonl", "\u{FEFF}{\"a\" 1}\n\n{\"a\":2,\"b\":\"x\"}\n{\"a\":3}\n")
        let reader = try JSONLReader(path: path)
        #expect(try reader.keysOfFirstValidObject() == ["a", "b"])
        let record = RecordBuffer()
        #expect(try reader.next(into: record)?.error?.line == 1)
        #expect(try reader.next(into: record) == RecordStatus(line: 3))
        #expect(fields(of: record) == ["2", "x"])
        #expect(try reader.next(into: record) == RecordStatus(line: 4))
        #expect(try reader.next(into: record) == nil)
        #expect(try JSONLReader(path: folder.file("b.jsonl", "{\"a\" 1}\n[]\n")).keysOfFirstValidObject() == nil)
    }

    @Test func lineLengthIsLimited() throws {
        let reader = JSONLReader(input: try InputFile(path: folder.file("a.jsonl", String(repeating: " ", count: 500)), bufferSize: 32))
        reader.maximumLineBytes = 100
        #expect(throws: PipelineError.self) { try reader.next(into: RecordBuffer()) }
    }

    @Test func longLinesAcrossSmallBuffers() throws {
        var text = ""
        for row in 0..<200 { text += "{\"id\": \(row), \"text\": \"\(String(repeating: "é", count: row))\"}\n" }
        let reader = JSONLReader(input: try InputFile(path: folder.file("a.jsonl", text), bufferSize: 16))
        let record = RecordBuffer()
        var count = 0
        while let status = try reader.next(into: record) {
            #expect(status == RecordStatus(line: count + 1))
            #expect(fields(of: record) == ["\(count)", String(repeating: "é", count: count)])
            count += 1
        }
        #expect(count == 200)
    }
}
