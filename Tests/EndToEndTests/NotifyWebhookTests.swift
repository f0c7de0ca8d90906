import Foundation
import Pipelines
import Testing

/// Notifications to webhooks, through the built binary, against a real receiver on loopback that checks
/// the HMAC signature and its timestamp the way a Stripe-style receiver does.
@Suite(.serialized, .timeLimit(.minutes(5))) struct NotifyWebhookTests {
    static let secret = "whsec-7f1c2b9a-do-not-print"

    /// A pipeline whose one stage succeeds, with a webhook on `events`.
    static func pipeline(port: Int, events: String = "[run.completed]", timeout: String = "2s") -> String {
        """
        name: hooks
        state: sqlite:var/state.db
        stages:
          - id: work
            uses: sql.run
            with: { sql: "CREATE TABLE IF NOT EXISTS t (x INTEGER)" }
        notify:
          - on: \(events)
            webhook: { url: "http://127.0.0.1:\(port)/hooks/pipeline/tok-3141?key=k59", secret_env: HOOK_SECRET, timeout: \(timeout), retries: 3 }
        """
    }

    struct Received: Decodable {
        var id: String?
        var type: String?
        var arrived: String?
        var verified: Bool?
        var fresh: Bool?
        var status: Int?
    }

    static func received(_ scratch: Scratch) throws -> [Received] {
        guard scratch.exists("hooks.log") else { return [] }
        return try scratch.read("hooks.log").split(separator: "\n").map {
            try JSONDecoder().decode(Received.self, from: Data($0.utf8))
        }.filter { $0.arrived == nil }
    }

    static func receiver(_ scratch: Scratch, _ arguments: [String] = [], port: Int = 0) throws -> PeerServer {
        try PeerServer("webhook_receiver.py", ["--secret", secret, "--log", scratch.file("hooks.log"), "--port", String(port)] + arguments)
    }

    static func run(_ scratch: Scratch, _ arguments: [String] = [], secret: String = NotifyWebhookTests.secret) throws
        -> PipelineProcess.Result
    {
        try PipelineProcess.run(["run", "p.yaml"] + arguments, in: scratch.path, environment: ["HOOK_SECRET": secret])
    }

    /// Everything the run left in var/ and printed: no secret may be in any of it.
    static func expectNoSecret(_ secrets: [String], in scratch: Scratch, outputs: [PipelineProcess.Result]) throws {
        var texts = outputs.flatMap { [$0.stdout, $0.stderr] }
        let files = FileManager.default.enumerator(atPath: scratch.file("var"))?.compactMap { $0 as? String } ?? []
        for file in files {
            if let data = FileManager.default.contents(atPath: scratch.file("var/" + file)) { texts.append(String(decoding: data, as: UTF8.self)) }
        }
        for secret in secrets {
            #expect(!texts.contains { $0.contains(secret) }, "\(secret) appears in the run's output or var/")
        }
    }

    @Test func aSignedEventIsRetriedOn5xxAndDeliveredOnce() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try Self.receiver(scratch, ["--script", "500,429"])
        defer { server.stop() }
        try scratch.write("p.yaml", Self.pipeline(port: server.port))
        let result = try Self.run(scratch)
        #expect(result.status == 0, "\(result.stderr)")
        let received = try Self.received(scratch)
        #expect(received.map(\.status) == [500, 429, 200])
        #expect(received.allSatisfy { $0.verified == true && $0.fresh == true && $0.type == "run.completed" })
        #expect(Set(received.map(\.id)).count == 1)
        let runID = try #require(result.stderr.firstMatch(of: /starting run (\S+)/).map { String($0.1) })
        let shown = try PipelineProcess.run(["runs", "show", runID, "p.yaml"], in: scratch.path)
        #expect(shown.stdout.contains("run.completed → webhook http://127.0.0.1:\(server.port): delivered, 3 attempts"), "\(shown.stdout)")
        let record = try JSONSerialization.jsonObject(with: Data(scratch.read("var/runs/\(runID).json").utf8)) as? [String: Any]
        let notifications = try #require(record?["notifications"] as? [[String: Any]])
        #expect(notifications.count == 1)
        #expect(notifications.first?["status"] as? String == "delivered" && notifications.first?["attempts"] as? Int == 3)
        try Self.expectNoSecret([Self.secret, "tok-3141", "k59"], in: scratch, outputs: [result, shown])
    }

    /// A wrong secret, then the right one; or a receiver whose clock is 15 minutes ahead (every
    /// timestamp stale to it, so the next run's event is refused too).
    @Test(arguments: [(["--skew", "0"], "wrong-secret", 200), (["--skew", "900"], NotifyWebhookTests.secret, 400)])
    func aWrongSignatureOrAStaleTimestampIsRefusedAndNotSentAgain(receiverArguments: [String], secret: String, next: Int) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try Self.receiver(scratch, receiverArguments)
        defer { server.stop() }
        try scratch.write("p.yaml", Self.pipeline(port: server.port))
        let first = try Self.run(scratch, secret: secret)
        #expect(first.status == 0, "a refused notification never fails the run: \(first.stderr)")
        #expect(first.stderr.contains("was refused, not sent again: HTTP 400"), "\(first.stderr)")
        #expect(try Self.received(scratch).map(\.status) == [400])
        let again = try Self.run(scratch, ["--rerun"])
        #expect(again.status == 0)
        let received = try Self.received(scratch)
        #expect(received.count == 2 && received[1].status == next, "the refused event is not sent again, the new one is")
        #expect(received[0].id != received[1].id)
    }

    @Test func aReceiverThatHangsPastTheTimeoutIsTriedAgain() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try Self.receiver(scratch, ["--script", "hang:6"])
        defer { server.stop() }
        try scratch.write("p.yaml", Self.pipeline(port: server.port))
        let result = try Self.run(scratch)
        #expect(result.status == 0)
        #expect(result.stderr.contains("run.completed to webhook http://127.0.0.1:\(server.port): HTTP 200"), "\(result.stderr)")
        let runID = try #require(result.stderr.firstMatch(of: /starting run (\S+)/).map { String($0.1) })
        let shown = try PipelineProcess.run(["runs", "show", runID, "p.yaml"], in: scratch.path)
        #expect(shown.stdout.contains("delivered, 2 attempts"), "\(shown.stdout)")
    }

    @Test func aReceiverDownForAWholeRunGetsItsEventAtTheNextRun() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let probe = try Self.receiver(scratch)
        let port = probe.port
        probe.stop()
        try scratch.write("p.yaml", Self.pipeline(port: port, events: "[run.started, run.completed]"))
        let down = try Self.run(scratch)
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stderr.contains("left in the outbox for the next run"))
        let firstRun = try #require(down.stderr.firstMatch(of: /starting run (\S+)/).map { String($0.1) })
        let shown = try PipelineProcess.run(["runs", "show", firstRun, "p.yaml"], in: scratch.path)
        #expect(shown.stdout.contains("run.completed → webhook http://127.0.0.1:\(port): pending, 4 attempts"), "\(shown.stdout)")
        #expect(shown.stdout.contains("Couldn't connect"))

        let server = try Self.receiver(scratch, port: port)
        defer { server.stop() }
        // The same identity has completed: the run does nothing but deliver what is waiting.
        let next = try Self.run(scratch)
        #expect(next.status == 0)
        let received = try Self.received(scratch)
        #expect(received.map(\.type) == ["run.started", "run.completed"])
        #expect(received.allSatisfy { $0.status == 200 && $0.verified == true })
        #expect(try Self.run(scratch).status == 0)
        #expect(try Self.received(scratch).count == 2, "delivered events are not sent again")
    }

    @Test func aRunKilledBeforeItsEventWasDeliveredDeliversItOnceAtTheNextRun() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let hanging = try Self.receiver(scratch, ["--script", "hang:30"])
        try scratch.write("p.yaml", Self.pipeline(port: hanging.port, timeout: "30s"))
        let running = try PipelineProcess.start(["run", "p.yaml"], in: scratch.path, environment: ["HOOK_SECRET": Self.secret])
        let deadline = Date().addingTimeInterval(30)
        while !((try? scratch.read("hooks.log"))?.contains("arrived") ?? false), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        #expect(running.process.terminationReason == .uncaughtSignal)
        let port = hanging.port
        hanging.stop()
        try? FileManager.default.removeItem(atPath: scratch.file("hooks.log"))
        let server = try Self.receiver(scratch, port: port)
        defer { server.stop() }
        let next = try Self.run(scratch)
        #expect(next.status == 0, "\(next.stderr)")
        let received = try Self.received(scratch)
        #expect(received.count == 1 && received.first?.type == "run.completed" && received.first?.status == 200)
        #expect(try Self.run(scratch).status == 0)
        #expect(try Self.received(scratch).count == 1)
    }

    @Test func notifyTestSendsToEveryChannelAndSaysWhatHappened() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try Self.receiver(scratch)
        defer { server.stop() }
        try scratch.write("p.yaml", Self.pipeline(port: server.port))
        let sent = try PipelineProcess.run(["notify", "test", "p.yaml"], in: scratch.path, environment: ["HOOK_SECRET": Self.secret])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout == "webhook http://127.0.0.1:\(server.port): delivered (HTTP 200)\n")
        #expect(try Self.received(scratch).map(\.type) == ["notify.test"])
        server.stop()
        let down = try PipelineProcess.run(["notify", "test", "p.yaml"], in: scratch.path, environment: ["HOOK_SECRET": Self.secret])
        #expect(down.status == 74)
        #expect(down.stdout.contains("NOT delivered"))
        #expect(!scratch.exists("var/state.db"), "a test records nothing")
        let plan = try PipelineProcess.run(["run", "p.yaml", "--dry-run"], in: scratch.path)
        #expect(plan.stdout.contains("notify: run.completed → webhook http://127.0.0.1:\(server.port)\n"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("tok-3141") && !plan.stdout.contains("k59"))
    }
}
