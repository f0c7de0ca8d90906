import Testing

@testable import Pipelines

@Suite struct DatabaseErrorTests {
    @Test(arguments: [
        ("22P02", DatabaseError.Code.dataException, PipelineError.Code.data, false),
        ("23505", .constraint, .data, false),
        ("42601", .syntax, .config, false),
        ("42P01", .syntax, .config, false),
        ("55P03", .locked, .locked, false),
        ("40001", .serializationFailure, .io, true),
        ("40P01", .deadlock, .io, true),
        ("08006", .connectionLost, .io, true),
        ("57P01", .connectionLost, .io, true),
        ("53100", .ioFailure, .io, false),
        ("XX000", .other, .io, false),
    ])
    func sqlStates(sqlState: String, code: DatabaseError.Code, pipelineCode: PipelineError.Code, transient: Bool) {
        let error = DatabaseError(DatabaseError.Code(sqlState: sqlState), "m", sqlState: sqlState)
        #expect(error.code == code)
        #expect(error.pipelineError.code == pipelineCode)
        #expect(error.isTransient == transient)
    }

    @Test(arguments: [
        (Int32(19), DatabaseError.Code.constraint, PipelineError.Code.data),
        (2067, .constraint, .data),  // SQLITE_CONSTRAINT_UNIQUE
        (20, .dataException, .data),  // SQLITE_MISMATCH
        (18, .dataException, .data),  // SQLITE_TOOBIG
        (5, .busy, .locked),
        (6, .locked, .locked),
        (1, .syntax, .config),
        (10, .ioFailure, .io),
        (21, .misuse, .io),
    ])
    func sqliteResultCodes(resultCode: Int32, code: DatabaseError.Code, pipelineCode: PipelineError.Code) {
        let error = DatabaseError(DatabaseError.Code(sqliteResultCode: resultCode), "m", resultCode: resultCode)
        #expect(error.code == code)
        #expect(error.pipelineError.code == pipelineCode)
    }

    @Test func longStatementsAreShortenedToOneLine() {
        let error = DatabaseError(.syntax, "bad", statement: "SELECT\n  " + String(repeating: "x, ", count: 200))
        #expect(error.statement?.count == DatabaseError.statementLimit + 1)
        #expect(error.statement?.contains("\n") == false)
        #expect(error.pipelineError.message.hasPrefix("bad in: SELECT x, x,"))
    }

    @Test func libpqMessagesLoseThePassword() {
        let url = "postgresql://me:s3cr%40t@db.example:5432/app?sslmode=disable"
        let message = "could not connect to \(url): password s3cr@t rejected"
        let scrubbed = PostgresConnection.scrub(message, url: url)
        #expect(!scrubbed.contains("s3cr"))
        #expect(scrubbed.contains("me:***@db.example"))
    }
}

@Suite struct DatabaseCopyTextTests {
    func decode(_ line: String) -> [String?] {
        let record = RecordBuffer()
        var line = line
        line.withUTF8 { CopyText.decodeRow(UnsafeRawBufferPointer($0), into: record) }
        return (0..<record.count).map { record.string($0) }
    }

    @Test func decodesEscapesAndNulls() {
        #expect(decode("a\t\\N\t\tb\\tc\n") == ["a", nil, "", "b\tc"])
        #expect(decode("\\\\N\t\\N") == ["\\N", nil])
        #expect(decode("\\b\\f\\n\\r\\v\\\\\\q") == ["\u{8}\u{c}\n\r\u{b}\\q"])
        #expect(decode("\\101\\7\\x41\\x4a2\\xz") == ["A\u{7}AJ2xz"])
        #expect(decode("") == [""])
        #expect(decode("\t") == ["", ""])
        #expect(decode("ends with\\") == ["ends with"])
        #expect(decode("ünï\\303\\274") == ["ünïü"])
    }

    @Test func encodingRoundTrips() {
        let fields: [String?] = ["a\tb", nil, "", "\\N", "x\r\ny\\", "日本"]
        let record = DatabaseTestSupport.record(fields)
        let output = CopyOutputBuffer(capacity: 4)
        CopyText.encodeRow(record, into: output)
        let encoded = String(decoding: UnsafeBufferPointer(start: output.storage, count: output.count), as: UTF8.self)
        #expect(encoded == "a\\tb\t\\N\t\t\\\\N\tx\\r\\ny\\\\\t日本\n")
        #expect(decode(encoded) == fields)
    }

    @Test func byteaTextDecodes() {
        func bytes(_ text: String) -> [UInt8] {
            var text = text
            return text.withUTF8 { utf8 in
                PostgresResult.withValue(UnsafeRawBufferPointer(utf8), kind: .binary) { Array($0 ?? UnsafeRawBufferPointer(start: nil, count: 0)) }
            }
        }
        #expect(bytes("\\x00ff7F") == [0, 255, 127])
        #expect(bytes("\\x") == [])
        #expect(bytes("ab\\000\\\\c") == [97, 98, 0, 92, 99])
    }
}
