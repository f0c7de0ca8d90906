import Foundation
import Testing

/// Broken pipeline files: every error of a file, each with its exact place, in one go.
@Suite(.timeLimit(.minutes(10))) struct BrokenFileTests {
    static let broken = """
        name: broken
        params:
          day: "2024-01-31"
        stages:
          - id: load
            uses: tabel.import
            with: { file: items.csv, table: items }
          - id: dump
            uses: table.export
            needs: [lod]
            with: { query: "SELECT 1", file: out.csv, formt: csv }
          - id: dump
            uses: table.import
            with: { file: x.csv, table: "bad name", create: yes, max_rejects: many }
          - id: again
            uses: sql.run
            with: { sql: "SELECT '${dya}'" }
            extra: 1

        """

    @Test func everyErrorIsReportedWithItsPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("broken.yaml", Self.broken)
        let result = try PipelineProcess.run(["validate", "broken.yaml"], in: scratch.path)
        #expect(result.status == 78)
        #expect(
            result.stderr == """
                broken.yaml:6:11: unknown stage kind 'tabel.import' (did you mean 'table.import'?)
                broken.yaml:10:13: unknown stage 'lod' in needs (did you mean 'load'?)
                broken.yaml:11:47: unknown parameter 'formt' for table.export (did you mean 'format'?)
                broken.yaml:12:9: duplicate stage id 'dump' (first at line 8)
                broken.yaml:14:33: parameter 'table': invalid SQL name 'bad name': only letters, digits and _ are allowed, starting with a letter or _
                broken.yaml:14:53: parameter 'create': expected true or false, found 'yes'
                broken.yaml:14:71: parameter 'max_rejects': expected an integer, found 'many'
                broken.yaml:17:27: undefined variable 'dya' (did you mean 'day'?)
                broken.yaml:18:5: unknown key 'extra' in stage 'again'

                """)
        // `run` refuses the same file with the same messages and touches nothing.
        let run = try PipelineProcess.run(["run", "broken.yaml"], in: scratch.path)
        #expect(run.status == 78)
        #expect(run.stderr == result.stderr)
        #expect(!scratch.exists("var"))
    }

    @Test(arguments: [
        (
            "cycle.yaml",
            """
            name: cycle
            stages:
              - id: a
                uses: sql.run
                needs: [b]
                with: { sql: "SELECT 1" }
              - id: b
                uses: sql.run
                needs: [a]
                with: { sql: "SELECT 1" }
            """,
            "cycle.yaml:5:13: dependency cycle: a -> b -> a\n"
        ),
        (
            "syntax.yaml",
            "name: x\nstages:\n  - id: a\n    uses: sql.run\n    with: {sql: \"x\"\n",
            "syntax.yaml:6:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow mapping at line 5, column 11)\n"
        ),
        (
            "missing.yaml",
            "name: missing\nstages:\n  - id: a\n    uses: table.export\n    with: { file: out.csv }\n",
            "missing.yaml:5:11: table.export needs either 'table' or 'query'\n"
        ),
        (
            "format.yaml",
            "name: format\nstages:\n  - id: a\n    uses: table.import\n    with: { file: data.txt, table: t }\n",
            "format.yaml:5:19: cannot tell the format of 'data.txt' from its extension; set format: csv or jsonl\n"
        ),
        (
            "required.yaml",
            "name: required\nstages:\n  - id: a\n    uses: table.import\n    with: { file: data.csv }\n",
            "required.yaml:5:11: missing required parameter 'table' for table.import\n"
        ),
    ])
    func brokenFile(name: String, text: String, expected: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(name, text)
        let result = try PipelineProcess.run(["validate", name], in: scratch.path)
        #expect(result.status == 78)
        #expect(result.stderr == expected)
    }

    @Test func validFilesAreOkAndMissingOnesExit66() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let demo = PipelineProcess.packageRoot + "/pipelines/demo.yaml"
        let ok = try PipelineProcess.run(["validate", demo])
        #expect(ok.status == 0)
        #expect(ok.stdout == "\(demo): ok\n")
        let missing = try PipelineProcess.run(["validate", demo, "nope.yaml"], in: scratch.path)
        #expect(missing.status == 66)
        #expect(missing.stderr == "nope.yaml:1:1: no such file\n")
    }

    @Test func yesAndNoStayStringsWhereStringsAreDeclared() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "yes.yaml", "name: yes-no\nparams: { answer: no }\nstages:\n  - id: a\n    uses: sql.run\n    with: { sql: yes }\n")
        let result = try PipelineProcess.run(["run", "yes.yaml", "--dry-run"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("params: answer=no\n"))
        #expect(result.stdout.contains("     sql: yes\n"))
    }

    @Test func billionLaughsFailsFastInSmallMemory() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var text = "name: lol\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        text += "stages: *i\n"
        try scratch.write("laughs.yaml", text)
        let measured = try PipelineProcess.runMeasured(["run", "laughs.yaml"], in: scratch.path)
        #expect(measured.result.status == 78)
        #expect(measured.result.stderr == "laughs.yaml:2:4: YAML anchors and aliases are not allowed\n")
        // Expanding the aliases would need about a billion nodes; refusing them keeps the process small.
        #expect(measured.peakKilobytes < 64 * 1024)
    }
}
