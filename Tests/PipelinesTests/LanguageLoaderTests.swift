import Foundation
import Testing

@testable import Pipelines

@Suite struct LanguageLoaderTests {
    let valid = """
        name: nightly-catalogue
        description: Load for ${day}
        params:
          day: "2024-01-31"
          who: ${USER:-nobody}
        database: ${DATABASE_URL:-sqlite:var/store.db}
        stages:
          - id: load
            uses: table.import
            with: { message: "load ${day}", file: fixtures/items.csv, loud: true }
          - id: dump
            uses: echo
            description: dump for ${who}
            with:
              message: yes
              repeats: 3
        """

    @Test func loadsAValidPipeline() throws {
        let pipeline = try LanguageFixtures.load(valid, environment: ["USER": "ada"])
        #expect(pipeline.name == "nightly-catalogue")
        #expect(pipeline.description == "Load for 2024-01-31")
        #expect(pipeline.file == "pipelines/x.yaml")
        #expect(pipeline.baseDirectory == "/srv/project/pipelines")
        #expect(pipeline.params.map(\.name) == ["day", "who"])
        #expect(pipeline.params.map(\.value) == ["2024-01-31", "ada"])
        #expect(pipeline.database == .sqlite(path: "/srv/project/pipelines/var/store.db"))
        #expect(pipeline.stages.map(\.id) == ["load", "dump"])
        #expect(pipeline.stages.map(\.kind) == ["table.import", "echo"])
        #expect(pipeline.stages[1].needs == ["load"])
        #expect(pipeline.stages[0].needs == [])
        #expect(pipeline.stages[1].description == "dump for ada")
        #expect(pipeline.stages[0].location.description == "pipelines/x.yaml:8:5")
        let load = Dictionary(uniqueKeysWithValues: pipeline.stages[0].resolvedParameters.map { ($0.name, $0.value) })
        #expect(load["message"] == "\"load 2024-01-31\"")
        #expect(load["file"] == "/srv/project/pipelines/fixtures/items.csv")
        #expect(load["loud"] == "true")
        let dump = Dictionary(uniqueKeysWithValues: pipeline.stages[1].resolvedParameters.map { ($0.name, $0.value) })
        #expect(dump["message"] == "yes")
        #expect(dump["repeats"] == "3")
    }

    @Test func overridesReplaceParamsBeforeInterpolation() throws {
        let pipeline = try LanguageFixtures.load(
            valid, overrides: [("day", "2025-02-01"), ("day", "2025-03-01")],
            environment: ["DATABASE_URL": "postgres://u:secret@db/x"])
        #expect(pipeline.params.map(\.value) == ["2025-03-01", "nobody"])
        #expect(pipeline.description == "Load for 2025-03-01")
        #expect(pipeline.database == .postgres(url: "postgres://u:secret@db/x"))
    }

    @Test func unknownOverrideListsDeclaredParams() {
        #expect(
            LanguageFixtures.errors(valid, overrides: [("dya", "x")]) == [
                "pipelines/x.yaml:3:1: unknown param 'dya' given with --param (did you mean 'day'?); declared: day, who"
            ])
        let noParams = "name: p\nstages:\n  - id: a\n    uses: echo\n    with: { message: hi }\n"
        #expect(
            LanguageFixtures.errors(noParams, overrides: [("x", "1")]) == [
                "pipelines/x.yaml:1:1: unknown param 'x' given with --param; this pipeline declares no params"
            ])
    }

    @Test func paramsInterpolateAgainstTheEnvironmentOnly() {
        let yaml = "name: p\nparams:\n  a: one\n  b: ${a}\nstages:\n  - id: s\n    uses: echo\n    with: { message: hi }\n"
        #expect(LanguageFixtures.errors(yaml) == ["pipelines/x.yaml:4:6: undefined variable 'a'"])
    }

    @Test func unknownStageKindPointsAtUses() {
        let yaml = """
            name: p
            stages:
              - id: a
                uses: echo
                with: { message: hi }
              - id: b
                uses: tabel.import
                with: { message: hi }
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:7:11: unknown stage kind 'tabel.import' (did you mean 'table.import'?)"
            ])
    }

    @Test func unknownKeysWithDidYouMean() {
        let yaml = """
            name: p
            stagse: []
            stages:
              - id: a
                use: echo
                need: []
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:2:1: unknown key 'stagse' (did you mean 'stages'?)",
                "pipelines/x.yaml:4:5: missing required key 'uses' in stage 'a'",
                "pipelines/x.yaml:5:5: unknown key 'use' in stage 'a' (did you mean 'uses'?)",
                "pipelines/x.yaml:6:5: unknown key 'need' in stage 'a' (did you mean 'needs'?)",
            ])
    }

    @Test func missingRequiredKeys() {
        #expect(
            LanguageFixtures.errors("description: nothing\n") == [
                "pipelines/x.yaml:1:1: missing required key 'name'",
                "pipelines/x.yaml:1:1: missing required key 'stages'",
            ])
        #expect(
            LanguageFixtures.errors("name: p\nstages:\n  - uses: echo\n    with: { message: hi }\n") == [
                "pipelines/x.yaml:3:5: missing required key 'id' in stage"
            ])
        #expect(
            LanguageFixtures.errors("name: p\nstages:\n  - id: a\n    uses: echo\n") == [
                "pipelines/x.yaml:3:5: missing required parameter 'message' for echo"
            ])
    }

    @Test func wrongNodeKinds() {
        #expect(
            LanguageFixtures.errors("- a\n") == [
                "pipelines/x.yaml:1:1: a pipeline file must be a mapping with 'name' and 'stages', found a sequence"
            ])
        let yaml = """
            name: [p]
            params: [a]
            database: { url: x }
            stages:
              - just-a-string
              - id: b
                uses: echo
                needs: a
                with: [message]
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:1:7: 'name' must be a string, found a sequence",
                "pipelines/x.yaml:2:9: 'params' must be a mapping of names to values, found a sequence",
                "pipelines/x.yaml:3:11: 'database' must be a string, found a mapping",
                "pipelines/x.yaml:5:5: each stage must be a mapping with 'id' and 'uses', found a scalar",
                "pipelines/x.yaml:8:12: 'needs' must be a sequence of stage ids, e.g. [load], found a scalar",
                "pipelines/x.yaml:9:11: 'with' must be a mapping, found a sequence",
            ])
        #expect(
            LanguageFixtures.errors("name: p\nstages: []\n") == [
                "pipelines/x.yaml:2:9: 'stages' must be a non-empty sequence of stages, found a sequence"
            ])
    }

    @Test func invalidNamesAndIds() {
        let yaml = "name: my pipeline\nstages:\n  - id: a.b\n    uses: echo\n    with: { message: hi }\n"
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:1:7: invalid pipeline name 'my pipeline': use letters, digits and '-', '.', '_'",
                "pipelines/x.yaml:3:9: invalid stage id 'a.b': use letters, digits and '-', '_'",
            ])
    }

    @Test func duplicateKeysAndStageIds() {
        let yaml = """
            name: p
            name: q
            stages:
              - id: a
                uses: echo
                with: { message: hi, message: again }
              - id: a
                uses: echo
                with: { message: hi }
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:2:1: duplicate key 'name' (first at line 1)",
                "pipelines/x.yaml:6:26: duplicate key 'message' (first at line 6)",
                "pipelines/x.yaml:7:9: duplicate stage id 'a' (first at line 4)",
            ])
    }

    @Test func yesStaysAStringAndBoolsAreStrict() {
        let yaml = "name: p\nstages:\n  - id: a\n    uses: echo\n    with: { message: no, loud: yes }\n"
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:5:32: parameter 'loud': expected true or false, found 'yes'"
            ])
    }

    @Test func interpolationErrorsInWithDatabaseAndDescription() {
        let yaml = """
            name: p
            description: ${A}
            database: ${B}
            stages:
              - id: a
                uses: echo
                description: "${C"
                with: { message: "x ${D}", file: "${E:-out.txt}" }
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:2:14: undefined variable 'A'",
                "pipelines/x.yaml:3:11: undefined variable 'B'",
                "pipelines/x.yaml:7:19: unterminated '${' (missing '}')",
                "pipelines/x.yaml:8:25: undefined variable 'D'",
            ])
    }

    @Test func badDatabase() {
        let yaml = "name: p\ndatabase: mysql://x\nstages:\n  - id: a\n    uses: echo\n    with: { message: hi }\n"
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:2:11: unknown database 'mysql://x': use sqlite:PATH, postgres://user@host/dbname or host=... dbname=..."
            ])
    }

    @Test func needsDefaultToThePreviousStageAndOrderIsStable() throws {
        let yaml = """
            name: p
            stages:
              - { id: a, uses: echo, with: { message: a } }
              - { id: b, uses: echo, with: { message: b } }
              - { id: c, uses: echo, needs: [], with: { message: c } }
              - { id: d, uses: echo, needs: [e], with: { message: d } }
              - { id: e, uses: echo, needs: [a], with: { message: e } }
            """
        let pipeline = try LanguageFixtures.load(yaml)
        #expect(pipeline.stages.map(\.id) == ["a", "b", "c", "e", "d"])
        #expect(pipeline.stages.map(\.needs) == [[], ["a"], [], ["a"], ["e"]])
    }

    @Test func unknownNeedsWithDidYouMean() {
        let yaml = """
            name: p
            stages:
              - { id: load, uses: echo, with: { message: a } }
              - { id: dump, uses: echo, needs: [laod, load, load], with: { message: b } }
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:4:37: unknown stage 'laod' in needs (did you mean 'load'?)",
                "pipelines/x.yaml:4:49: stage 'load' is listed twice in needs",
            ])
    }

    @Test func dependencyCycles() {
        let yaml = """
            name: p
            stages:
              - id: a
                uses: echo
                needs: [c]
                with: { message: a }
              - id: b
                uses: echo
                with: { message: b }
              - id: c
                uses: echo
                with: { message: c }
              - id: d
                uses: echo
                needs: [d]
                with: { message: d }
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:5:13: dependency cycle: a -> c -> b -> a",
                "pipelines/x.yaml:15:13: dependency cycle: d -> d",
            ])
    }

    @Test func collectsEverythingSortedByPosition() {
        let yaml = """
            name: p
            stages:
              - id: b
                uses: nope
              - id: c
                uses: echo
                with: { message: hi, colour: red }
            extra: 1
            """
        #expect(
            LanguageFixtures.errors(yaml) == [
                "pipelines/x.yaml:4:11: unknown stage kind 'nope'",
                "pipelines/x.yaml:7:26: unknown parameter 'colour' for echo",
                "pipelines/x.yaml:8:1: unknown key 'extra'",
            ])
    }

    @Test func loadsFromAFileRelativeToItsFolder() throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.yaml").path
        try "name: p\nstages:\n  - id: a\n    uses: echo\n    with: { message: hi, file: ../out.txt }\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let pipeline = try LanguageFixtures.loader.load(path: path, overrides: [], environment: [:])
        let base = URL(fileURLWithPath: folder.path).standardizedFileURL.path
        #expect(pipeline.baseDirectory == base)
        #expect(pipeline.file == path)
        let file = pipeline.stages[0].resolvedParameters.first { $0.name == "file" }?.value
        #expect(file == (base as NSString).deletingLastPathComponent + "/out.txt")
        #expect(pipeline.database == .sqlite(path: base + "/var/store.db"))
    }

    @Test func missingFileIsNoInput() {
        do {
            _ = try LanguageFixtures.loader.load(path: "pipelines/does-not-exist.yaml", overrides: [], environment: [:])
            Issue.record("expected a failure")
        } catch {
            #expect(error.code == .noInput)
            #expect(error.description == "pipelines/does-not-exist.yaml:1:1: no such file")
        }
    }

    @Test func syntaxErrorsAndAliasesAreConfigErrors() throws {
        let folder = try LanguageFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.yaml").path
        try "name: &n p\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try LanguageFixtures.loader.load(path: path, overrides: [], environment: [:])
            Issue.record("expected a failure")
        } catch {
            #expect(error.code == .config)
            #expect(error.description == "\(path):1:7: YAML anchors and aliases are not allowed")
        }
        #expect(LanguageFixtures.errors("") == ["pipelines/x.yaml:1:1: empty file: expected a YAML document"])
    }
}
