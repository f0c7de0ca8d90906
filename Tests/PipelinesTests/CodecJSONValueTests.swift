import Testing

@testable import Pipelines

@Suite struct CodecJSONValueTests {
    @Test func stringsDecodeEscapesAndPlainUTF8() throws {
        let text = #"{"plain":"Tee é 👕","escaped":"q\"b\\s\/\n\t\u00e9\ud83d\ude00 end","empty":""}"#
        let value = try JSONValue.parse(text)
        #expect(
            value
                == .object([
                    ("plain", .string("Tee é 👕")), ("escaped", .string("q\"b\\s/\n\té😀 end")), ("empty", .string("")),
                ]))
    }

    @Test func brokenStringsAreShapeErrors() {
        #expect(throws: JSONValueError.self) { try JSONValue.parse(#"{"open":"no end}"#) }
        #expect(throws: JSONValueError.self) { try JSONValue.parse(#"{"bad":"\udc00"}"#) }
        #expect(throws: JSONValueError.self) { try JSONValue.parse(#"{"cut":"\u00"}"#) }
    }
}
