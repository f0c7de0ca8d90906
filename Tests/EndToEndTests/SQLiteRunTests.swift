import Foundation
import Pipelines
import Testing

@Suite(.timeLimit(.minutes(10))) struct SQLiteRunTests {
    @Test func demoPipelineRunsAndWritesItsOutputs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let demo = try String(contentsOfFile: PipelineProcess.packageRoot + "/pipelines/demo.yaml", encoding: .utf8)
        let file = try scratch.write("pipelines/demo.yaml", demo)
        try FileManager.default.copyItem(atPath: fixtures, toPath: scratch.file("fixtures"))
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        let jsonl = try scratch.read("pipelines/out/items.jsonl").split(separator: "\n")
        #expect(jsonl.count == 10)
        #expect(
            jsonl.first
                == #"{"id":1,"sku":"L2201308","name":"Laptop 13 inch 8GB","price_minor":129900,"currency":"USD","stock":12}"#)
        #expect(jsonl.contains(where: { $0.contains(#""name":"Gaming PC i7-8700 240GB SSD\n(refurbished)""#) }))
        #expect(jsonl.contains(where: { $0.contains(#""stock":null"#) }))
        let value = try scratch.read("pipelines/out/stock-value-USD.csv")
        let expected = 129900 * 12 + 139900 * 3 + 32999 * 40 + 14374 * 7 + 1659 * 120 + 108720 * 1
        #expect(value == "currency,items,stock_value_minor\nUSD,8,\(expected)\n")
        // Running again gives the same result: the schema stage starts the table afresh.
        #expect(try PipelineProcess.run(["run", file]).status == 0)
        #expect(try scratch.read("pipelines/out/stock-value-USD.csv") == value)
    }

    @Test func dryRunTouchesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: dry
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items.csv, table: items, create: true }
              - id: dump
                uses: table.export
                with: { table: items, file: out/items.csv }
            """)
        let result = try PipelineProcess.run(["run", file, "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("1. load (table.import)"))
        #expect(result.stdout.contains("2. dump (table.export) needs load"))
        #expect(result.stdout.contains("reads  file \(fixtures)/items.csv"))
        #expect(result.stdout.contains("writes file \(scratch.path)/out/items.csv"))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(left == ["p.yaml"])
    }

    @Test func importExportRoundTripKeepsEveryByte() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: round-trip
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items.csv, table: items, create: true }
              - id: dump
                uses: table.export
                with: { table: items, file: out/items.csv }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        let original = try String(contentsOfFile: fixtures + "/items.csv", encoding: .utf8)
        #expect(try scratch.read("out/items.csv") == original)
        let rows = try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT count(*), count(stock) FROM items")
        #expect(rows == [["10", "9"]])
    }

    @Test func rejectsPastTheLimitFailWith65AndLeaveTheTableAsItWas() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pipeline = { (limit: Int) in
            """
            name: rejects
            stages:
              - id: schema
                uses: sql.run
                with: { sql: "CREATE TABLE IF NOT EXISTS items (id, sku, name, price_minor, currency, stock)" }
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items-with-bad-rows.csv, table: items, max_rejects: \(limit) }
            """
        }
        let strict = try scratch.write("strict.yaml", pipeline(1))
        let failed = try PipelineProcess.run(["run", strict])
        #expect(failed.status == 65, "\(failed.stderr)")
        #expect(failed.stderr.contains("max_rejects"))
        #expect(try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT count(*) FROM items") == [["0"]])
        let rejects = try scratch.read("var/items.rejects.csv")
        #expect(
            rejects == """
                line,column,reason,record
                3,6,"expected 6 fields as in the header, found 5","2,L2201508,Laptop 15 inch 8GB,139900,USD"
                5,3,quote inside an unquoted field,"4,B0754345,Tablet ""32GB"",32999,USD,40"

                """)

        let lenient = try scratch.write("lenient.yaml", pipeline(2))
        let passed = try PipelineProcess.run(["run", lenient])
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(
            try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT id FROM items ORDER BY id")
                == [["1"], ["3"], ["5"]])
        let lines = try scratch.read("var/items.rejects.csv").split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[1].hasPrefix("3,6,"))
        #expect(lines[2].hasPrefix("5,3,"))
    }

    @Test func invalidUTF8IsARowErrorWithItsColumn() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: utf8
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items-invalid-utf8.csv, table: items, create: true, max_rejects: 1 }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        let rejects = try scratch.read("var/items.rejects.csv")
        #expect(rejects.contains("2,3,"))
        #expect(rejects.lowercased().contains("utf-8"))
        #expect(try Inspect.rows(.sqlite(path: scratch.file("var/store.db")), "SELECT sku FROM items") == [["X2"]])
    }

    @Test func jsonlImportKeepsNumbersNullsAndNestedValues() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write(
            "items.jsonl",
            """
            {"id":1,"sku":"A1","price_minor":12345678901234567890,"tags":["x","y"],"note":null}
            {"id":2,"sku":"A\\"2","price_minor":5,"tags":[],"note":"caf\\u00e9"}

            {"id":3,"sku":"A3","price_minor":7,"colour":"red"}
            """)
        let file = try scratch.write(
            "p.yaml",
            """
            name: jsonl
            stages:
              - id: load
                uses: table.import
                with: { file: items.jsonl, table: items, create: true, max_rejects: 1 }
              - id: dump
                uses: table.export
                with: { query: "SELECT * FROM items ORDER BY id", file: out/items.csv }
            """)
        let result = try PipelineProcess.run(["run", file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            try scratch.read("out/items.csv") == """
                id,sku,price_minor,tags,note
                1,A1,12345678901234567890,"[""x"",""y""]",
                2,"A""2",5,[],café

                """)
        #expect(try scratch.read("var/items.rejects.csv").contains("4,"))
    }

    @Test func jsonLogLinesParse() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write(
            "p.yaml",
            """
            name: json-logs
            stages:
              - id: load
                uses: table.import
                with: { file: \(fixtures)/items.csv, table: items, create: true }
            """)
        let result = try PipelineProcess.run(["run", file, "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        var events: [String] = []
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String)
            #expect(object?["level"] is String)
            #expect(object?["counts"] is [String: Any])
            if let event = object?["event"] as? String { events.append(event) }
            if object?["event"] as? String == "stage.finished" {
                let counts = object?["counts"] as? [String: Any]
                #expect(counts?["written"] as? Int == 10)
                #expect(object?["stage"] as? String == "load")
            }
        }
        #expect(events.contains("run.started"))
        #expect(events.contains("stage.finished"))
        #expect(events.contains("run.finished"))
    }
}
