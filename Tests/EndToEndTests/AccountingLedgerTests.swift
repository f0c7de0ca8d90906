import Foundation
import Pipelines
import Testing

/// The export ledger: an export made again is byte-identical, `since: last` continues exactly where the
/// last one stopped and books nothing twice, a change after an export becomes an adjustment journal in
/// the period it happened, and payouts settle what they paid out.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AccountingLedgerTests {
    static func month(_ month: Int) -> String {
        let days = month == 11 ? 30 : 31
        return "period: { from: 2026-\(month)-01, to: 2026-\(month)-\(days) }"
    }

    @Test(arguments: ProductsTestStore.Backend.allCases)
    func aLateRefundAndACancellationBecomeJournalsOfTheirOwnPeriodAndNovemberStaysAsItWas(backend: ProductsTestStore.Backend) throws {
        let scene = try AccountingScene(backend)
        defer { scene.remove() }
        try scene.loadFixtures()
        let november = AccountingScene.export(Self.month(11), format: "gl-csv", file: "out/{from}.csv", group: "order")
        #expect(try scene.run(november, name: "nov").status == 0)
        let novemberFile = scene.scratch.file("out/2026-11-01.csv")
        let novemberDigest = try SHA256Digest.ofFile(novemberFile)
        let booked = try scene.ledgerRows()

        // The shop's December: order 1004 cancelled on the 3rd, 1001 partly refunded on the 4th.
        var orders = try String(contentsOfFile: "\(ordersFixtures)/shop-orders.jsonl", encoding: .utf8)
        orders = orders.replacingOccurrences(
            of: "{\"code\":\"1004\",", with: "{\"code\":\"1004\",\"cancelled_at\":\"2026-12-03T10:00:00+01:00\",")
        orders = orders.replacingOccurrences(
            of: "\"payment\":{\"gateway\":\"paystack\",\"reference\":\"PSK-1001\"}}",
            with: "\"payment\":{\"gateway\":\"paystack\",\"reference\":\"PSK-1001\"},\"refunds\":[{\"id\":\"R7\",\"at\":\"2026-12-04T12:00:00+03:00\",\"amount\":\"250.00\",\"shipping\":\"250.00\",\"reason\":\"late delivery\"}]}")
        try scene.scratch.write("december.jsonl", orders)
        let reimport = try scene.run(AccountingScene.importOrders("december.jsonl"), name: "reimport", environment: ["SOURCE_DATE_EPOCH": "1796342400"])
        #expect(reimport.status == 0, "\(reimport.stderr)")
        #expect(reimport.stderr.contains("1 updated, 5 unchanged"), "\(reimport.stderr)")

        // November exported again: byte for byte what it was, though the store changed since.
        #expect(try scene.run(november, name: "nov-again").status == 0)
        #expect(try SHA256Digest.ofFile(novemberFile) == novemberDigest)

        let december = try scene.run(AccountingScene.export(Self.month(12), format: "gl-csv", file: "out/{from}.csv", group: "order"), name: "dec")
        #expect(december.status == 0, "\(december.stderr)")
        let rows = try AccountingCheckers.csvRows(scene.scratch.file("out/2026-12-01.csv")).dropFirst()
        let reversal = rows.filter { $0[8] == "1004" }
        #expect(Set(reversal.map { $0[1] }) == ["2026-12-03"], "the cancellation is dated when it happened")
        #expect(reversal.allSatisfy { $0[9] == "1" && $0[10] == "Order 1004 cancelled" })
        #expect(reversal.first { $0[3] == "Income:Sales" }?[4] == "36000.00", "the sale reversed: sales debited")
        #expect(reversal.first { $0[3] == "Assets:Receivable" }?[5] == "38162.50")
        let lateRefund = rows.filter { $0[8] == "1001/R7" }
        #expect(lateRefund.map { [$0[1], $0[3], $0[4], $0[5]] } == [["2026-12-04", "Income:Shipping", "250.00", ""], ["2026-12-04", "Assets:Receivable", "", "250.00"]])
        #expect(rows.contains { $0[8] == "1002/R1" && $0[1] == "2026-12-02" })
        #expect(!rows.contains { $0[9] == "0" && ["1001", "1002", "1004", "1005", "1006"].contains($0[8]) }, "no sale booked twice")
        let after = try scene.ledgerRows()
        #expect(Array(after.filter { row in booked.contains { $0 == row } }) == booked, "November's ledger rows are untouched")
        #expect(after.count == booked.count + 3)

        // In January the late refund is cut to 200.00: December stays as it was; January books the change.
        let decemberDigest = try SHA256Digest.ofFile(scene.scratch.file("out/2026-12-01.csv"))
        try scene.scratch.write("january.jsonl", orders.replacingOccurrences(of: "\"amount\":\"250.00\",\"shipping\":\"250.00\"", with: "\"amount\":\"200.00\",\"shipping\":\"200.00\""))
        let cut = try scene.run(AccountingScene.importOrders("january.jsonl"), name: "cut", environment: ["SOURCE_DATE_EPOCH": "1799143200"])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(try scene.run(AccountingScene.export(Self.month(12), format: "gl-csv", file: "out/{from}.csv", group: "order"), name: "dec-again").status == 0)
        #expect(try SHA256Digest.ofFile(scene.scratch.file("out/2026-12-01.csv")) == decemberDigest)
        let january = try scene.run(
            AccountingScene.export("period: { from: 2027-01-01, to: 2027-01-31 }", format: "gl-csv", file: "out/{from}.csv", group: "order"), name: "jan")
        #expect(january.status == 0, "\(january.stderr)")
        let change = try AccountingCheckers.csvRows(scene.scratch.file("out/2027-01-01.csv")).dropFirst()
        #expect(
            change.map { [$0[1], $0[3], $0[4], $0[5], $0[8], $0[9]] } == [
                ["2027-01-05", "Assets:Receivable", "50.00", "", "1001/R7", "1"], ["2027-01-05", "Income:Shipping", "", "50.00", "1001/R7", "1"],
            ])
    }

    @Test func sinceLastContinuesExactlyAfterTheLastExportAndTakesLateArrivals() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        try scene.loadFixtures()
        func export(until: String) throws -> PipelineProcess.Result {
            try scene.run(
                AccountingScene.export("since: last\n      until: \(until)", format: "ledger", file: "out/{from}_{to}.journal"), name: "since-\(until)")
        }
        #expect(try export(until: "2026-11-03").status == 0)
        let first = try String(contentsOfFile: scene.scratch.file("out/2026-11-03_2026-11-03.journal"), encoding: .utf8)
        #expect(first.contains("2026/11/03 ") && !first.contains("2026/11/04 "))

        // An order of the 2nd arrives late, after the 3rd was exported: the next export takes it, with its date.
        try scene.scratch.write(
            "late.jsonl",
            "{\"code\":\"0999\",\"placed_at\":\"2026-11-02T10:00:00+03:00\",\"currency\":\"KES\",\"lines\":[{\"sku\":\"A\",\"quantity\":1,\"unit_price\":\"500.00\"}],\"total\":\"500.00\"}\n")
        #expect(try scene.run(AccountingScene.importOrders("late.jsonl"), name: "late").status == 0)
        #expect(try export(until: "2026-11-30").status == 0)
        let second = try String(contentsOfFile: scene.scratch.file("out/2026-11-04_2026-11-30.journal"), encoding: .utf8)
        #expect(second.contains("2026/11/02 ") && second.contains("2026/11/05 ") && !second.contains("2026/11/03 "), "\(second)")
        let repeated = try export(until: "2026-11-30")
        #expect(repeated.stderr.contains("already has the export 2026-11-04 … 2026-11-30"), "\(repeated.stderr)")

        let rows = try scene.ledgerRows()
        let keys = rows.map { "\($0[1] ?? "")#\($0[2] ?? "")#\($0[3] ?? "")" }
        #expect(Set(keys).count == keys.count, "no item booked twice")
        #expect(rows.count == 12, "6 sales (1007 rejected, 1003 cancelled, 0999 late), 4 succeeded payments and 2 payouts in November")
        for currency in ["JPY", "KES", "KWD", "NGN"] {
            let both = try ["out/2026-11-03_2026-11-03.journal", "out/2026-11-04_2026-11-30.journal"].map {
                try AccountingCheckers.ledgerBalances(scene.scratch.file($0), currencies: [currency])[currency] ?? [:]
            }
            let merged = both[0].merging(both[1], uniquingKeysWith: +).filter { $0.value != 0 }
            #expect(merged.values.reduce(0, +) == 0, "\(currency) balances")
        }
    }

    @Test func payoutJournalsSettleSalesFeesAndTheNetPaidToTheBank() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        try scene.loadFixtures()
        #expect(try scene.store.rows("SELECT line_position, quantity, amount_minor FROM store_refund_lines") == [["1", "1", "100000"]], "R1 returned the hoodie")
        let result = try scene.run(AccountingScene.export(Self.month(11), format: "ledger", file: "out/payouts.journal", group: "payout"))
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: scene.scratch.file("out/payouts.journal"), encoding: .utf8)
        let transactions = text.components(separatedBy: "\n\n").dropFirst()
        #expect(transactions.count == 2, "\(text)")
        let kes = try #require(transactions.first { $0.contains("paystack payout 3090024") })
        // Orders 1001 (3rd) and 1002 (paid the 4th), their sales, the fees and the net; receivable and clearing net out.
        #expect(kes.hasPrefix("2026/11/05 paystack payout 3090024"))
        for line in ["Assets:Bank  7888.00 KES", "Expenses:Payment-Fees  112.00 KES", "Expenses:Discounts  550.00 KES", "Income:Sales  -7134.49 KES",
            "Income:Shipping  -250.00 KES", "Liabilities:VAT-Kenya  -1165.51 KES"]
        {
            #expect(kes.contains(line), "\(line) in \(kes)")
        }
        #expect(!kes.contains("Receivable") && !kes.contains("Clearing"))
        let ngn = try #require(transactions.first { $0.contains("paystack payout 3090031") })
        #expect(ngn.contains("Assets:Bank  37490.06 NGN") && ngn.contains("Expenses:Payment-Fees  672.44 NGN"))
        #expect(try AccountingCheckers.hledgerBalances(scene.scratch.file("out/payouts.journal")) == (try scene.tieOut("books")))
        #expect(!text.contains("Assets:Receivable  4356 JPY"), "the JPY order is in no payout yet: it waits")
    }
}
