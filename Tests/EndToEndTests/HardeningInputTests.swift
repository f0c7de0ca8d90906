import Foundation
import Testing

/// Hostile and odd inputs through the binary: each once gave exit 0 with a wrong result, a trap or a raw
/// database error; now a right result, or a message with its place and the documented exit code.
@Suite(.timeLimit(.minutes(5))) struct HardeningInputTests {
    static func pipeline(_ name: String, _ stages: String, database: String = "sqlite:var/db.sqlite") -> String {
        "name: \(name)\ndatabase: \"\(database)\"\nstages:\n" + stages
    }

    static func sqlite(_ scratch: Scratch, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [scratch.file("var/db.sqlite"), sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func carriageReturnOnlyCSVImportsEveryRow() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("mac.csv", "sku,qty\r\"A-1\",2\rB-2,\"3\"\rC-3,4\r")
        try scratch.write("p.yaml", Self.pipeline("mac", "  - { id: load, uses: table.import, with: { file: mac.csv, table: t, create: true } }\n"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.sqlite(scratch, "SELECT sku, qty FROM t ORDER BY sku") == "A-1|2\nB-2|3\nC-3|4\n")
    }

    @Test func rejectsPathThatIsTheInputIsRefusedAndTheInputStays() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let input = "a,b\n1,2\nbroken\n"
        try scratch.write("in.csv", input)
        try scratch.write(
            "p.yaml",
            Self.pipeline("same", "  - { id: load, uses: table.import, with: { file: in.csv, table: t, create: true, rejects: ./in.csv, max_rejects: 5 } }\n"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 78)
        #expect(result.stderr.contains("p.yaml:4:92: 'rejects' is the input file"), "\(result.stderr)")
        #expect(try scratch.read("in.csv") == input)
    }

    @Test func aBrokenFirstJSONLLineIsARejectedRowLikeAnyOther() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("in.jsonl", "{\"sku\": oops}\n{\"sku\":\"A\",\"qty\":1}\n{\"sku\":\"B\",\"qty\":2}\n")
        try scratch.write(
            "p.yaml",
            Self.pipeline("jsonl", "  - { id: load, uses: table.import, with: { file: in.jsonl, table: t, create: true, max_rejects: 1, rejects: bad.csv } }\n"))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.sqlite(scratch, "SELECT sku, qty FROM t ORDER BY sku") == "A|1\nB|2\n")
        #expect(try scratch.read("bad.csv").hasPrefix("line,column,reason,record\n1,"))
        #expect(try scratch.read("bad.csv").hasSuffix(",\"{\"\"sku\"\": oops}\"\n"))
    }

    @Test func headersNoTableCanHoldAreRefusedBeforeTheDatabase() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("dup.csv", "Sku,qty,sku\n1,2,3\n")
        try scratch.write("ctl.csv", "sku,q\u{1B}[31mty\n1,2\n")
        try scratch.write("wide.csv", (0..<10_000).map { "c\($0)" }.joined(separator: ",") + "\n")
        for (file, column, reason) in [
            ("dup.csv", 3, "'sku' and 'Sku' differ only in case"), ("ctl.csv", 2, "control character"),
            ("wide.csv", 1601, "10000 columns"),
        ] {
            try scratch.write(
                "p.yaml", Self.pipeline("hdr", "  - { id: load, uses: table.import, with: { file: \(file), table: t, create: true } }\n"))
            let result = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
            #expect(result.status == 65, "\(file): \(result.stderr)")
            #expect(result.stderr.contains("\(file):1:\(column): "), "\(result.stderr)")
            #expect(result.stderr.contains(reason), "\(result.stderr)")
            #expect(!result.stderr.contains("\u{1B}"), "a raw ESC reached the terminal")
            #expect(!result.stderr.contains("CREATE TABLE"))
        }
        #expect(try Self.sqlite(scratch, "SELECT count(*) FROM sqlite_master WHERE name = 't'") == "0\n")
    }

    /// A read-only export: refused when the query plainly writes, and the database refuses the rest.
    @Test(arguments: ["sqlite", "postgres"])
    func anExportNeverWrites(database: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let locator = database == "sqlite" ? "sqlite:var/db.sqlite" : try TestDatabase.postgresURL()
        try scratch.write(
            "p.yaml",
            "params: { QUERY: \"SELECT 1\" }\n"
                + Self.pipeline(
                    "ro",
                    """
                      - { id: schema, uses: sql.run, with: { sql: "CREATE TABLE IF NOT EXISTS t (a INTEGER); INSERT INTO t VALUES (1), (2)" } }
                      - { id: dump, uses: table.export, with: { query: "${QUERY}", file: out.csv } }

                    """, database: locator))
        let sneaky =
            database == "sqlite"
            ? "WITH gone AS (SELECT 1) DELETE FROM t RETURNING *" : "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone"
        for (query, message) in [
            ("DELETE FROM t RETURNING *", "p.yaml:6:52: the query starts with 'DELETE': an export is read-only"),
            ("SELECT 1; DELETE FROM t", "the query holds 2 statements (the second at line 1, column 11)"),
            (sneaky, "the query writes, and an export is read-only"),
        ] {
            let result = try PipelineProcess.run(["run", "p.yaml", "--rerun", "-p", "QUERY=\(query)"], in: scratch.path)
            #expect(result.status == 78, "\(query): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(!scratch.exists("out.csv"))
        }
        let dump = try PipelineProcess.run(["run", "p.yaml", "--rerun", "-p", "QUERY=SELECT count(*) AS n FROM t"], in: scratch.path)
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(try scratch.read("out.csv") == "n\n4\n")
    }

    @Test func sqlRunRefusesStatementsThatWouldEndItsTransactionAndNULs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("commit.sql", "CREATE TABLE a (x);\n  COMMIT;\nCREATE TABLE b (x);\n")
        try scratch.write("nul.sql", "CREATE TABLE a (x);\nCREATE\0 TABLE b (x);\n")
        let cases = [
            ("{ sql: \"CREATE TABLE a (x); ROLLBACK; CREATE TABLE b (x)\" }", "p.yaml:4:42: line 1, column 21 of the SQL: 'ROLLBACK' would end"),
            ("{ file: commit.sql }", "commit.sql:2:3: stage 's' (sql.run): 'COMMIT' would end the stage's transaction early"),
            ("{ file: nul.sql }", "nul.sql:2:7: stage 's' (sql.run): a NUL character in the SQL"),
            ("{ sql: \"CREATE TABLE a (x);\\0 DROP TABLE a\" }", "p.yaml:4:42: a NUL character (\\0) is not allowed"),
        ]
        for (with, message) in cases {
            try scratch.write("p.yaml", Self.pipeline("tx", "  - { id: s, uses: sql.run, with: \(with) }\n"))
            let result = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
            #expect(result.status == 78, "\(with): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
        let tables = scratch.exists("var/db.sqlite")
            ? try Self.sqlite(scratch, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b')") : "0\n"
        #expect(tables == "0\n")
    }

    @Test func realsGoOutInTheirShortestExactForm() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "p.yaml",
            Self.pipeline(
                "reals",
                """
                  - { id: dump, uses: table.export, with: { query: "SELECT 0.1 + 0.2 AS a, -0.0 AS b, 1e300 AS c, 2.5 AS d", file: out.jsonl } }
                  - { id: csv, uses: table.export, with: { query: "SELECT 0.1 + 0.2 AS a", file: out.csv } }

                """))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("out.jsonl") == "{\"a\":0.30000000000000004,\"b\":-0.0,\"c\":1e+300,\"d\":2.5}\n")
        #expect(try scratch.read("out.csv") == "a\n0.30000000000000004\n")
    }

    @Test func nestedDefaultsAndQuotingHints() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "p.yaml",
            "name: nested\nparams: { b: from-b }\nstages:\n"
                + "  - { id: s, uses: table.export, with: { query: \"SELECT '${A:-${b}}' AS v\", file: \"${OUT:-${DIR:-out}/v.csv}\" } }\n")
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try scratch.read("out/v.csv") == "v\nfrom-b\n")
        try scratch.write("q.yaml", "name: q\nparams: { t: x }\nstages:\n  - id: s\n    uses: table.export\n    with: { table: ${t}, file: o.csv }\n")
        let hint = try PipelineProcess.run(["validate", "q.yaml"], in: scratch.path)
        #expect(hint.status == 78)
        #expect(hint.stderr == "q.yaml:6:21: an unquoted '${t}' inside { } or [ ]: YAML reads its braces as its own; quote the value, e.g. \"${t}\"\n")
    }

    @Test func numbersOutOfRangeAreRefusedNotTrapped() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        for backoff in ["9223372036854775807s", "99999999999999h"] {
            try scratch.write(
                "p.yaml",
                "name: n\nstages:\n  - id: s\n    uses: sql.run\n    retries: { count: 1, backoff: \(backoff) }\n    with: { sql: \"SELECT 1\" }\n")
            for command in ["validate", "run"] {
                let result = try PipelineProcess.run([command, "p.yaml"], in: scratch.path)
                #expect(result.status == 78, "\(command) \(backoff): \(result.stderr)")
                #expect(result.stderr.contains("p.yaml:5:14: 'retries': the duration '\(backoff)' is longer than the limit"))
            }
        }
    }

    /// In `--log-format json` mode every line on stderr is a JSON object: diagnostics and usage errors too.
    @Test func jsonLogFormatMakesEveryLineJSON() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("bad.yaml", "name: bad\nstages:\n  - { id: s, uses: sql.nope }\n")
        try TestData.writeRows(70_000, to: scratch.file("items.csv"))
        try scratch.write("ok.yaml", Self.pipeline("ok", "  - { id: load, uses: table.import, with: { file: items.csv, table: t, create: true } }\n"))
        var lines: [[String: Any]] = []
        for arguments in [["validate", "bad.yaml"], ["run", "--bogus"], ["run", "ok.yaml"]] {
            let result = try PipelineProcess.run(arguments + ["--log-format", "json"], in: scratch.path)
            #expect(!result.stderr.isEmpty)
            for line in result.stderr.split(separator: "\n") {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not JSON: \(line)")
                if let object { lines.append(object) }
            }
        }
        #expect(lines.contains { ($0["message"] as? String)?.hasPrefix("bad.yaml:3:20: unknown stage kind") == true })
        #expect(lines.contains { ($0["message"] as? String)?.contains("unknown option '--bogus'") == true })
        let progress = lines.filter { $0["event"] as? String == "progress" }
        #expect(!progress.isEmpty)
        #expect(progress.allSatisfy { ($0["message"] as? String)?.contains("rows") == true })
    }

    /// Text once landed in an INTEGER column on SQLite and integers beyond 64 bits became REAL; on
    /// PostgreSQL the same file failed the whole stage. Now both reject the row with its place.
    @Test(arguments: ["sqlite", "postgres"])
    func typedColumnsRejectWhatTheyCannotHoldExactly(database: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let locator = database == "sqlite" ? "sqlite:var/db.sqlite" : try TestDatabase.postgresURL()
        try scratch.write("t.csv", "id,qty,price\n1,5,1.25\n2,abc,2.00\n3,123456789012345678901234,3.50\n4,7,2.999\n5,6,\n")
        let price = database == "sqlite" ? "NUMERIC" : "numeric(10,2)"
        try scratch.write(
            "p.yaml",
            Self.pipeline(
                "typed",
                """
                  - { id: schema, uses: sql.run, with: { sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, price \(price))" } }
                  - { id: load, uses: table.import, with: { file: t.csv, table: t, max_rejects: 3, rejects: r.csv } }
                  - { id: dump, uses: table.export, with: { query: "SELECT id, qty FROM t ORDER BY id", file: out.csv } }

                """, database: locator))
        let result = try PipelineProcess.run(["run", "p.yaml"], in: scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        // numeric(10,2) would round 2.999; SQLite's NUMERIC keeps it (as a REAL, exact to 15 digits).
        #expect(try scratch.read("out.csv") == (database == "sqlite" ? "id,qty\n1,5\n4,7\n5,6\n" : "id,qty\n1,5\n5,6\n"))
        let rejects = try scratch.read("r.csv").split(separator: "\n").map { $0.prefix(4) }
        let expectedLines: [Substring] = database == "sqlite" ? ["line", "3,2,", "4,2,"] : ["line", "3,2,", "4,2,", "5,3,"]
        #expect(rejects == expectedLines)
        // Each rejected row as it was in the file, to fix and load again.
        #expect(try scratch.read("r.csv").contains(",\"2,abc,2.00\"\n"))
    }

    /// A runtime error about a parameter (a missing file, an unknown table) names where the file gives it.
    @Test func runtimeErrorsNameTheParametersPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("in.csv", "a\n1\n")
        for (stage, message) in [
            ("{ id: s, uses: sql.run, with: { file: missing.sql } }", "no such file: \(scratch.path)/missing.sql ('file' at p.yaml:4:43)"),
            ("{ id: l, uses: table.import, with: { file: in.csv, table: nosuch } }", "table nosuch does not exist (set create: true to create it) ('table' at p.yaml:4:63)"),
            // A file stands where the output's folder should be.
            ("{ id: d, uses: table.export, with: { query: \"SELECT 1\", file: in.csv/sub/out.csv } }", "cannot create folder \(scratch.path)/in.csv: a file of that name exists ('file' at p.yaml:4:67)"),
        ] {
            try scratch.write("p.yaml", Self.pipeline("places", "  - \(stage)\n"))
            let result = try PipelineProcess.run(["run", "p.yaml", "--rerun"], in: scratch.path)
            #expect(result.status != 0)
            #expect(result.stderr.contains(message), "\(result.stderr)")
        }
    }
}
