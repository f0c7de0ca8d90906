import Foundation
import Pipelines
import Testing

/// kill -9 anywhere in an orders import or an accounting export, run again: the store holds what an
/// uninterrupted import gives, and the export's file and ledger are byte for byte those of an
/// uninterrupted export.
@Suite(.serialized, .timeLimit(.minutes(6))) struct AccountingResumeTests {
    /// Orders over November in three currencies, some with refunds, some cancelled, a few that do not add up.
    static func orders(_ count: Int) -> String {
        var text = ""
        let currencies = [("KES", "1500.00", "250.00"), ("JPY", "1980", "300"), ("KWD", "7.250", "1.500")]
        for index in 0..<count {
            let (currency, price, shipping) = currencies[index % 3]
            let day = index % 30 + 1
            let hour = index % 24
            let quantity = index % 4 + 1
            let unit = AccountingScene.minorUnits(price)
            let total = unit * Int64(quantity) + AccountingScene.minorUnits(shipping) + (index % 997 == 0 ? 7 : 0)
            let exponent = AccountingScene.exponents[currency] ?? 2
            let totalText = Money(minorUnits: total, currency: CurrencyCode(code: currency, exponent: exponent)).decimalText
            let refund = index % 50 == 0 ? ",\"refunds\":[{\"id\":\"r\",\"at\":\"2026-11-\(String(format: "%02d", min(day + 1, 30)))T12:00:00Z\",\"amount\":\"\(shipping)\",\"shipping\":\"\(shipping)\"}]" : ""
            let cancelled = index % 40 == 0 ? ",\"cancelled_at\":\"2026-11-\(String(format: "%02d", day))T23:00:00Z\"" : ""
            text += "{\"code\":\"N\(index)\",\"placed_at\":\"2026-11-\(String(format: "%02d", day))T\(String(format: "%02d", hour)):15:00Z\""
                + "\(cancelled),\"currency\":\"\(currency)\",\"customer\":\"Customer \(index % 101)\",\"lines\":[{\"sku\":\"SKU-\(index % 13)\",\"quantity\":\(quantity),\"unit_price\":\"\(price)\"}],"
                + "\"shipping\":\"\(shipping)\",\"total\":\"\(totalText)\"\(refund)}\n"
        }
        return text
    }

    static let importStage = """
          - id: orders
            uses: orders.import
            chunk_size: 400
            with: { file: orders.jsonl, timezone: Africa/Nairobi, max_rejects: 1000, rejects: rejects.csv }
        """

    static func storeDump(_ locator: DatabaseLocator) throws -> [[String?]] {
        try Inspect.rows(
            locator,
            """
            SELECT o.code, o.state, o.total_minor, o.discount_minor, o.content_sha256, COUNT(l.position), COALESCE(SUM(l.quantity * l.unit_price_minor), 0),
                (SELECT COUNT(*) FROM store_refunds r WHERE r.order_id = o.id)
            FROM store_orders o LEFT JOIN store_order_lines l ON l.order_id = o.id GROUP BY o.id ORDER BY o.code
            """)
    }

    @Test func aKilledOrdersImportResumesToTheStoreOfAnUninterruptedOne() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("orders.jsonl", Self.orders(8_000))
        try scratch.write("import.yaml", "name: import\ndatabase: sqlite:store.db\nstate: sqlite:var/state.db\nstages:\n" + Self.importStage)
        let runner = KillAndResume(arguments: ["run", "import.yaml"], directory: scratch.path)
        func reset() throws {
            for name in ["store.db", "store.db-wal", "store.db-shm", "var", "rejects.csv"] { try? FileManager.default.removeItem(atPath: scratch.file(name)) }
        }
        try reset()
        let (clean, duration) = try runner.timedRun()
        #expect(clean.status == 0, "\(clean.stderr)")
        let expected = try Self.storeDump(.sqlite(path: scratch.file("store.db")))
        #expect(expected.count == 8_000 - 9, "9 orders over the tolerance are rejected")
        let expectedRejects = try scratch.read("rejects.csv")
        try runner.killAtRandomPoints(5, seed: 18, duration: duration, reset: reset) { kill in
            let dump = try Self.storeDump(.sqlite(path: scratch.file("store.db")))
            let rejects = try scratch.read("rejects.csv")
            #expect(dump == expected, "kill \(kill)")
            #expect(rejects == expectedRejects, "kill \(kill)")
        }
    }

    @Test(arguments: ProductsTestStore.Backend.allCases)
    func aKilledExportResumesToTheSameFileAndTheSameLedger(backend: ProductsTestStore.Backend) throws {
        let scene = try AccountingScene(backend)
        defer { scene.remove() }
        try scene.scratch.write("orders.jsonl", Self.orders(backend == .sqlite ? 8_000 : 3_000))
        let load = try scene.run(Self.importStage, name: "load")
        #expect(load.status == 0, "\(load.stderr)")
        let stages =
            AccountingScene.export(id: "gl", "period: { from: 2026-11-01, to: 2026-11-30 }", format: "gl-csv", file: "out/gl.csv", group: "order")
            + "\n" + AccountingScene.export(id: "days", "since: last\n      until: 2026-11-30", format: "beancount", file: "out/days.beancount")
        try scene.scratch.write(
            "export.yaml", "name: export\ndatabase: \"\(scene.store.url)\"\nstate: sqlite:var/state.db\nstages:\n" + stages)
        func reset() throws {
            for name in ["out", "var"] { try? FileManager.default.removeItem(atPath: scene.scratch.file(name)) }
            let connection = try scene.store.locator.connect(logger: Logger(handler: SilentLogHandler()))
            defer { connection.close() }
            try connection.executeScript("DELETE FROM store_export_items; DELETE FROM store_exports")
        }
        let runner = KillAndResume(arguments: ["run", "export.yaml"], directory: scene.scratch.path)
        try reset()
        let (clean, duration) = try runner.timedRun()
        #expect(clean.status == 0, "\(clean.stderr)")
        let files = ["out/gl.csv", "out/days.beancount"].map(scene.scratch.file)
        let digests = try files.map(SHA256Digest.ofFile)
        #expect(try AccountingCheckers.beanCheck(files[1]).status == 0)
        let ledger = try scene.ledgerRows()
        try runner.killAtRandomPoints(backend == .sqlite ? 5 : 3, seed: 1800, duration: duration, reset: reset) { kill in
            let written = try files.map(SHA256Digest.ofFile)
            let rows = try scene.ledgerRows()
            #expect(written == digests, "kill \(kill)")
            #expect(rows == ledger, "kill \(kill)")
        }
    }
}
