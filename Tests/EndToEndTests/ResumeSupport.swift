import Foundation
import Pipelines
import Testing

/// A CSV with quoting and multi-line fields, big enough that a run takes a moment.
enum TestData {
    static func writeRows(_ count: Int, to path: String) throws {
        var text = "id,sku,name,price_minor,qty\n"
        for id in 1...count {
            let name = id % 97 == 0 ? "\"Item \(id), with \"\"quotes\"\"\nand a second line\"" : "Item \(id)"
            text += "\(id),SKU-\(String(format: "%06d", id)),\(name),\(id * 37 % 100_000),\(id % 500)\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Kills `pipeline run` at seeded random moments and resumes it, as a crash and a restart would.
struct KillAndResume {
    var arguments: [String]
    var directory: String
    var environment: [String: String] = [:]

    /// Starts a run, waits `delay` seconds, kills it with SIGKILL; returns whether it was still running.
    func killRun(after delay: TimeInterval) throws -> Bool {
        let running = try PipelineProcess.start(arguments, in: directory, environment: environment)
        Thread.sleep(forTimeInterval: delay)
        let wasRunning = running.process.isRunning
        if wasRunning { kill(running.process.processIdentifier, SIGKILL) }
        running.process.waitUntilExit()
        return wasRunning && running.process.terminationReason == .uncaughtSignal
    }

    /// Runs to completion (resuming whatever the kill left) and returns the result.
    func resume() throws -> PipelineProcess.Result {
        try PipelineProcess.run(arguments, in: directory, environment: environment)
    }

    /// Times one uninterrupted run, to spread the kill points over it.
    func timedRun() throws -> (result: PipelineProcess.Result, seconds: TimeInterval) {
        let started = Date()
        let result = try resume()
        return (result, Date().timeIntervalSince(started))
    }

    /// At least `points` real kills at seeded random moments within the first 90% of a run of
    /// `duration` seconds; `reset` puts the outputs back to their state before the stage, `check`
    /// compares the resumed result with the uninterrupted one.
    func killAtRandomPoints(
        _ points: Int, seed: UInt64, duration: TimeInterval, reset: () throws -> Void, check: (Int) throws -> Void
    ) throws {
        var generator = SeededGenerator(seed: seed)
        var kills = 0
        var attempts = 0
        while kills < points && attempts < points * 3 {
            attempts += 1
            try reset()
            let delay = Double.random(in: 0.02...(max(duration * 0.9, 0.05)), using: &generator)
            guard try killRun(after: delay) else { continue }
            kills += 1
            let resumed = try resume()
            #expect(resumed.status == 0, "kill at \(delay)s: \(resumed.stderr)")
            try check(kills)
        }
        #expect(kills >= points, "only \(kills) of \(attempts) kills hit a running process")
    }
}
