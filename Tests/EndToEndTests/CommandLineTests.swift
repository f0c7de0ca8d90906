import Foundation
import Testing

@Suite(.timeLimit(.minutes(10))) struct CommandLineTests {
    @Test func versionAndHelp() throws {
        let version = try PipelineProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("pipeline "))
        for command in ["run", "validate", "stages", "due"] {
            let help = try PipelineProcess.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Usage: pipeline \(command)"))
        }
    }

    @Test func usageErrorsExit64() throws {
        let unknown = try PipelineProcess.run(["rnu", "x.yaml"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown command 'rnu' (did you mean 'run'?)"))
        #expect(try PipelineProcess.run(["run"]).status == 64)
        #expect(try PipelineProcess.run(["run", "a.yaml", "b.yaml"]).status == 64)
        #expect(try PipelineProcess.run(["run", "a.yaml", "--bogus"]).status == 64)
        #expect(try PipelineProcess.run(["run", "a.yaml", "--param", "novalue"]).status == 64)
        #expect(try PipelineProcess.run([]).status == 64)
        for (arguments, message) in [
            (["run", "a.yaml", "--now", "2026-03-08 02:00"], "--now needs a date and time with its UTC offset"),
            (["schedule", "a.yaml"], "schedule takes a subcommand: show, systemd or cron, got 'a.yaml'"),
            (["schedule", "sho", "a.yaml"], "(did you mean 'show'?)"),
            (["schedule", "cron", "a.yaml", "--count", "3"], "--from and --count only apply to schedule show"),
            (["schedule", "systemd", "a.yaml", "--root", "/tmp/x"], "--root is for --install of system units"),
            (["due"], "due needs at least one pipeline file"),
            (["due", "a.yaml", "--slot", "2026-03-08T02:00:00Z"], "--slot, --ignore-window and --force only apply to run"),
            (["validate", "a.yaml", "--force"], "--slot, --ignore-window and --force only apply to run"),
        ] {
            let result = try PipelineProcess.run(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test func missingPipelineFileExits66() throws {
        let result = try PipelineProcess.run(["run", "/nonexistent/pipeline.yaml"])
        #expect(result.status == 66)
        #expect(result.stderr.contains("/nonexistent/pipeline.yaml"))
    }

    @Test func stagesListsKindsAndParameters() throws {
        let list = try PipelineProcess.run(["stages"])
        #expect(list.status == 0)
        for kind in ["sql.run", "table.import", "table.export"] { #expect(list.stdout.contains(kind)) }
        let one = try PipelineProcess.run(["stages", "table.import"])
        #expect(one.status == 0)
        #expect(one.stdout.contains("max_rejects (int, default 0; 0 or more)"))
        #expect(one.stdout.contains("file (path, required)"))
        let wrong = try PipelineProcess.run(["stages", "tabel.import"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("did you mean 'table.import'?"))
    }

    @Test func optionsMayFollowOrPrecedeTheFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: order
            params: { greeting: hello }
            stages:
              - id: s
                uses: sql.run
                with: { sql: "SELECT '${greeting}'" }
            """)
        let before = try PipelineProcess.run(["run", "--dry-run", "--param", "greeting=hi", file])
        let after = try PipelineProcess.run(["run", file, "--param=greeting=hi", "--dry-run"])
        #expect(before.status == 0)
        #expect(before.stdout == after.stdout)
        #expect(before.stdout.contains("SELECT 'hi'"))
    }
}
