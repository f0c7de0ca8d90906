import Foundation
import Synchronization

/// The `command` channel: runs a program (no shell) in the pipeline file's folder with the notification's
/// JSON on its standard input.
/// Exit status 0 is delivered; anything else may be tried again; past the timeout it is killed.
enum CommandDelivery {
    static func run(_ command: NotifyChannel.Command, input: [UInt8], timeout: Duration) -> DeliveryOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolve(command.arguments[0]))
        process.arguments = Array(command.arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: command.directory, isDirectory: true)
        let stdin = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return .failed("cannot start \(command.arguments[0]): \(error.localizedDescription)")
        }
        // The program may not read its input: a closed pipe must not end this process.
        signal(SIGPIPE, SIG_IGN)
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let errorText = Mutex(Data())
        let readerDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            while let chunk = try? stderr.fileHandleForReading.read(upToCount: 4096), !chunk.isEmpty {
                errorText.withLock { if $0.count < 4096 { $0.append(chunk.prefix(4096 - $0.count)) } }
            }
            readerDone.signal()
        }
        reader.start()
        let deadline = Date().addingTimeInterval(Double(timeout.milliseconds) / 1000)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return .retry("\(command.arguments[0]) did not finish within \(timeout.text)", after: nil)
        }
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            _ = readerDone.wait(timeout: .now() + 1)
            let firstLine = String(decoding: errorText.withLock { $0 }, as: UTF8.self).split(whereSeparator: \.isNewline).first.map { ": \($0)" } ?? ""
            let how = process.terminationReason == .exit ? "exited with \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            return .retry("\(command.arguments[0]) \(how)\(firstLine)", after: nil)
        }
        return .delivered("exit 0")
    }

    /// A bare program name is looked up on PATH, as a shell would.
    private static func resolve(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }
}
