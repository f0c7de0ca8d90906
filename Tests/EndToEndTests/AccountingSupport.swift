import Foundation
import Pipelines
import Testing

let ordersFixtures = PipelineProcess.packageRoot + "/fixtures/orders"

/// A store for the orders and accounting tests, with the pipelines that fill it and export from it.
struct AccountingScene {
    let scratch: Scratch
    let store: ProductsTestStore

    init(_ backend: ProductsTestStore.Backend = .sqlite) throws {
        scratch = try Scratch()
        store = try ProductsTestStore(backend, in: scratch)
    }

    func remove() {
        store.drop()
        scratch.remove()
    }

    static let accounts = """
        accounts:
                sales: Income:Sales
                shipping: Income:Shipping
                tax: { "VAT 16%": "Liabilities:VAT-Kenya", "VAT 7.5%": "Liabilities:VAT-Nigeria", default: "Liabilities:Sales-Tax" }
                discounts: Expenses:Discounts
                refunds: Expenses:Refunds
                receivable: Assets:Receivable
                clearing: { paystack: "Assets:Paystack-Clearing", default: "Assets:Gateway-Clearing" }
                fees: Expenses:Payment-Fees
                bank: Assets:Bank
                rounding: Expenses:Rounding
        """

    /// Runs a pipeline of `stages` (YAML list items) on the scene's store; a fresh state store each time
    /// unless `state` names one to keep.
    @discardableResult
    func run(_ stages: String, name: String = "run", state: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws
        -> PipelineProcess.Result
    {
        try scratch.write(
            "\(name).yaml",
            """
            name: \(name)
            database: "\(store.url)"
            state: sqlite:\(state ?? "state-\(name)")/state.db
            stages:
            \(stages)
            """)
        let result = try PipelineProcess.run(["run", "\(name).yaml"] + arguments, in: scratch.path, environment: environment)
        if state == nil { try? FileManager.default.removeItem(atPath: scratch.file("state-\(name)")) }
        return result
    }

    static func importOrders(_ file: String, format: String = "jsonl", extra: String = "") -> String {
        """
          - id: orders
            uses: orders.import
            with: { file: "\(file)", format: \(format), timezone: Africa/Nairobi, max_rejects: 5\(extra.isEmpty ? "" : ", " + extra) }
        """
    }

    static func importPayments(_ file: String, format: String) -> String {
        """
          - id: payments
            uses: payouts.import
            with: { file: "\(file)", format: \(format) }
        """
    }

    /// The fixture orders and Paystack pages in the store.
    func loadFixtures() throws {
        let result = try run(
            Self.importOrders("\(ordersFixtures)/shop-orders.jsonl") + "\n" + Self.importPayments("\(ordersFixtures)/paystack-pages.jsonl", format: "paystack-json"),
            name: "load")
        #expect(result.status == 0, "\(result.stderr)")
    }

    static func export(id: String = "books", _ window: String, format: String, file: String, group: String = "day", extra: String = "") -> String {
        """
          - id: \(id)
            uses: accounting.export
            with:
              \(window)
              group: \(group)
              timezone: Africa/Nairobi
              format: \(format)
              file: \(file)
              \(accounts)
        \(extra.isEmpty ? "" : "      " + extra + "\n")
        """
    }

    func ledgerRows() throws -> [[String?]] {
        try store.rows("SELECT book, source_kind, source_id, revision, journal, posted_on, entry FROM store_export_items ORDER BY book, source_kind, source_id, revision")
    }

    /// The tie-out CSV of stage `id`, as currency → account → journals' net in minor units.
    func tieOut(_ id: String) throws -> [String: [String: Int64]] {
        let folder = scratch.file("var/\(id)")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasPrefix("tie-out-") })
        var result: [String: [String: Int64]] = [:]
        for line in try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(fields[6].allSatisfy { $0 == "0" || $0 == "." }, "tie-out difference: \(line)")
            let net = Self.minorUnits(fields[4])
            if net != 0 { result[fields[0], default: [:]][fields[1]] = net }
        }
        return result
    }

    /// Decimal text (as ledger, hledger and our files print it) in minor units of `exponent`.
    static func minorUnits(_ text: String, exponent: Int? = nil) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let negative = trimmed.hasPrefix("-")
        let digits = negative ? String(trimmed.dropFirst()) : trimmed
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let scale = exponent ?? fraction.count
        let padded = fraction + String(repeating: "0", count: max(0, scale - fraction.count))
        let value = (Int64(parts[0]) ?? 0) * Int64(pow(10, Double(scale))) + (Int64(padded.isEmpty ? "0" : padded) ?? 0)
        return negative ? -value : value
    }

    static let exponents = ["KES": 2, "NGN": 2, "JPY": 0, "KWD": 3, "USD": 2]
}

/// The real checkers of the accounting formats, run on our files.
enum AccountingCheckers {
    static func beanCheck(_ path: String) throws -> PipelineProcess.Result {
        let python = ProcessInfo.processInfo.environment["PIPELINE_TEST_PYTHON"] ?? "python3"
        let beanCheck = (python as NSString).deletingLastPathComponent + "/bean-check"
        return try ExternalTool.run([FileManager.default.isExecutableFile(atPath: beanCheck) ? beanCheck : "bean-check", path])
    }

    /// `ledger --pedantic bal`'s balances: currency → account → minor units.
    static func ledgerBalances(_ path: String, currencies: [String]) throws -> [String: [String: Int64]] {
        var balances: [String: [String: Int64]] = [:]
        for currency in currencies {
            let result = try ExternalTool.run([
                "ledger", "-f", path, "--pedantic", "bal", "--flat", "--no-total", "--balance-format", "%(account)|%(quantity(scrub(display_total)))\n",
                "-l", "commodity==\"\(currency)\"",
            ])
            #expect(result.status == 0, "ledger: \(result.stderr)")
            for line in result.stdout.split(separator: "\n") {
                let parts = line.split(separator: "|").map(String.init)
                guard parts.count == 2 else { continue }
                let units = AccountingScene.minorUnits(parts[1], exponent: AccountingScene.exponents[currency])
                if units != 0 { balances[currency, default: [:]][parts[0]] = units }
            }
        }
        return balances
    }

    /// `hledger check -s` passes, and `hledger bal`'s balances: currency → account → minor units.
    static func hledgerBalances(_ path: String) throws -> [String: [String: Int64]] {
        let check = try ExternalTool.run(["hledger", "-f", path, "check", "-s"])
        #expect(check.status == 0, "hledger check: \(check.stderr)")
        let result = try ExternalTool.run(["hledger", "-f", path, "bal", "--flat", "--no-total", "-O", "csv"])
        #expect(result.status == 0, "hledger: \(result.stderr)")
        var balances: [String: [String: Int64]] = [:]
        for line in result.stdout.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\",\"").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            guard fields.count == 2 else { continue }
            for amount in fields[1].split(separator: ",") {
                let parts = amount.split(separator: " ").map(String.init)
                guard parts.count == 2 else { continue }
                let units = AccountingScene.minorUnits(parts[0], exponent: AccountingScene.exponents[parts[1]])
                if units != 0 { balances[parts[1], default: [:]][fields[0]] = units }
            }
        }
        return balances
    }

    /// CSV rows of a file (fields unquoted; our files quote only where needed).
    static func csvRows(_ path: String) throws -> [[String]] {
        let reader = try CSVReader(path: path)
        let record = RecordBuffer()
        var rows: [[String]] = []
        while try reader.next(into: record) != nil { rows.append((0..<record.count).map { record.string($0) ?? "" }) }
        return rows
    }
}
