import Foundation
import Pipelines
import Testing

/// inventory.fetch through the built binary against a feed server on loopback (Tests/Peers/feed_server.py)
/// serving Vendure's demo catalogue in VeraCore, ShipStation and ShipBob shapes: pagination of each kind,
/// a 429 with Retry-After, a 500, a response past the timeout, a truncated body, a peer that stays down,
/// and credentials that never show.
@Suite(.serialized, .timeLimit(.minutes(5))) struct InventoryFetchTests {
    static let changed = ["L2201308": 107, "TBL200032": 93, "CH00001-02": 2, "B07D75V44S": 150, "RS0040": 101]

    /// The catalogue as the feed server's data: five figures changed, two reserved of each.
    static func serve(_ scene: InventoryScene, token: String? = nil, pageSize: Int = 10) throws -> PeerServer {
        var lines = ["sku,on_hand,reserved"]
        for (sku, onHand) in try InventoryScene.catalogueStock() { lines.append("\(sku),\(changed[sku] ?? onHand),2") }
        try scene.scratch.write("feed-data.csv", lines.joined(separator: "\n") + "\n")
        return try PeerServer(
            "feed_server.py",
            ["--data", scene.scratch.file("feed-data.csv"), "--log", scene.scratch.file("server.log"), "--page-size", String(pageSize)]
                + (token.map { ["--token", $0] } ?? []))
    }

    static func provenance(_ scene: InventoryScene) throws -> [String: Any] {
        let runs = try FileManager.default.contentsOfDirectory(atPath: scene.scratch.file("var/fetch"))
        let data = try Data(contentsOf: URL(fileURLWithPath: scene.scratch.file("var/fetch/\(runs.first ?? "")/feed.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func serverLog(_ scene: InventoryScene) throws -> [[String: Any]] {
        try scene.scratch.read("server.log").split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test(arguments: [
        ("veracore", "url: \"http://127.0.0.1:PORT/veracore/ok?relative=1\", columns: veracore, format: json, records: $.Items, timestamp: GeneratedAt, pagination: { next: \"field:NextPage\" }", 9),
        ("shipstation", "url: \"http://127.0.0.1:PORT/shipstation/ok\", columns: shipstation, format: json, records: $.inventory, pagination: { next: \"page-param:page\" }", 10),
        ("shipbob", "url: \"http://127.0.0.1:PORT/shipbob/ok\", columns: shipbob, format: json, pagination: { next: link-header }", 9),
        ("csv", "url: \"http://127.0.0.1:PORT/csv/ok\", columns: { sku: sku, on_hand: on_hand, reserved: reserved }", 1),
        ("jsonl", "url: \"http://127.0.0.1:PORT/jsonl/ok\", format: jsonl", 1),
    ])
    func eachShapeIsPagedAndReconciled(shape: String, fetch: String, pages: Int) throws {
        let scene = try InventoryScene()
        defer { scene.remove() }
        let server = try Self.serve(scene)
        defer { server.stop() }
        try scene.pipeline(fetch: fetch.replacingOccurrences(of: "PORT", with: String(server.port)))
        let result = try PipelineProcess.run(["run", "reconcile.yaml"], in: scene.scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let provenance = try Self.provenance(scene)
        #expect(provenance["records"] as? Int == 86)
        #expect(provenance["rejected"] as? Int == 0)
        let kept = try #require(provenance["pages"] as? [[String: Any]])
        #expect(kept.count == pages)
        // The feed's SHA-256 is that of its raw pages, page after page, as kept in the run's folder.
        let runFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: scene.scratch.file("var/fetch")).first)
        var raw = Data()
        for page in kept { raw += try Data(contentsOf: URL(fileURLWithPath: scene.scratch.file("var/fetch/\(runFolder)/\(page["file"] as? String ?? "")"))) }
        #expect(provenance["sha256"] as? String == (try raw.withUnsafeBytes { try SHA256.hex(ofBytes: $0) }))
        if shape == "veracore" {
            #expect(provenance["feed_time"] as? String == "2026-12-06T02:00:00.000Z")
            #expect(provenance["feed_time_source"] as? String == "member GeneratedAt")
        }
        let report = try scene.report()
        let different = report.filter { $0[0] == "different" }
        #expect(Set(different.map { $0[1] }) == Set(Self.changed.keys))
        #expect(different.first { $0[1] == "L2201308" }.map { Array($0[3...5]) } == ["100", "107", "7"])
        #expect(report.filter { $0[0] == "feed_only" }.isEmpty)
        #expect(report.filter { $0[0] == "shared_sku" }.map { $0[2] } == ["404.038.96"])
        let summary = try scene.summary()
        let statuses = try #require(summary["statuses"] as? [String: [String: Int]])
        #expect(statuses["equal"]?["skus"] == 80)
        #expect(statuses["different"]?["delta_units"] == 7 - 7 - 98 + 50 + 1)
    }

    /// One record a page: 86 pages, each kept with its digest in feed.json; the stage's output stays
    /// small (the page list is in the file only).
    @Test func aFeedOfManyPagesIsReadWhole() throws {
        let scene = try InventoryScene()
        defer { scene.remove() }
        let server = try Self.serve(scene, pageSize: 1)
        defer { server.stop() }
        try scene.pipeline(fetch: "url: \"http://127.0.0.1:\(server.port)/shipbob/ok\", columns: shipbob, format: json, pagination: { next: link-header }")
        let result = try PipelineProcess.run(["run", "reconcile.yaml"], in: scene.scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect((try Self.provenance(scene)["pages"] as? [Any])?.count == 86)
        let shown = try Self.showLatestRun(scene)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("\"pages\":86"), "\(shown.stdout)")
    }

    @Test(arguments: [("ratelimit", 429), ("flaky", 500), ("slow", 200), ("truncated", 200)])
    func aMisbehavingPeerIsRetriedAndCredentialsNeverShow(mode: String, firstStatus: Int) throws {
        let scene = try InventoryScene()
        defer { scene.remove() }
        let server = try Self.serve(scene, token: "HDR-SECRET-7731")
        defer { server.stop() }
        try scene.pipeline(
            fetch: """
                url: "http://127.0.0.1:\(server.port)/veracore/\(mode)?api_key=URL-SECRET-4410", columns: veracore, format: json, \
                records: $.Items, pagination: { next: "field:NextPage" }, headers_from_env: { Authorization: FEED_TOKEN }, \
                timeout: 1s, retries: 4
                """)
        let environment = ["FEED_TOKEN": "Bearer HDR-SECRET-7731"]
        let result = try PipelineProcess.run(["run", "reconcile.yaml", "--log-format", "json"], in: scene.scratch.path, environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Self.provenance(scene)["records"] as? Int == 86)
        let pageTwo = try Self.serverLog(scene).filter { $0["page"] as? Int == 2 }
        #expect(pageTwo.count == 2, "\(pageTwo)")
        #expect(pageTwo.first?["status"] as? Int == firstStatus)
        #expect(try Self.serverLog(scene).allSatisfy { $0["auth"] as? Bool == true })
        let shown = try Self.showLatestRun(scene)
        #expect(shown.status == 0 && shown.stdout.contains("inventory.fetch"), "\(shown.stderr)")
        try Self.expectNoSecrets(in: scene, outputs: [result.stdout, result.stderr, shown.stdout, shown.stderr])
    }

    @Test func aPeerThatStaysDownOrRefusesTheCredentialsFailsClearly() throws {
        let scene = try InventoryScene()
        defer { scene.remove() }
        let server = try Self.serve(scene, token: "HDR-SECRET-7731")
        defer { server.stop() }
        func run(_ mode: String, token: String?) throws -> PipelineProcess.Result {
            try scene.pipeline(
                fetch: """
                    url: "http://127.0.0.1:\(server.port)/veracore/\(mode)?api_key=URL-SECRET-4410", columns: veracore, format: json, \
                    records: $.Items, pagination: { next: "field:NextPage" }, headers_from_env: { Authorization: FEED_TOKEN }, retries: 1
                    """)
            return try PipelineProcess.run(
                ["run", "reconcile.yaml", "--restart"], in: scene.scratch.path, environment: token.map { ["FEED_TOKEN": $0] } ?? [:])
        }
        let down = try run("down", token: "Bearer HDR-SECRET-7731")
        #expect(down.status == 74, "\(down.stderr)")
        #expect(down.stderr.contains("cannot fetch page 1 of the feed: http://127.0.0.1:\(server.port): HTTP 503 (after 2 tries)"), "\(down.stderr)")
        let refused = try run("ok", token: "Bearer WRONG-TOKEN")
        #expect(refused.status == 78, "\(refused.stderr)")
        #expect(refused.stderr.contains("http://127.0.0.1:\(server.port) answered HTTP 401 for page 1 of the feed"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("WRONG-TOKEN"))
        let unset = try run("ok", token: nil)
        #expect(unset.status == 78, "\(unset.stderr)")
        #expect(unset.stderr.contains("the variable FEED_TOKEN for the header Authorization is not set"), "\(unset.stderr)")
        try Self.expectNoSecrets(in: scene, outputs: [down.stderr, refused.stderr, unset.stderr])
    }

    @Test func badRecordsGoToTheRejectsFileWithTheirPlace() throws {
        let scene = try InventoryScene()
        defer { scene.remove() }
        try scene.scratch.write(
            "feed.json",
            """
            {"data": [
              {"item": {"sku": "L2201308"}, "qty": {"on_hand": 5, "reserved": 1}},
              {"item": {"sku": ""}, "qty": {"on_hand": 5}},
              {"item": {"sku": "L2201508"}, "qty": {"on_hand": -2}},
              {"item": {"sku": "L2201316"}, "qty": {"on_hand": 2.5}},
              {"item": {"sku": "L2201516"}, "qty": {"on_hand": "7", "reserved": 9}},
              {"item": {"sku": "TBL200032"}, "qty": {"available": 4, "reserved": 1}},
              "not an object"
            ]}
            """)
        try scene.pipeline(fetch: "file: feed.json, records: $.data, columns: { sku: item.sku, on_hand: qty.on_hand, available: qty.available, reserved: qty.reserved }")
        let result = try PipelineProcess.run(["run", "reconcile.yaml"], in: scene.scratch.path)
        #expect(result.status == 0, "\(result.stderr)")
        let runFolder = try #require(try FileManager.default.contentsOfDirectory(atPath: scene.scratch.file("var/fetch")).first)
        let rejects = try scene.scratch.read("var/fetch/\(runFolder)/rejects.csv")
        #expect(
            rejects == #"""
                place,field,reason,record
                record 2,item.sku,no SKU,"{""item"":{""sku"":""""},""qty"":{""on_hand"":5}}"
                record 3,qty.on_hand,negative quantity '-2',"{""item"":{""sku"":""L2201508""},""qty"":{""on_hand"":-2}}"
                record 4,qty.on_hand,not a whole number of units: '2.5',"{""item"":{""sku"":""L2201316""},""qty"":{""on_hand"":2.5}}"
                record 5,qty.reserved,reserved 9 is more than on hand 7,"{""item"":{""sku"":""L2201516""},""qty"":{""on_hand"":""7"",""reserved"":9}}"
                record 7,,not an object,"""not an object"""

                """#)
        let records = try scene.scratch.read("var/fetch/\(runFolder)/records.csv")
        #expect(records == "place,sku,location,on_hand,available,reserved\nrecord 1,L2201308,\"\",5,4,1\nrecord 6,TBL200032,\"\",5,4,1\n")
        #expect(result.stderr.contains("5 feed records refused"), "\(result.stderr)")
    }

    /// `pipeline runs show` of the newest run of reconcile.yaml.
    static func showLatestRun(_ scene: InventoryScene) throws -> PipelineProcess.Result {
        let runs = try PipelineProcess.run(["runs", "reconcile.yaml"], in: scene.scratch.path)
        let id = runs.stdout.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init) ?? ""
        return try PipelineProcess.run(["runs", "show", id, "reconcile.yaml"], in: scene.scratch.path)
    }

    /// Neither secret is in any file the runs wrote (logs, records, raw pages, reports, state) nor in
    /// what they printed.
    static func expectNoSecrets(in scene: InventoryScene, outputs: [String]) throws {
        let secrets = ["HDR-SECRET-7731", "URL-SECRET-4410"]
        for output in outputs {
            for secret in secrets { #expect(!output.contains(secret)) }
        }
        let enumerator = FileManager.default.enumerator(atPath: scene.scratch.file("var"))
        while let name = enumerator?.nextObject() as? String {
            let path = scene.scratch.file("var/\(name)")
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            for secret in secrets { #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) in \(name)") }
        }
    }
}
