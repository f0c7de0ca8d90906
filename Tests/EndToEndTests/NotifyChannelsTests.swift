import Foundation
import Pipelines
import Testing

/// Email over SMTP (a real aiosmtpd server on loopback), command channels, the metrics textfile checked by
/// promtool, and the checks on `notify:` and `metrics:` blocks.
@Suite(.serialized, .timeLimit(.minutes(5))) struct NotifyChannelsTests {
    static let smtpPassword = "smtp-pw-5b8e-do-not-print"

    @Test func emailGoesOutOverSMTPWithLoginAndNoPasswordShows() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try PeerServer(
            "smtp_receiver.py", ["--maildir", scratch.file("mail"), "--user", "pipeline", "--password", Self.smtpPassword])
        defer { server.stop() }
        try scratch.write(
            "p.yaml",
            """
            name: mailer
            stages:
              - id: broken
                uses: sql.run
                with: { sql: "SELECT * FROM no_such_table" }
            notify:
              - on: [run.failed]
                email:
                  to: [ops@example.com, data@example.com]
                  from: pipeline@example.com
                  smtp: "smtp://127.0.0.1:\(server.port)"
                  username_env: SMTP_USER
                  password_env: SMTP_PASSWORD
            """)
        let result = try PipelineProcess.run(
            ["run", "p.yaml"], in: scratch.path, environment: ["SMTP_USER": "pipeline", "SMTP_PASSWORD": Self.smtpPassword])
        #expect(result.status == 78, "the run's own failure decides the exit status: \(result.stderr)")
        let message = try scratch.read("mail/1.eml")
        #expect(message.contains("Subject: [pipeline] mailer: run.failed\r\n"))
        #expect(message.contains("To: ops@example.com, data@example.com\r\n"))
        #expect(message.contains("no_such_table"))
        let envelope = try JSONSerialization.jsonObject(with: Data(scratch.read("mail/1.json").utf8)) as? [String: Any]
        #expect(envelope?["to"] as? [String] == ["ops@example.com", "data@example.com"])
        #expect(envelope?["login"] as? Bool == true)
        try NotifyWebhookTests.expectNoSecret([Self.smtpPassword], in: scratch, outputs: [result])

        let refused = try PipelineProcess.run(
            ["notify", "test", "p.yaml"], in: scratch.path, environment: ["SMTP_USER": "pipeline", "SMTP_PASSWORD": "wrong"])
        #expect(refused.status == 74)
        #expect(refused.stdout.contains("NOT delivered") && refused.stdout.contains("Login denied"), "\(refused.stdout)")
    }

    @Test func aCommandGetsTheEventOnItsStandardInputAndAFailingOneNeverFailsTheRun() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("a.csv", "sku,qty\nA,1\nB,x\n")
        try scratch.write(
            "p.yaml",
            """
            name: commands
            stages:
              - id: load
                uses: table.import
                with: { file: a.csv, table: items, create: true }
            notify:
              - on: [run.completed]
                command: { run: [sh, -c, "cat > completed.json"], timeout: 5s }
              - on: [run.completed]
                command: { run: [sh, -c, "echo broken pipe dreams >&2; exit 3"], retries: 1 }
            """)
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("sh exited with 3: broken pipe dreams"), "\(result.stderr)")
        let completed = try JSONSerialization.jsonObject(with: Data(scratch.read("completed.json").utf8)) as? [String: Any]
        #expect(completed?["type"] as? String == "run.completed")
        #expect((completed?["counts"] as? [String: [String: Int]])?["load"] == ["read": 2, "written": 2, "rejected": 0])
    }

    @Test func stageRejectsReachTheStagesOwnChannel() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("var"), withIntermediateDirectories: true)
        try scratch.write("a.csv", "sku,qty\nA,1\nB,2,3\n")
        try scratch.write(
            "p.yaml",
            """
            name: rejecting
            stages:
              - id: load
                uses: table.import
                with: { file: a.csv, table: items, create: true, max_rejects: 5 }
                notify:
                  - on: [stage.rejects, import.rejects]
                    command: [sh, -c, "cat >> stage-events.jsonl; echo >> stage-events.jsonl"]
            """)
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let events = try scratch.read("stage-events.jsonl").split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.compactMap { $0["type"] as? String }.sorted() == ["import.rejects", "stage.rejects"])
        #expect(events.allSatisfy { $0["stage"] as? String == "load" })
        let rejects = events.first { $0["type"] as? String == "import.rejects" }
        #expect((rejects?["payload"] as? [String: Any])?["rejected"] as? Int == 1)
    }

    static func samples(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
        return values
    }

    @Test func theMetricsTextfilePassesPromtoolAndMatchesTheRunRecord() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("a.csv", "sku,qty\nA,1\nB,2\nC,3\n")
        try scratch.write(
            "p.yaml",
            """
            name: metered
            params: { file: a.csv }
            stages:
              - id: load
                uses: table.import
                with: { file: "${file}", table: items, create: true }
            metrics: { textfile: textfile }
            """)
        let result = try PipelineProcess.run(["run", "p.yaml", "--metrics-file", "extra/run.prom"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let text = try scratch.read("textfile/pipeline_metered.prom")
        #expect(try scratch.read("extra/run.prom") == text)
        let promtool = try PipelineProcess.runToEnd(
            {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", "promtool check metrics < '\(scratch.file("textfile/pipeline_metered.prom"))'"]
                return process
            }())
        #expect(promtool.status == 0, "promtool: \(promtool.stdout)\(promtool.stderr)")
        let runID = try #require(result.stderr.firstMatch(of: /starting run (\S+)/).map { String($0.1) })
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(scratch.read("var/runs/\(runID).json").utf8)) as? [String: Any])
        let stage = try #require((record["stages"] as? [[String: Any]])?.first)
        let values = Self.samples(text)
        let labels = "pipeline=\"metered\",stage=\"load\",kind=\"table.import\""
        for counter in ["read", "written", "rejected"] {
            #expect(values["pipeline_stage_last_items{\(labels),counter=\"\(counter)\",unit=\"rows\"}"]
                == Double((stage["counts"] as? [String: Int])?[counter] ?? -1))
        }
        #expect(values["pipeline_last_run_success{pipeline=\"metered\"}"] == 1)
        #expect(values["pipeline_runs_total{pipeline=\"metered\",status=\"succeeded\"}"] == 1)
        let seconds = try #require(record["seconds"] as? Double)
        #expect(abs((values["pipeline_last_run_duration_seconds{pipeline=\"metered\"}"] ?? -1) - seconds) < 0.0015)
        #expect(values["pipeline_stage_last_attempts{\(labels)}"] == Double(stage["attempts"] as? Int ?? -1))
        let succeededAt = values["pipeline_last_success_timestamp_seconds{pipeline=\"metered\"}"]

        // A failed run: success 0, a failed run counted, the last success kept.
        try scratch.write("bad.csv", "sku,qty\nA,1,2\n")
        #expect(try PipelineProcess.run(["run", "p.yaml", "--param", "file=bad.csv"], in: scratch.path).status == 65)
        let failed = Self.samples(try scratch.read("textfile/pipeline_metered.prom"))
        #expect(failed["pipeline_last_run_success{pipeline=\"metered\"}"] == 0)
        #expect(failed["pipeline_last_run_status{pipeline=\"metered\",status=\"failed\"}"] == 1)
        #expect(failed["pipeline_runs_total{pipeline=\"metered\",status=\"failed\"}"] == 1)
        #expect(failed["pipeline_runs_total{pipeline=\"metered\",status=\"succeeded\"}"] == 1)
        #expect(failed["pipeline_last_success_timestamp_seconds{pipeline=\"metered\"}"] == succeededAt)
        #expect(failed["pipeline_stage_last_success{\(labels)}"] == 0)
    }

    @Test(arguments: [
        ("  - on: [run.complete]\n    command: [true]", "8:10: unknown event 'run.complete' in 'on'", "did you mean 'run.completed'?"),
        ("  - on: [run.failed]\n    webhook: { secret_env: X }", "9:14: missing required key 'url' in 'webhook'", ""),
        ("  - on: [run.failed]\n    webhook: { url: \"ftp://x\" }", "9:21: 'url': expected an http:// or https:// URL", ""),
        ("  - on: [run.failed]\n    email: { to: [\"ops@example.com\\r\\nBcc: x@y\"], from: a@b.c, smtp: \"smtp://h\" }", "9:19: expected an email address", ""),
        ("  - on: [run.failed]\n    email: { to: [a@b.c], from: a@b.c, smtp: \"smtp://user:pw@h\" }", "'smtp' must be smtp://HOST[:PORT]", ""),
        ("  - on: [run.failed]\n    command: [true]\n    webhook: { url: \"https://x\" }", "10:5: a 'notify' entry takes exactly one of 'webhook', 'email' and 'command'", ""),
        ("  - on: [run.failed]\n    webhook: { url: \"https://x\", secret_env: \"A-B\", retries: 99 }", "'secret_env' names an environment variable", ""),
        ("  - on: [run.failed]\n    webhook: { url: \"https://x\", timeout: 10m }", "'timeout' must be more than 0s and at most 5m", ""),
    ])
    func notifyBlocksAreCheckedWithTheirPlace(block: String, message: String, hint: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "p.yaml",
            """
            name: checked
            stages:
              - id: work
                uses: sql.run
                with: { sql: "SELECT 1" }
            metrics: { textfile: out }
            notify:
            \(block)
            """)
        let result = try PipelineProcess.run(["validate", "p.yaml"], in: scratch.path)
        #expect(result.status == 78)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(hint.isEmpty || result.stderr.contains(hint), "\(result.stderr)")
        #expect(!result.stderr.contains("pw@"), "no credentials in messages")
    }

    @Test func aStagesOwnNotifyTakesOnlyItsStagesEvents() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "p.yaml",
            """
            name: checked
            stages:
              - id: work
                uses: sql.run
                with: { sql: "SELECT 1" }
                notify:
                  - on: [run.failed]
                    command: [true]
            """)
        let result = try PipelineProcess.run(["validate", "p.yaml"], in: scratch.path)
        #expect(result.status == 78)
        #expect(result.stderr.contains("p.yaml:7:14: unknown event 'run.failed' in 'on'; events here: stage.completed, stage.rejects"), "\(result.stderr)")
    }
}
