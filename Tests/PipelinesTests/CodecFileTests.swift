import Testing
import Pipelines

@Suite struct CodecFileTests {
    /// Digests that share a beginning go on from a copy of a state fed it once: each as if computed alone.
    @Test func sha256StatesGoOnFromASharedBeginning() throws {
        var prefix = try SHA256State()
        var start = "a"
        start.withUTF8 { prefix.update(UnsafeRawBufferPointer($0)) }
        for (rest, expected) in [("bc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), ("bd", try SHA256.hex(of: "abd")), ("", try SHA256.hex(of: "a"))] {
            var digest = prefix
            var text = rest
            text.withUTF8 { digest.update(UnsafeRawBufferPointer($0)) }
            #expect(try digest.finish().hex == expected, "a + \(rest)")
            #expect(try digest.finish() == SHA256Value(hex: expected), "finishing leaves the state as it was")
        }
    }

    /// A digest's value is its 32 bytes, read from exactly 64 lower-case hex digits and written back so.
    @Test func sha256ValuesAreTheBytesOfLowerCaseHex() throws {
        let hex = try SHA256.hex(of: "block")
        #expect(SHA256Value(hex: hex)?.hex == hex)
        #expect(SHA256Value(hex: hex) != SHA256Value(hex: try SHA256.hex(of: "other block")))
        #expect(Set([SHA256Value(hex: hex), SHA256Value(hex: String(hex))]).count == 1)
        for bad in [hex.uppercased(), String(hex.dropLast()), hex + "0", String(hex.dropLast()) + "g", ""] {
            #expect(SHA256Value(hex: bad) == nil, "\(bad)")
        }
        // Every byte in every place of a digit: only 0-9 and a-f read, each as its value.
        let digits = Array("0123456789abcdef".utf8)
        for place in [0, 1, 37, 63] {
            for byte in UInt8.min...UInt8.max {
                var bytes = Array(hex.utf8)
                bytes[place] = byte
                let parsed = bytes.withUnsafeBytes { SHA256Value(hex: $0) }
                if let value = digits.firstIndex(of: byte) {
                    #expect(parsed?.hex == String(decoding: bytes, as: UTF8.self), "byte \(byte) at \(place) is \(value)")
                } else {
                    #expect(parsed == nil, "byte \(byte) at \(place)")
                }
            }
        }
    }

    /// A digest's first half: its first 16 bytes, the rest zeros, written as its first 32 hex digits and
    /// read from those or from all 64.
    @Test func sha256FirstHalvesAreTheFirst128Bits() throws {
        let hex = try SHA256.hex(of: "block")
        let value = try #require(SHA256Value(hex: hex))
        #expect(value.firstHalfHex == String(hex.prefix(32)))
        #expect(value.firstHalf.hex == String(hex.prefix(32)) + String(repeating: "0", count: 32))
        #expect(value.firstHalf != value)
        func firstHalf(_ text: String) -> SHA256Value? { Array(text.utf8).withUnsafeBytes { SHA256Value(firstHalfOfHex: $0) } }
        #expect(firstHalf(hex) == value.firstHalf)
        #expect(firstHalf(String(hex.prefix(32))) == value.firstHalf)
        // Another digest agreeing on the first 32 digits is the same first half.
        #expect(firstHalf(String(hex.prefix(32)) + String(repeating: "f", count: 32)) == value.firstHalf)
        for bad in [String(hex.prefix(31)), String(hex.prefix(33)), String(hex.prefix(31)) + "g", hex.uppercased(), ""] {
            #expect(firstHalf(bad) == nil, "\(bad)")
        }
    }

    let folder = CodecTemporaryFolder()

    @Test func atomicFileIsInvisibleUntilCommit() throws {
        let path = folder.path + "/sub/dir/out.csv"
        let file = try AtomicOutputFile(path: path)
        try file.write("hello\n")
        try file.flush()
        #expect(!folder.exists("sub/dir/out.csv"))
        #expect(file.temporaryPath.hasPrefix(folder.path + "/sub/dir/.out.csv.x."))
        #expect(file.temporaryPath.hasSuffix(".tmp"))
        #expect(folder.names() == ["sub"])
        try file.commit()
        #expect(folder.contents("sub/dir/out.csv") == "hello\n")
        #expect(file.bytesWritten == 6)
    }

    @Test func commitReplacesAnExistingFile() throws {
        _ = folder.file("out.txt", "old")
        let file = try AtomicOutputFile(path: folder.path + "/out.txt")
        try file.write("new")
        #expect(folder.contents("out.txt") == "old")
        try file.commit()
        #expect(folder.contents("out.txt") == "new")
        #expect(folder.names() == ["out.txt"])
    }

    /// A process killed after the rename but before recording completion finds its file already in place.
    @Test func wasCommittedTellsARenamedFileFromAnInterruptedOne() throws {
        let path = folder.path + "/done.csv"
        let file = try AtomicOutputFile(path: path, owner: "key")
        try file.write("a,b\n")
        try file.flush()
        #expect(!AtomicOutputFile.wasCommitted(path: path, temporaryPath: file.temporaryPath, length: 4))
        try file.commit()
        #expect(AtomicOutputFile.wasCommitted(path: path, temporaryPath: file.temporaryPath, length: 4))
        #expect(!AtomicOutputFile.wasCommitted(path: path, temporaryPath: file.temporaryPath, length: 5))
    }

    @Test func discardAndDeinitLeaveNothing() throws {
        let discarded = try AtomicOutputFile(path: folder.path + "/a.txt")
        try discarded.write("x")
        try discarded.flush()
        discarded.discard()
        #expect(folder.names().isEmpty)
        do {
            let forgotten = try AtomicOutputFile(path: folder.path + "/b.txt")
            try forgotten.write("y")
            try forgotten.flush()
            #expect(folder.names().count == 1)
        }
        #expect(folder.names().isEmpty)
    }

    @Test func resumeCutsBackToTheCommittedLength() throws {
        let path = folder.path + "/out.txt"
        let first = try AtomicOutputFile(path: path)
        try first.write("kept|")
        try first.sync()
        let committed = first.bytesWritten
        try first.write("lost after the checkpoint")
        try first.flush()
        let temporary = first.temporaryPath
        let copy = folder.path + "/copy.tmp"
        try copyFile(temporary, to: copy)  // the earlier run's temporary file, as a crash would leave it
        first.discard()
        let resumed = try AtomicOutputFile.resume(path: path, temporaryPath: copy, committedLength: committed)
        #expect(resumed.bytesWritten == 5)
        try resumed.write("more")
        try resumed.commit()
        #expect(folder.contents("out.txt") == "kept|more")
    }

    @Test func outputFileWritesLargeAndSmallPiecesInOrder() throws {
        let output = try OutputFile(path: folder.path + "/big.bin", bufferSize: 64)
        var expected: [UInt8] = []
        for round in 0..<50 {
            let piece = [UInt8](repeating: UInt8(65 + round % 26), count: round * 7)
            try output.write(piece)
            try output.writeByte(10)
            expected += piece + [10]
        }
        #expect(output.bytesWritten == Int64(expected.count))
        try output.close()
        #expect(folder.contents("big.bin") == String(decoding: expected, as: UTF8.self))
    }

    @Test func inputFileReportsSizeAndProgress() throws {
        let input = try InputFile(path: folder.file("in.txt", "0123456789"), bufferSize: 4)
        #expect(input.fileSize == 10)
        var buffer = [UInt8](repeating: 0, count: 3)
        var total: [UInt8] = []
        while true {
            let count = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            if count == 0 { break }
            total += buffer[0..<count]
        }
        #expect(total == Array("0123456789".utf8))
        #expect(input.bytesRead == 10)
    }

    @Test func folderAsInputIsAnIOError() {
        #expect(throws: PipelineError.self) { try InputFile(path: folder.path) }
    }

    private func copyFile(_ source: String, to target: String) throws {
        let input = try InputFile(path: source)
        let output = try OutputFile(path: target)
        while try input.fillMore() {}
        try output.write(input.available)
        try output.close()
    }
}
