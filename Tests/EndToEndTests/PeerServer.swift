import Foundation
import Testing

/// A real server on loopback that a test starts and stops: one of the Python peers in `Tests/Peers`.
/// The peer prints its port on its first line of output.
final class PeerServer {
    let process = Process()
    let port: Int

    /// The virtual environment `scripts/test` makes (Debian's Python and packages, with opentelemetry-proto).
    static var python: String {
        if let python = ProcessInfo.processInfo.environment["PIPELINE_TEST_PYTHON"] { return python }
        return FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    init(_ script: String, _ arguments: [String], python: String = PeerServer.python) throws {
        process.executableURL = URL(fileURLWithPath: python.hasPrefix("/") ? python : "/usr/bin/env")
        process.arguments = (python.hasPrefix("/") ? [] : [python]) + [PipelineProcess.packageRoot + "/Tests/Peers/" + script] + arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try stdout.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != 0x0A {
            line.append(first)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw PeerFailed(script: script)
        }
        self.port = port
    }

    struct PeerFailed: Error, CustomStringConvertible {
        var script: String
        var description: String { "the test peer \(script) did not start" }
    }

    /// SIGKILL: the test runner may start children with SIGTERM blocked, which they keep.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
