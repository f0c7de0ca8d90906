import Foundation
import Pipelines
import Testing

/// accounting.export through the built binary: every format checked by its own reader (bean-check,
/// ledger --pedantic, hledger check -s) or by its importer's documented rules, with the balances those
/// readers print equal to the tie-out account by account; the example pipeline as the README runs it.
@Suite(.serialized, .timeLimit(.minutes(5))) struct AccountingExportTests {
    static let november = "period: { from: 2026-11-01, to: 2026-11-30 }"

    @Test(arguments: ProductsTestStore.Backend.allCases)
    func ledgerAndBeancountFilesPassTheirCheckersAndTheirBalancesEqualTheTieOut(backend: ProductsTestStore.Backend) throws {
        let scene = try AccountingScene(backend)
        defer { scene.remove() }
        try scene.loadFixtures()
        for group in ["order", "day"] {
            let stages =
                AccountingScene.export(id: "ledger-\(group)", Self.november, format: "ledger", file: "out/\(group).journal", group: group) + "\n"
                + AccountingScene.export(id: "bean-\(group)", Self.november, format: "beancount", file: "out/\(group).beancount", group: group)
            let result = try scene.run(stages, name: "export-\(group)")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("all 23 accounts tie to their sources"), "\(result.stderr)")

            let bean = try AccountingCheckers.beanCheck(scene.scratch.file("out/\(group).beancount"))
            #expect(bean.status == 0, "bean-check: \(bean.stdout)\(bean.stderr)")
            let tieOut = try scene.tieOut("ledger-\(group)")
            #expect(try scene.tieOut("bean-\(group)") == tieOut)
            let journal = scene.scratch.file("out/\(group).journal")
            #expect(try AccountingCheckers.ledgerBalances(journal, currencies: ["JPY", "KES", "KWD", "NGN"]) == tieOut)
            #expect(try AccountingCheckers.hledgerBalances(journal) == tieOut)

            // The figures a bookkeeper would check by hand.
            #expect(tieOut["KWD"]?["Expenses:Rounding"] == -1, "order 1006 is 0.001 KWD over its parts")
            #expect(tieOut["JPY"]?["Assets:Receivable"] == 4_356)
            #expect(tieOut["KES"]?["Assets:Bank"] == 788_800, "Paystack settled two days' payments net of 112.00 KES fees")
            #expect(tieOut["KES"]?["Expenses:Payment-Fees"] == 11_200)
            #expect(tieOut["KES"]?["Income:Sales"] == -713_449, "tax-inclusive lines net of VAT")
            #expect(tieOut["KES"]?["Expenses:Refunds"] == nil, "the December refund is not November's")
            #expect(tieOut["NGN"]?["Liabilities:VAT-Nigeria"] == -266_250)
        }
        let journals = try String(contentsOfFile: scene.scratch.file("out/day.journal"), encoding: .utf8)
        // 23:30 in Nairobi on the 3rd is the 3rd's sale, though it is the 3rd 20:30 UTC and the 4th in Tokyo.
        #expect(journals.contains("2026/11/03 Sales, refunds and payments 2026-11-03 (KES)"))
        #expect(!journals.contains("Order 1003"), "a cancelled order never exported books nothing")
    }

    @Test func quickBooksIIFXeroAndGLFilesFollowTheirImportersRules() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        try scene.loadFixtures()
        // IIF and Xero journals carry no currency: those exports take one (KES) each.
        let stages = [("qbo", "qbo-csv", "out/qbo.csv", ""), ("iif", "iif", "out/qbo.iif", "currency: KES"), ("xero", "xero-csv", "out/xero.csv", "currency: KES"),
            ("gl", "gl-csv", "out/gl.csv", "")]
            .map { AccountingScene.export(id: $0.0, Self.november, format: $0.1, file: $0.2, group: "order", extra: $0.3) }.joined(separator: "\n")
        let result = try scene.run(stages, name: "formats")
        #expect(result.status == 0, "\(result.stderr)")
        let tieOut = try scene.tieOut("qbo")

        // QuickBooks Online: Journal No ≤ 21, MM/DD/YYYY, Debits/Credits never negative nor both, Name on A/R lines, each entry balanced.
        let qbo = try AccountingCheckers.csvRows(scene.scratch.file("out/qbo.csv"))
        #expect(qbo.first == ["Journal No", "Journal Date", "Currency", "Account", "Debits", "Credits", "Description", "Name"])
        var qboSums: [String: Int64] = [:]
        var qboBalances: [String: [String: Int64]] = [:]
        for row in qbo.dropFirst() {
            #expect(row[0].count <= 21 && !row[0].isEmpty)
            #expect(row[1].range(of: #"^\d{2}/\d{2}/\d{4}$"#, options: .regularExpression) != nil, "\(row)")
            #expect(row[4].isEmpty != row[5].isEmpty, "one of Debits and Credits: \(row)")
            #expect(!row[4].hasPrefix("-") && !row[5].hasPrefix("-"))
            #expect((row[3] == "Assets:Receivable") == !row[7].isEmpty, "Name on receivable lines only: \(row)")
            let amount = AccountingScene.minorUnits(row[4].isEmpty ? "-" + row[5] : row[4])
            qboSums[row[0], default: 0] += amount
            qboBalances[row[2], default: [:]][row[3], default: 0] += amount
        }
        #expect(qboSums.values.allSatisfy { $0 == 0 }, "\(qboSums)")
        #expect(qboBalances.mapValues { $0.filter { $0.value != 0 } } == tieOut)

        // IIF: tab-separated, the three header lines, TRNS then SPLs then ENDTRNS, signed amounts summing to zero.
        let iif = try String(contentsOfFile: scene.scratch.file("out/qbo.iif"), encoding: .utf8)
        let lines = iif.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines[0].hasPrefix("!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT") && lines[1].hasPrefix("!SPL\t") && lines[2] == "!ENDTRNS")
        var open: Int64?
        var transactions = 0
        for line in lines.dropFirst(3) {
            let fields = line.components(separatedBy: "\t")
            switch fields[0] {
            case "TRNS":
                #expect(open == nil)
                open = AccountingScene.minorUnits(fields[6])
                #expect(fields[2] == "GENERAL JOURNAL")
            case "SPL": open = (open ?? 0) + AccountingScene.minorUnits(fields[6])
            case "ENDTRNS":
                #expect(open == 0, "a transaction that does not sum to zero")
                open = nil
                transactions += 1
            default: Issue.record("unexpected IIF line \(line)")
            }
        }
        #expect(transactions == Set(qbo.dropFirst().filter { $0[2] == "KES" }.map { $0[0] }).count)

        // Xero: numbered files of at most 300 lines, signed amounts, each journal (narration) balanced.
        let xero = try AccountingCheckers.csvRows(scene.scratch.file("out/xero-001.csv"))
        #expect(xero.first == ["*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount"])
        #expect(xero.count - 1 <= 300)
        var xeroSums: [String: Int64] = [:]
        for row in xero.dropFirst() {
            #expect(row[1].range(of: #"^\d{2}/\d{2}/\d{4}$"#, options: .regularExpression) != nil)
            #expect(row[4] == "Tax Exempt")
            xeroSums[row[0], default: 0] += AccountingScene.minorUnits(row[5])
        }
        #expect(xeroSums.count == transactions && xeroSums.values.allSatisfy { $0 == 0 })

        // GL: one row per posting of each source item, each naming its source, journals summing to zero.
        let gl = try AccountingCheckers.csvRows(scene.scratch.file("out/gl.csv"))
        #expect(gl.first?.prefix(8) == ["journal", "date", "currency", "account", "debit", "credit", "source_kind", "source_id"])
        #expect(Set(gl.dropFirst().map { $0[6] }) == ["order", "payment", "payout"])
        #expect(gl.dropFirst().contains { $0[6] == "order" && $0[8] == "1002" })
    }

    @Test func xeroSplitsIntoNumberedFilesOfAtMost300LinesWithoutSplittingAJournal() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        var orders = ""
        for index in 1...130 {
            orders +=
                "{\"code\":\"X\(index)\",\"placed_at\":\"2026-11-0\(index % 9 + 1)T10:00:00+03:00\",\"currency\":\"KES\",\"lines\":[{\"sku\":\"A\",\"quantity\":1,\"unit_price\":\"100.00\"}],\"shipping\":\"10.00\",\"total\":\"110.00\"}\n"
        }
        try scene.scratch.write("orders.jsonl", orders)
        let result = try scene.run(
            AccountingScene.importOrders("orders.jsonl") + "\n" + AccountingScene.export(Self.november, format: "xero-csv", file: "out/xero.csv", group: "order"))
        #expect(result.status == 0, "\(result.stderr)")
        var narrations: [String: Int] = [:]
        var files = 0
        for number in 1...9 {
            let path = scene.scratch.file(String(format: "out/xero-%03d.csv", number))
            guard FileManager.default.fileExists(atPath: path) else { break }
            files += 1
            let rows = try AccountingCheckers.csvRows(path).dropFirst()
            #expect(rows.count <= 300)
            for narration in Set(rows.map { $0[0] }) { narrations[narration, default: 0] += 1 }
        }
        #expect(files == 2, "390 lines of three-line journals: 300 + 90")
        #expect(narrations.count == 130 && narrations.values.allSatisfy { $0 == 1 }, "a journal is in one file only")
    }

    @Test func theExamplePipelineRunsAsTheReadmeSaysAndAgainByteForByte() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try FileManager.default.createDirectory(atPath: scratch.file("fixtures"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ordersFixtures, toPath: scratch.file("fixtures/orders"))
        try FileManager.default.createDirectory(atPath: scratch.file("pipelines"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: PipelineProcess.packageRoot + "/pipelines/shop-accounting.yaml", toPath: scratch.file("pipelines/shop-accounting.yaml"))
        let environment = ["SOURCE_DATE_EPOCH": "1796083200"]  // 2026-12-01T00:00:00Z: the export runs to 2026-11-30.
        let first = try PipelineProcess.run(["run", "shop-accounting.yaml"], in: scratch.file("pipelines"), environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        let rejects = try scratch.read("pipelines/var/shop-orders.rejects.csv")
        #expect(rejects.contains("7,1,\"order 1007: the total 1950.00 KES is not lines 1500.00"), "\(rejects)")
        let books = scratch.file("pipelines/out/accounting/books-2026-11-30.beancount")
        let quickbooks = scratch.file("pipelines/out/accounting/quickbooks-2026-11-30.csv")
        #expect(try AccountingCheckers.beanCheck(books).status == 0)
        let digests = try [books, quickbooks].map(SHA256Digest.ofFile)
        let again = try PipelineProcess.run(["run", "shop-accounting.yaml", "--rerun"], in: scratch.file("pipelines"), environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("already has the export 2026-11-03 … 2026-11-30"), "\(again.stderr)")
        #expect(try [books, quickbooks].map(SHA256Digest.ofFile) == digests, "the same export again is byte-identical")

        // A day later the export continues after November: the December refund, and nothing twice.
        let later = try PipelineProcess.run(
            ["run", "shop-accounting.yaml", "--rerun"], in: scratch.file("pipelines"), environment: ["SOURCE_DATE_EPOCH": "1796601600"])
        #expect(later.status == 0, "\(later.stderr)")
        let december = try scratch.read("pipelines/out/accounting/books-2026-12-06.beancount")
        #expect(december.contains("2026-12-02 * \"Online sales\""), "\(december)")
        #expect(!december.contains("2026-11-"), "nothing of November again")
        #expect(try AccountingCheckers.beanCheck(scratch.file("pipelines/out/accounting/books-2026-12-06.beancount")).status == 0)
    }

    @Test func badSettingsAreRefusedBeforeAnythingIsWritten() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        let both = try scene.run(
            AccountingScene.export("period: { from: 2026-11-01, to: 2026-11-30 }\n      since: last", format: "ledger", file: "out/x.journal"))
        #expect(both.status == 78 && both.stderr.contains("give either period"), "\(both.stderr)")
        let badAccount = try scene.run(
            AccountingScene.export(Self.november, format: "beancount", file: "out/x.beancount").replacingOccurrences(of: "Income:Sales", with: "Revenue:Sales"))
        #expect(badAccount.status == 78 && badAccount.stderr.contains("'Revenue:Sales' is not a beancount account"), "\(badAccount.stderr)")
        try scene.loadFixtures()
        let mixed = try scene.run(AccountingScene.export(Self.november, format: "xero-csv", file: "out/x.csv"), name: "mixed")
        #expect(mixed.status == 65 && mixed.stderr.contains("the export holds JPY, KES, KWD, NGN"), "\(mixed.stderr)")
        #expect(try scene.store.count("store_exports") == 0, "a refused export books nothing")
        let missing = try scene.run(AccountingScene.importOrders("nowhere.jsonl"))
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(!scene.scratch.exists("out"))
    }
}
