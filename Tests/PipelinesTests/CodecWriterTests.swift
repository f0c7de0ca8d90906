import Testing
import Pipelines

@Suite struct CodecWriterTests {
    let folder = CodecTemporaryFolder()

    @Test func csvRoundTripKeepsNullAndEmptyString() throws {
        let rows: [[String?]] = [
            ["1", nil, "", "plain"],
            ["a,b", "say \"hi\"", "two\r\nlines", " padded "],
            ["\\.", "lone\rcr", "tab\t", "ünï"],
        ]
        let output = try OutputFile(path: folder.path + "/out/rows.csv")
        let writer = CSVWriter(output: output)
        try writer.writeHeader(["w", "x", "y", "z"])
        for row in rows { try writer.writeRow(row) }
        try output.close()
        #expect(writer.rowsWritten == 3)
        let records = try readAllCSV(folder.path + "/out/rows.csv")
        #expect(records.map(\.fields) == [["w", "x", "y", "z"]] + rows)
        #expect(records.allSatisfy { $0.error == nil })
        #expect(folder.contents("out/rows.csv")?.hasPrefix("w,x,y,z\n1,,\"\",plain\n\"a,b\",") == true)
    }

    @Test func csvWritesRowViewsAndRecords() throws {
        let output = try OutputFile(path: folder.path + "/rows.csv")
        let writer = CSVWriter(output: output, usesCRLF: true)
        try writer.writeRow(
            CodecTestRow(bytes: [(.integer, Array("7".utf8)), (.binary, [0x00, 0xAB]), (.text, nil)]))
        let record = RecordBuffer()
        record.appendField("x y")
        record.appendNull()
        record.appendField("")
        try writer.writeRecord(record)
        try output.close()
        #expect(folder.contents("rows.csv") == "7,\\x00ab,\r\nx y,,\"\"\r\n")
    }

    @Test func jsonlWriterKeepsKindsAndEscapes() throws {
        let output = try OutputFile(path: folder.path + "/rows.jsonl")
        let columns = [
            ColumnInfo(name: "id", kind: .integer), ColumnInfo(name: "amount", kind: .decimal),
            ColumnInfo(name: "ok", kind: .boolean), ColumnInfo(name: "note", kind: .text),
            ColumnInfo(name: "blob", kind: .binary), ColumnInfo(name: "gone", kind: .text),
        ]
        let writer = JSONLWriter(output: output, columns: columns)
        try writer.writeRow(
            CodecTestRow([
                (.integer, "12345678901234567890"), (.decimal, "-0.10"), (.boolean, "true"),
                (.text, "q\"b\\s/\n\t\u{01}é"), (.binary, "hello"), (.text, nil),
            ]))
        try writer.writeRow(
            CodecTestRow([(.integer, "1"), (.decimal, "NaN"), (.boolean, "false"), (.text, ""), (.binary, "hi"), (.null, nil)]))
        try output.close()
        #expect(
            folder.contents("rows.jsonl")
                == """
                {"id":12345678901234567890,"amount":-0.10,"ok":true,"note":"q\\"b\\\\s/\\n\\t\\u0001é","blob":"aGVsbG8=","gone":null}
                {"id":1,"amount":"NaN","ok":false,"note":"","blob":"aGk=","gone":null}

                """)
    }

    @Test func jsonlWriterOutputReadsBack() throws {
        let output = try OutputFile(path: folder.path + "/rows.jsonl")
        let writer = JSONLWriter(output: output, columns: [ColumnInfo(name: "n", kind: .decimal), ColumnInfo(name: "t", kind: .text)])
        try writer.writeRow(CodecTestRow([(.decimal, "12345678901234567890.123456789"), (.text, "line\nbreak \u{1F600}")]))
        try output.close()
        let reader = try JSONLReader(path: folder.path + "/rows.jsonl")
        let record = RecordBuffer()
        #expect(try reader.next(into: record)?.isValid == true)
        #expect(fields(of: record) == ["12345678901234567890.123456789", "line\nbreak \u{1F600}"])
    }
}
