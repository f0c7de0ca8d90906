import Foundation
import Testing

@testable import Pipelines

/// Seeded random-input tests of the readers that take files from outside: the CSV reader, the JSONL
/// reader and the YAML loader. Valid samples are mutated (bytes flipped, inserted, dropped, repeated,
/// cut) the way a fuzzer would; each reader must neither trap nor hang, must give every problem a place,
/// and must read the same records whatever its buffer size. Seeded, so a failure comes back on every run;
/// bounded in time, so the suite stays fast. (`swift build -Xswiftc -sanitize=fuzzer` works with this
/// toolchain too, but a second instrumented build would double the test command's build time.)
@Suite(.timeLimit(.minutes(2))) struct FuzzTests {
    static let budget: TimeInterval = 3
    let folder = CodecTemporaryFolder()

    static let interesting: [UInt8] = Array("\",\r\n\0{}[]:\\ \t$'#-|>&*!%@`".utf8) + [0xEF, 0xBB, 0xBF, 0xC3, 0xA9, 0xFF, 0x80, 0x1B]

    /// One random change of `input`.
    static func mutate(_ input: [UInt8], using generator: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<6, using: &generator) {
        case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
        case 1: bytes.insert(interesting.randomElement(using: &generator) ?? 0, at: position)
        case 2 where !bytes.isEmpty: bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &generator)))
        case 3 where !bytes.isEmpty:
            let span = bytes[position..<min(bytes.count, position + Int.random(in: 1...16, using: &generator))]
            bytes.insert(contentsOf: Array(span), at: position)
        case 4: bytes = Array(bytes.prefix(position))
        default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
        }
        return bytes
    }

    /// Mutants of the samples, each mutated a few times, until the time budget is spent.
    static func forEachMutant(of samples: [String], seed: UInt64, _ body: ([UInt8]) throws -> Void) rethrows -> Int {
        var generator = SeededGenerator(seed: seed)
        let deadline = Date().addingTimeInterval(budget)
        var count = 0
        while Date() < deadline && count < 20_000 {
            var bytes = Array((samples.randomElement(using: &generator) ?? "").utf8)
            for _ in 0..<Int.random(in: 1...6, using: &generator) { bytes = mutate(bytes, using: &generator) }
            try body(bytes)
            count += 1
        }
        return count
    }

    struct Read: Equatable {
        var fields: [[String?]] = []
        var lines: [Int] = []
        var errors: [RowError] = []
    }

    /// Every record `next` gives, until the end of the input.
    static func readAll(_ next: (RecordBuffer) throws -> RecordStatus?) throws -> Read {
        let record = RecordBuffer()
        var read = Read()
        while let status = try next(record) {
            read.lines.append(status.line)
            if let error = status.error { read.errors.append(error) } else {
                read.fields.append((0..<record.count).map { record.string($0) })
            }
        }
        return read
    }

    /// Mutants of `samples` written to `name` and read by `read` with a small and a large buffer.
    func checkReader(samples: [String], seed: UInt64, name: String, _ read: (String, Int) throws -> Read) throws {
        let path = folder.path + "/" + name
        let count = try Self.forEachMutant(of: samples, seed: seed) { bytes in
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let small = try read(path, 16)
            let large = try read(path, 1 << 20)
            #expect(small == large, "buffer size changed what was read: \(bytes)")
            #expect(zip(large.lines, large.lines.dropFirst()).allSatisfy { $0 < $1 })
            #expect(large.errors.allSatisfy { $0.line >= 1 && $0.column >= 1 && !$0.reason.isEmpty })
        }
        #expect(count > 100)
    }

    @Test func csvReaderHoldsUnderMutatedInput() throws {
        let samples = [
            "id,sku,name\n1,A-1,\"Chair, \"\"oak\"\"\"\n2,B-2,\"two\nlines\"\r\n3,,\n",
            "\u{FEFF}a;b\r1;2\r\"x\ry\";3\r", "h\n\n\"unterminated\n", "é,ü\nñ,\"ö\"\n",
        ]
        try checkReader(samples: samples, seed: 0xC5F, name: "fuzz.csv") { path, bufferSize in
            let reader = CSVReader(input: try InputFile(path: path, bufferSize: bufferSize))
            reader.maximumRecordBytes = 1 << 16
            return try Self.readAll(reader.next)
        }
    }

    @Test func jsonlReaderHoldsUnderMutatedInput() throws {
        let samples = [
            "{\"sku\":\"A-1\",\"qty\":3,\"price\":-1.5e3,\"tags\":[\"a\",{\"b\":null}],\"ok\":true}\n{\"sku\":\"B\\u00e9\\ud83d\\ude00\",\"qty\":null}\n",
            "\u{FEFF}{\"a\":\"x\\\"y\\\\z\\n\"}\r\n\n{\"a\":1}", "{\"a\": 1, \"a\": 2}\n[1]\n{}\n",
        ]
        try checkReader(samples: samples, seed: 0x15A, name: "fuzz.jsonl") { path, bufferSize in
            let reader = JSONLReader(input: try InputFile(path: path, bufferSize: bufferSize))
            reader.maximumLineBytes = 1 << 16
            return try Self.readAll(reader.next)
        }
    }

    @Test func yamlLoaderHoldsUnderMutatedInput() throws {
        let samples = [
            "name: p\nparams: { day: \"2026-12-03\" }\nstages:\n  - id: a\n    uses: echo\n    with: { message: \"hi ${day}\" }\n",
            "name: q\nstages:\n  - id: b\n    uses: table.import\n    needs: []\n    with:\n      message: |\n        two\n        lines\n",
            "name: 'r'\nstages: [{id: c, uses: echo, with: {message: \"${A:-${day:-x}}\"}}]\n",
        ]
        let count = Self.forEachMutant(of: samples, seed: 0x7A1) { bytes in
            do {
                _ = try LanguageFixtures.loader.load(
                    contents: bytes, file: "fuzz.yaml", baseDirectory: "/srv", environment: [:])
            } catch let error as DiagnosticList {
                #expect(!error.diagnostics.isEmpty)
                #expect(error.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 && !$0.message.isEmpty })
            } catch {
                Issue.record("not a diagnostic list: \(error)")
            }
        }
        #expect(count > 100)
    }
}
