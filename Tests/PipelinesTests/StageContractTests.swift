import Foundation
import Testing

@testable import Pipelines

/// What the loader checks of the contract: output references, per-kind settings, the workspace.
@Suite struct StageContractTests {
    let producer = """
        name: p
        stages:
          - id: make
            uses: test.produce
            with: { path: out/things.txt }

        """

    @Test func aReferencedOutputDefersTheParameterUntilTheRun() throws {
        let pipeline = try ContractKinds.load(
            producer + """
              - id: use
                uses: test.consume
                with: { source: make, file: "${stages.make.outputs.path}" }
            """, in: "/srv/p")
        let use = try #require(pipeline.stage(id: "use"))
        guard case .deferred = use.binding else {
            Issue.record("expected a deferred stage")
            return
        }
        #expect(use.resolvedParameters.first { $0.name == "file" }?.value == "${stages.make.outputs.path}")
        #expect(use.references.map(\.stage) == ["make", "make"])
        let bound = try use.resolve(outputs: ["make": StageOutputs(["path": RecordedOutput(type: .path, text: "/tmp/x.txt")])])
        #expect(bound.resolvedParameters.first { $0.name == "file" }?.value == "/tmp/x.txt")
        do {
            _ = try use.resolve(outputs: [:])
            Issue.record("expected a failure")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["p.yaml:8:34: stage 'make' recorded no output 'path' for '${stages.make.outputs.path}'"])
        }
    }

    @Test func referencesNameAnEarlierStageAndADeclaredOutput() {
        #expect(
            ContractKinds.errors(
                producer + """
                  - id: use
                    uses: test.consume
                    with: { source: mkae, file: "${stages.make.outputs.pth}" }
                """) == [
                    "p.yaml:8:21: unknown stage 'mkae' (did you mean 'make'?)",
                    "p.yaml:8:34: stage 'make' (test.produce) has no output 'pth' (did you mean 'path'?); it declares: path, count, info",
                ])
        #expect(
            ContractKinds.errors(
                """
                name: p
                stages:
                  - id: use
                    uses: test.consume
                    with: { source: make, file: x }
                  - id: make
                    uses: test.produce
                    with: { path: out/things.txt }
                """) == ["p.yaml:5:21: stage 'make' does not run before 'use'; add it to needs"])
        #expect(
            ContractKinds.errors(
                producer + """
                  - id: use
                    uses: test.consume
                    with: { source: use, file: "${stages.use.outputs.x}", fail_while: "${stages.nope.outputs.x}" }
                """).contains("p.yaml:8:21: stage 'use' cannot use its own outputs"))
        #expect(
            ContractKinds.errors(producer + "  - id: use\n    uses: test.consume\n    with: { source: make, file: '${stages.make.path}' }\n")
                == ["p.yaml:8:34: invalid stage output reference '${stages.make.path}': write ${stages.STAGE_ID.outputs.NAME}"])
    }

    @Test func aStageReferenceParameterNeedsTheOutputsItsKindNames() {
        let yaml = """
            name: p
            stages:
              - id: first
                uses: test.consume
                with: { source: first, file: x }
              - id: second
                uses: test.consume
                with: { source: first, file: x }
            """
        #expect(
            ContractKinds.errors(yaml).contains(
                "p.yaml:8:21: stage 'first' (test.consume) has no output 'count'; test.consume declares no outputs"))
    }

    @Test func outputReferencesAreRefusedOutsideWith() {
        #expect(
            ContractKinds.errors("name: p\nparams: { a: '${stages.x.outputs.y}' }\n" + producer.split(separator: "\n").dropFirst().joined(separator: "\n"))
                == ["p.yaml:2:15: '${stages.x.outputs.y}': stage outputs can only be used in a stage's with:"])
    }

    @Test func settingsAreRefusedWhereTheKindDoesNotUseThem() {
        #expect(
            ContractKinds.errors(
                """
                name: p
                stages:
                  - id: make
                    uses: test.produce
                    chunk_size: 100
                    with: { path: x }
                  - id: pg
                    uses: test.postgres
                    retries: { count: 2 }
                    database: x
                """) == [
                    "p.yaml:5:5: 'chunk_size' does not apply to test.produce: it does its work whole, without chunks",
                    "p.yaml:8:11: test.postgres needs PostgreSQL, the pipeline's database (sqlite:/srv/p/var/store.db) is SQLite",
                    "p.yaml:9:5: 'retries' does not apply to test.postgres: it cannot be retried safely",
                    "p.yaml:10:5: unknown key 'database' in stage 'pg'",
                ])
        #expect(
            ContractKinds.errors(
                "name: p\nstages:\n  - id: use\n    uses: test.consume\n    chunk_size: -1\n    with: { source: use, file: x }\n"
            ).first == "p.yaml:5:17: 'chunk_size': expected 0 (no checkpoints) or a positive number of rows, found -1")
    }

    @Test func checksSeeTheWorkspaceAndItsNamedDatabases() throws {
        let yaml = """
            name: p
            databases:
              local: sqlite:other.db
              reporting: postgres://report@db.example/reports
            database: postgres://app:secret@db.example/app
            stages:
              - id: a
                uses: test.postgres
              - id: b
                uses: test.postgres
                with: { database: reporting }
              - id: c
                uses: test.postgres
                with: { database: local }
              - id: d
                uses: test.postgres
                with: { database: reportng }
            """
        #expect(
            ContractKinds.errors(yaml) == [
                "p.yaml:14:23: test.postgres needs PostgreSQL, database 'local' (sqlite:/srv/p/other.db) is SQLite",
                "p.yaml:17:23: parameter 'database': unknown database 'reportng' (did you mean 'reporting'?); declared: local, reporting",
            ])
        let pipeline = try ContractKinds.load(yaml.replacingOccurrences(of: "database: local", with: "database: reporting").replacingOccurrences(of: "reportng", with: "reporting"), in: "/srv/p")
        #expect(pipeline.databases["local"] == .sqlite(path: "/srv/p/other.db"))
        #expect(pipeline.workspace.describe(DatabaseName("reporting")) == "database 'reporting' (postgres://report@db.example/reports)")
        #expect(
            ContractKinds.errors("name: p\ndatabases: { 1x: sqlite:a.db, ok: ~ }\nstages:\n  - id: a\n    uses: test.liar\n") == [
                "p.yaml:2:14: invalid database name '1x': use letters, digits and '_', not starting with a digit",
                "p.yaml:2:35: database 'ok' needs a URL: sqlite:PATH or postgres://user@host/name",
            ])
    }

    @Test func familiesGiveTheirKindsTheirSchema() {
        let schema = SchemaFamily(name: "things", migrations: [Migration(version: 1, name: "t") { _ in "CREATE TABLE t (x INTEGER)" }])
        let family = StageFamily(
            name: "test", summary: "things", kinds: [StageDescriptor(ContractKinds.Produce.self)], schema: schema,
            commands: [FamilyCommand(verb: "status", usage: "", summary: "s") { _ in "ok\n" }])
        #expect(family.kinds.map(\.schema?.name) == ["things"])
        #expect(family.kinds.map(\.family) == ["test"])
        #expect(family.command(named: "status")?.summary == "s")
        #expect(family.command(named: "statsu") == nil)
        #expect(StageSettings.help(for: .whole(retryable: false)).isEmpty)
        #expect(StageSettings.help(for: .chunked(defaultSize: 5, unit: "variant rows")).map(\.name) == ["chunk_size", "retries"])
    }
}
