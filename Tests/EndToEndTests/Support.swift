import Foundation
import Pipelines
import Testing

/// Runs the built `pipeline` binary as a user would.
struct PipelineProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PIPELINE_BINARY"] { return path }
        return packageRoot + "/.build/debug/pipeline"
    }

    /// Runs `pipeline ARGS` in `directory` and waits for it.
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:])
        throws -> Result
    {
        let process = try start(arguments, in: directory, environment: environment)
        let stdout = process.stdout.fileHandleForReading.readDataToEndOfFile()
        let stderr = process.stderr.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return Result(
            status: process.process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs `pipeline ARGS` under GNU time and returns its peak resident memory too.
    static func runMeasured(_ arguments: [String], in directory: String? = nil) throws
        -> (result: Result, peakKilobytes: Int)
    {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("time-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: report) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "%M", "-o", report, binary] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let result = try runToEnd(process)
        // GNU time writes "Command exited with non-zero status N" before the figure when the command fails.
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
        let peak = lines.last.flatMap { Int($0) } ?? Int.max
        return (result, peak)
    }

    /// Starts `process` with its output captured and waits for it.
    static func runToEnd(_ process: Process) throws -> Result {
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Both pipes at once: a child that fills one while the other is read first would wait forever.
        let err = PipeDrain(stderr)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: err.data(), as: UTF8.self))
    }

    /// Reads a pipe to its end on a thread of its own.
    final class PipeDrain: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var contents = Data()

        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread { [self] in
                contents = handle.readDataToEndOfFile()
                done.signal()
            }.start()
        }

        func data() -> Data {
            done.wait()
            done.signal()
            return contents
        }
    }

    struct Running {
        var process: Process
        var stdout: Pipe
        var stderr: Pipe
    }

    static func start(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:])
        throws -> Running
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "DATABASE_URL")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return Running(process: process, stdout: stdout, stderr: stderr)
    }
}

/// A fresh folder under the system temp directory, removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: target, atomically: true, encoding: .utf8)
        return target
    }

    func read(_ name: String) throws -> String { try String(contentsOfFile: file(name), encoding: .utf8) }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

enum TestDatabase {
    /// The throw-away PostgreSQL server that `scripts/test` starts. Missing means the tests were not
    /// started through `scripts/test`: that is a failure, never a silent skip.
    /// Each call gets a database of its own on that server, so that tests running side by side (and the
    /// processes they kill or whose connections they terminate) never meet.
    static func postgresURL() throws -> String {
        guard let server = ProcessInfo.processInfo.environment["PIPELINE_TEST_POSTGRES_URL"],
            var components = URLComponents(string: server)
        else {
            Issue.record("PIPELINE_TEST_POSTGRES_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
            throw MissingServer()
        }
        let name = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try DatabaseLocator.postgres(url: server).connect(logger: Logger(handler: SilentLogHandler()))
        defer { admin.close() }
        try admin.executeScript("CREATE DATABASE \(name)")
        components.path = "/" + name
        return components.string ?? server
    }

    struct MissingServer: Error {}
}

let fixtures = PipelineProcess.packageRoot + "/fixtures"

/// Reads a query's rows through the project's own drivers, for checking what a run left behind.
enum Inspect {
    static func rows(_ locator: DatabaseLocator, _ sql: String) throws -> [[String?]] {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        var rows: [[String?]] = []
        try connection.query(sql, [], columns: { _ in }) { row in
            rows.append((0..<row.columnCount).map { row.string($0) })
        }
        return rows
    }

    static func tableExists(_ locator: DatabaseLocator, _ table: String) throws -> Bool {
        let connection = try locator.connect(logger: Logger(handler: SilentLogHandler()))
        defer { connection.close() }
        return try connection.tableColumns(SQLName(validating: table)) != nil
    }
}

/// Runs another program on what `pipeline` wrote (systemd-analyze, sh), the way its users would.
enum ExternalTool {
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws
        -> PipelineProcess.Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        return try PipelineProcess.runToEnd(process)
    }
}

