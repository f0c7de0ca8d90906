import Foundation
import Testing

@testable import Pipelines

/// Hostile file systems: links planted at temporary names, FIFOs, names at the length limit, leftovers.
@Suite(.timeLimit(.minutes(2))) struct HardeningFileTests {
    let folder = CodecTemporaryFolder()

    /// A link planted where a temporary file would go is never followed: nothing outside is written.
    @Test func temporaryFilesAreCreatedExclusivelyUnderUnguessableNames() throws {
        let victim = folder.file("victim.txt", "precious")
        let path = folder.path + "/out.csv"
        let first = try AtomicOutputFile(path: path, owner: "k")
        let second = try AtomicOutputFile(path: path, owner: "k2")
        #expect(first.temporaryPath != second.temporaryPath)
        // Plant links at every name a predictable scheme would use, then write.
        for name in [".out.csv.tmp-\(getpid())", ".out.csv.k.tmp", ".out.csv.tmp"] {
            _ = symlink(victim, folder.path + "/" + name)
        }
        try first.write("new")
        try first.commit()
        second.discard()
        #expect(folder.contents("victim.txt") == "precious")
        #expect(folder.contents("out.csv") == "new")
        #expect(throws: PipelineError.self) {
            _ = try AtomicOutputFile.resume(path: path, temporaryPath: folder.path + "/.out.csv.k.tmp", committedLength: 0)
        }
        #expect(folder.contents("victim.txt") == "precious")
    }

    @Test func aNameOfTwoHundredFiftyFiveBytesStillGetsATemporaryFile() throws {
        for length in [249, 255] {
            let name = String(repeating: "é", count: (length - 4) / 2) + String(repeating: "n", count: (length - 4) % 2) + ".csv"
            #expect(name.utf8.count == length)
            let file = try AtomicOutputFile(path: folder.path + "/" + name, owner: "0123456789abcdef")
            #expect(FileSupport.fileName(of: file.temporaryPath).utf8.count <= 255)
            try file.write("x")
            try file.commit()
            #expect(folder.contents(name) == "x")
        }
    }

    /// What a killed run left is removed by the next run of the same owner; other owners' files stay.
    @Test func anOwnersLeftoversAreRemovedOthersStay() throws {
        let path = folder.path + "/out.csv"
        let killed = try AtomicOutputFile(path: path, owner: "aaaa")
        killed.keepForResume()
        let leftover = killed.temporaryPath
        let other = try AtomicOutputFile(path: path, owner: "bbbb")
        other.keepForResume()
        _ = folder.file("unrelated.tmp", "keep")
        let next = try AtomicOutputFile(path: path, owner: "aaaa")
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: other.temporaryPath))
        #expect(folder.exists("unrelated.tmp"))
        try next.commit()
        other.discard()
    }

    /// A FIFO once made every reader block forever; now it is refused before anything waits on it.
    @Test func nonRegularFilesAreRefusedWithoutBlocking() throws {
        let fifo = folder.path + "/in.csv"
        #expect(mkfifo(fifo, 0o600) == 0)
        for read in [
            { _ = try InputFile(path: fifo) },
            { _ = try FileSupport.readWholeFile(fifo, limit: 10) },
            { _ = try InputFile(path: folder.path) },
        ] as [() throws -> Void] {
            do {
                try read()
                Issue.record("expected a refusal")
            } catch let error as PipelineError {
                #expect(error.code == .noInput)
                #expect(error.message.contains("not a regular file"))
            }
        }
    }

    @Test func rejectsPathThatIsTheInputIsRefusedAlsoThroughALink() throws {
        let input = FilePath(folder.file("in.csv", "a\n1\n"))
        _ = symlink(input.path, folder.path + "/link.csv")
        #expect(ImportParameters.checkRejects(FilePath(input.path), input: input).count == 1)
        #expect(ImportParameters.checkRejects(FilePath(folder.path + "/link.csv"), input: input).count == 1)
        #expect(ImportParameters.checkRejects(FilePath(folder.path + "/other.csv"), input: input).isEmpty)
        #expect(ImportParameters.checkRejects(nil, input: input).isEmpty)
    }
}
