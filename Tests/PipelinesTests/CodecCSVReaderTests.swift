import Testing
import Pipelines

@Suite struct CodecCSVReaderTests {
    let folder = CodecTemporaryFolder()

    @Test func readsSimpleRowsWithNullAndEmptyString() throws {
        let path = folder.file("a.csv", "id,name,note\n1,Ann,\n2,\"\",x\n3,,\"\"\n")
        let records = try readAllCSV(path)
        #expect(records.map(\.fields) == [["id", "name", "note"], ["1", "Ann", nil], ["2", "", "x"], ["3", nil, ""]])
        #expect(records.map(\.line) == [1, 2, 3, 4])
        #expect(records.allSatisfy { $0.error == nil })
    }

    @Test func quotedFieldsWithEscapedQuotesDelimitersAndEmbeddedCRLF() throws {
        let path = folder.file("a.csv", "a,b\r\n\"say \"\"hi\"\"\",\"x,y\"\r\n\"two\r\nlines\",z\r\nlast,row\r\n")
        let records = try readAllCSV(path)
        #expect(records.map(\.fields) == [["a", "b"], ["say \"hi\"", "x,y"], ["two\r\nlines", "z"], ["last", "row"]])
        #expect(records.map(\.line) == [1, 2, 3, 5])
    }

    @Test func lineNumbersAfterEmbeddedLFAndBlankLines() throws {
        let path = folder.file("a.csv", "h\n\"a\nb\nc\"\n\nnext\n\r\nafter")
        let records = try readAllCSV(path)
        #expect(records.map(\.fields) == [["h"], ["a\nb\nc"], ["next"], ["after"]])
        #expect(records.map(\.line) == [1, 2, 6, 8])
    }

    @Test func skipsByteOrderMarkAndReadsLastRecordWithoutNewline() throws {
        let path = folder.file("a.csv", [0xEF, 0xBB, 0xBF] + Array("name,age\nBo,3".utf8))
        let reader = try CSVReader(path: path)
        #expect(try reader.readHeader() == ["name", "age"])
        let record = RecordBuffer()
        let status = try reader.next(into: record)
        #expect(status == RecordStatus(line: 2))
        #expect(fields(of: record) == ["Bo", "3"])
        #expect(try reader.next(into: record) == nil)
    }

    @Test func invalidUTF8IsARowErrorWithColumnAndReadingRecovers() throws {
        let path = folder.file("a.csv", Array("a,b,c\n1,".utf8) + [0x66, 0xC3, 0x28] + Array(",3\n4,é,6\n".utf8))
        let records = try readAllCSV(path)
        #expect(records.count == 3)
        #expect(records[1].error == RowError(line: 2, column: 2, reason: "invalid UTF-8"))
        #expect(records[2].fields == ["4", "é", "6"])
        #expect(records[2].error == nil)
    }

    @Test func utf8SplitByADelimiterIsInvalid() throws {
        let path = folder.file("a.csv", [0xC3, 0x2C, 0xA9, 0x0A])
        let records = try readAllCSV(path)
        #expect(records.first?.error?.column == 1)
    }

    @Test func quoteInsideUnquotedFieldIsARowError() throws {
        let path = folder.file("a.csv", "a,b\n1,x\"y\n2,ok\n")
        let records = try readAllCSV(path)
        #expect(records[1].error == RowError(line: 2, column: 2, reason: "quote inside an unquoted field"))
        #expect(records[2] == ReadCSVRecord(fields: ["2", "ok"], line: 3, error: nil))
    }

    @Test func charactersAfterClosingQuoteAreARowError() throws {
        let path = folder.file("a.csv", "a,b,c\n\"x\"y,\"multi\nline\",z\n2,ok,3\n")
        let records = try readAllCSV(path)
        #expect(records[1].error == RowError(line: 2, column: 1, reason: "characters after a closing quote"))
        #expect(records[2] == ReadCSVRecord(fields: ["2", "ok", "3"], line: 4, error: nil))
    }

    @Test func unterminatedQuoteAtEndOfFile() throws {
        let path = folder.file("a.csv", "a,b\n1,\"open\nstill open\n")
        let records = try readAllCSV(path)
        #expect(records.count == 2)
        #expect(records[1].error
            == RowError(line: 2, column: 2, reason: "quoted field not closed before the end of the file"))
    }

    @Test func spaceAroundQuotesIsPaddingWhenAsked() throws {
        let text = "a,b,c\n x , \"paper, stretch\"  ,\t\"q\"\"x\"\t\n\"two\nlines\"  , \"\" ,z\n\"x\" y,2,3\nlast, \"end\"  "
        let path = folder.file("a.csv", text)
        func read(bufferSize: Int) throws -> [ReadCSVRecord] {
            let reader = CSVReader(
                input: try InputFile(path: path, bufferSize: bufferSize), trimsSpaceAroundQuotes: true)
            let record = RecordBuffer()
            var records: [ReadCSVRecord] = []
            var offsets: [Int64] = []
            while true {
                offsets.append(reader.position.offset)
                guard let status = try reader.next(into: record) else { break }
                records.append(ReadCSVRecord(fields: fields(of: record), line: status.line, error: status.error))
            }
            #expect(offsets == [0, 6, 39, 60, 70, Int64(text.utf8.count)])
            return records
        }
        let records = try read(bufferSize: 1 << 20)
        #expect(records.map(\.fields).prefix(3) == [["a", "b", "c"], [" x ", "paper, stretch", "q\"x"], ["two\nlines", "", "z"]])
        #expect(records.map(\.line) == [1, 2, 3, 5, 6])
        #expect(records[3].error == RowError(line: 5, column: 1, reason: "characters after a closing quote"))
        #expect(records[4] == ReadCSVRecord(fields: ["last", "end"], line: 6, error: nil))
        for bufferSize in [16, 17, 19, 23] { #expect(try read(bufferSize: bufferSize) == records) }
        // The default reader still refuses a quote after padding.
        #expect(try readAllCSV(path)[1].error == RowError(line: 2, column: 2, reason: "quote inside an unquoted field"))
    }

    @Test func recordsLongerThanTheBufferAndSplitAtEveryBoundary() throws {
        var text = "id,text\n"
        for row in 0..<300 { text += "\(row),\"q\"\"\(String(repeating: "x", count: row % 50))\r\n\"\r\n" }
        let path = folder.file("a.csv", text)
        let expected = try readAllCSV(path)
        #expect(expected.count == 301)
        #expect(expected[300].line == 600)
        for bufferSize in [16, 17, 31, 64] {
            #expect(try readAllCSV(path, bufferSize: bufferSize) == expected)
        }
    }

    @Test func openQuoteCannotGrowTheBufferPastTheLimit() throws {
        let path = folder.file("a.csv", "a\n\"" + String(repeating: "x\n", count: 200))
        let reader = CSVReader(input: try InputFile(path: path, bufferSize: 32))
        reader.maximumRecordBytes = 100
        let record = RecordBuffer()
        #expect(try reader.next(into: record)?.isValid == true)
        do {
            _ = try reader.next(into: record)
            Issue.record("expected an error")
        } catch let error as PipelineError {
            #expect(error.code == .data)
            #expect(error.location?.line == 2)
        }
    }

    @Test func loneCarriageReturnEndsARecordAndBlankLinesCanBeKept() throws {
        let path = folder.file("a.csv", "a\rb,c\n\nx,\"\"\n")
        #expect(try readAllCSV(path).map(\.fields) == [["a"], ["b", "c"], ["x", ""]])
        let reader = CSVReader(input: try InputFile(path: path), skipsBlankLines: false)
        let record = RecordBuffer()
        var lines: [[String?]] = []
        while try reader.next(into: record) != nil { lines.append(fields(of: record)) }
        #expect(lines == [["a"], ["b", "c"], [nil], ["x", ""]])
    }

    /// Old Mac exports end every line with a lone CR; such a file once read as one long header.
    @Test func carriageReturnOnlyFileReadsLineByLineAtEveryBufferSize() throws {
        let path = folder.file("mac.csv", "a,b\r1,\"two\rlines\"\r3,4\r\"q\",5\r")
        for bufferSize in [1, 2, 3, 7, 1 << 20] {
            let records = try readAllCSV(path, bufferSize: bufferSize)
            #expect(records.map(\.fields) == [["a", "b"], ["1", "two\rlines"], ["3", "4"], ["q", "5"]])
            #expect(records.map(\.line) == [1, 2, 4, 5])
            #expect(records.allSatisfy { $0.error == nil })
        }
    }

    @Test func otherDelimiter() throws {
        let path = folder.file("a.tsv", "a\tb\n1,5\t\n")
        #expect(try readAllCSV(path, delimiter: 0x09).map(\.fields) == [["a", "b"], ["1,5", nil]])
    }

    @Test func headerErrors() throws {
        let empty = folder.file("empty.csv", "")
        #expect(throws: PipelineError.self) { try CSVReader(path: empty).readHeader() }
        let blankName = folder.file("blank.csv", "a,,c\n")
        do {
            _ = try CSVReader(path: blankName).readHeader()
            Issue.record("expected an error")
        } catch let error as PipelineError {
            #expect(error.code == .data)
            #expect(error.location?.column == 2)
        }
        let twice = folder.file("twice.csv", "a,b,a\n")
        #expect(throws: PipelineError.self) { try CSVReader(path: twice).readHeader() }
    }

    @Test func missingFileIsNoInput() {
        do {
            _ = try CSVReader(path: folder.path + "/missing.csv")
            Issue.record("expected an error")
        } catch let error as PipelineError {
            #expect(error.code == .noInput)
            #expect(error.message == "no such file: \(folder.path)/missing.csv")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func utf8Validation() {
        func offset(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { UTF8Validation.firstInvalidOffset($0) } }
        #expect(offset(Array("plain ascii text, long enough for words".utf8)) == nil)
        #expect(offset(Array("grüße 😀 日本".utf8)) == nil)
        #expect(offset(Array("abcdefghij".utf8) + [0xFF]) == 10)
        #expect(offset([0x41, 0xC0, 0x80]) == 1)  // overlong
        #expect(offset([0xED, 0xA0, 0x80]) == 0)  // surrogate
        #expect(offset([0xF4, 0x90, 0x80, 0x80]) == 0)  // above U+10FFFF
        #expect(offset([0x41, 0x42, 0xE2, 0x82]) == 2)  // truncated
    }
}
