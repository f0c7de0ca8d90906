import Foundation
import Pipelines
import Testing

/// orders.import and payouts.import through the built binary: Shopify's orders export read by column
/// name, orders that do not add up rejected with line, column and reason, upserts that change nothing
/// the second time, and Stripe's balance export with its payout.
@Suite(.serialized, .timeLimit(.minutes(5))) struct OrdersImportTests {
    /// Shopify's header, in the order its export writes it (../shared/reference/shopify/README.md).
    static let shopifyHeader = """
        Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,\
        Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,\
        Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,\
        Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,\
        Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,\
        Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,\
        Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,\
        Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,\
        Payment Terms Name,Next Payment Due At,Payment References
        """

    /// A Shopify row: the named columns set, the rest empty.
    static func shopifyRow(_ values: [String: String]) -> String {
        shopifyHeader.split(separator: ",").map { name in
            let value = values[String(name)] ?? ""
            return value.contains(",") ? "\"\(value)\"" : value
        }.joined(separator: ",")
    }

    static func shopifyFile(refunded: String = "") -> String {
        let first: [String: String] = [
            "Name": "#1001", "Email": "ann@example.com", "Financial Status": "paid", "Paid at": "2026-11-02 10:33:00 -0500", "Currency": "USD",
            "Subtotal": "55.00", "Shipping": "5.00", "Taxes": "4.40", "Total": "64.40", "Discount Code": "FALL5", "Discount Amount": "5.00",
            "Created at": "2026-11-02 10:32:11 -0500", "Lineitem quantity": "2", "Lineitem name": "Mug", "Lineitem price": "20.00",
            "Lineitem sku": "MUG-1", "Billing Name": "Ann Lee", "Payment Method": "Shopify Payments", "Payment Reference": "c123.1",
            "Refunded Amount": refunded, "Tax 1 Name": "State Tax 8%", "Tax 1 Value": "4.40",
        ]
        let second: [String: String] = [
            "Name": "#1001", "Lineitem quantity": "1", "Lineitem name": "Tee, blue", "Lineitem price": "20.00", "Lineitem sku": "TEE-1",
        ]
        let free: [String: String] = [
            "Name": "#1002", "Email": "bo@example.com", "Financial Status": "paid", "Currency": "USD", "Subtotal": "10.00", "Shipping": "0.00",
            "Taxes": "0.00", "Total": "10.00", "Created at": "2026-11-03 08:00:00 -0500", "Lineitem quantity": "1", "Lineitem name": "Sticker",
            "Lineitem price": "10.00", "Lineitem sku": "STK-1",
        ]
        let badCurrency: [String: String] = [
            "Name": "#1003", "Currency": "XYZ", "Total": "1.00", "Created at": "2026-11-03 09:00:00 -0500", "Lineitem quantity": "1",
            "Lineitem price": "1.00",
        ]
        let wrongTotal: [String: String] = [
            "Name": "#1004", "Currency": "USD", "Subtotal": "10.00", "Shipping": "0", "Taxes": "0", "Total": "12.00",
            "Created at": "2026-11-03 10:00:00 -0500", "Lineitem quantity": "1", "Lineitem price": "10.00",
        ]
        return ([shopifyHeader.replacingOccurrences(of: "\n", with: "")] + [first, second, free, badCurrency, wrongTotal].map(shopifyRow)).joined(separator: "\n") + "\n"
    }

    @Test(arguments: ProductsTestStore.Backend.allCases)
    func shopifysExportIsReadByColumnNameAndBadOrdersAreRejectedWithTheirPlace(backend: ProductsTestStore.Backend) throws {
        let scene = try AccountingScene(backend)
        defer { scene.remove() }
        try scene.scratch.write("orders.csv", Self.shopifyFile())
        let stage = AccountingScene.importOrders("orders.csv", format: "shopify-csv", extra: "rejects: rejects.csv")
        let first = try scene.run(stage)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("4 orders read, 2 created"), "\(first.stderr)")
        let rejects = try scene.scratch.read("rejects.csv")
        #expect(rejects.contains("5,8,'Currency': unknown currency 'XYZ'"), "\(rejects)")
        #expect(rejects.contains("6,12,\"order #1004: the total 12.00 USD is not lines 10.00"), "\(rejects)")
        let order = try scene.store.rows(
            "SELECT code, currency, customer, \(backend == .postgres ? "to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" : "placed_at"), lines_minor, discount_minor, shipping_minor, tax_minor, total_minor, taxes_included FROM store_orders ORDER BY code")
        #expect(order[0] == ["#1001", "USD", "Ann Lee", "2026-11-02T15:32:11Z", "6000", "500", "500", "440", "6440", "0"])
        #expect(order[1][0] == "#1002" && order[1][8] == "1000")
        #expect(try scene.store.rows("SELECT sku, quantity, unit_price_minor FROM store_order_lines ORDER BY order_id, position").map { $0.compactMap { $0 } }
            == [["MUG-1", "2", "2000"], ["TEE-1", "1", "2000"], ["STK-1", "1", "1000"]])
        #expect(try scene.store.rows("SELECT name, rate, amount_minor FROM store_order_taxes") == [["State Tax 8%", "8", "440"]])

        // The same file again changes nothing; the refund Shopify reports later is added, and changed once it grows.
        let again = try scene.run(stage)
        #expect(again.stderr.contains("0 created, 0 updated, 2 unchanged, 0 refunds"), "\(again.stderr)")
        try scene.scratch.write("orders.csv", Self.shopifyFile(refunded: "20.00"))
        #expect(try scene.run(stage).stderr.contains("2 unchanged, 1 refunds added or changed"))
        try scene.scratch.write("orders.csv", Self.shopifyFile(refunded: "30.00"))
        #expect(try scene.run(stage).status == 0)
        #expect(try scene.store.rows("SELECT refund_key, amount_minor FROM store_refunds") == [["refunded", "3000"]])
    }

    @Test func aFileWithMoreBadOrdersThanAllowedWritesNothing() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        try scene.scratch.write("orders.csv", Self.shopifyFile())
        let result = try scene.run(
            """
              - id: orders
                uses: orders.import
                with: { file: orders.csv, format: shopify-csv, rejects: rejects.csv }
            """)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("2 rejected rows, more than max_rejects 0"), "\(result.stderr)")
        #expect(try scene.store.count("store_orders") == 0)
    }

    @Test func anOrderCodeTwiceInOneFileIsRejectedNamingTheFirstLine() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        let line = "{\"code\":\"A1\",\"placed_at\":\"2026-11-02T10:00:00Z\",\"currency\":\"USD\",\"lines\":[{\"sku\":\"X\",\"quantity\":1,\"unit_price\":\"1.00\"}],\"total\":\"1.00\"}\n"
        let refundLines = line.replacingOccurrences(of: "\"A1\"", with: "\"A2\"").replacingOccurrences(
            of: "\"total\":\"1.00\"}", with: "\"total\":\"1.00\",\"refunds\":[{\"id\":\"r\",\"at\":\"2026-11-03T10:00:00Z\",\"amount\":\"1.00\",\"lines\":[{\"line\":1,\"quantity\":1,\"amount\":\"0.50\"}]}]}")
        try scene.scratch.write("orders.jsonl", line + "\n" + line + "{\"code\": [nested\n" + refundLines)
        let result = try scene.run(AccountingScene.importOrders("orders.jsonl", extra: "rejects: rejects.csv"))
        #expect(result.status == 0, "\(result.stderr)")
        let rejects = try scene.scratch.read("rejects.csv")
        #expect(rejects.contains("3,1,\"order A1 is also at line 1: one code, one order\""), "\(rejects)")
        #expect(rejects.contains("4,1,not JSON"), "\(rejects)")
        #expect(rejects.contains("5,1,\"refunds[0]: its lines come to 0.50, its goods (amount − shipping − tax) to 1.00\""), "\(rejects)")
        #expect(try scene.store.count("store_orders") == 1)
    }

    @Test func stripesBalanceExportBooksChargesRefundsFeesAndItsPayout() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        try scene.scratch.write(
            "orders.jsonl",
            """
            {"code":"S1","placed_at":"2026-11-01T14:00:00Z","currency":"USD","lines":[{"sku":"A","quantity":1,"unit_price":"120.00"}],"total":"120.00","payment":{"gateway":"stripe","reference":"ch_1"},"refunds":[{"id":"re_1","at":"2026-11-02T14:03:00Z","amount":"20.00"}]}

            """)
        try scene.scratch.write(
            "balance.csv",
            """
            id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),Description,Transfer
            txn_1,charge,ch_1,120.00,3.78,116.22,usd,2026-11-01 14:03,2026-11-03 00:00,Course sale,po_1
            txn_2,refund,ch_1,-20.00,0.00,-20.00,usd,2026-11-02 14:03,2026-11-04 00:00,Refund,po_1
            txn_3,payout,po_1,-96.22,0.00,-96.22,usd,2026-11-05 14:03,2026-11-05 00:00,STRIPE PAYOUT,
            txn_4,charge,ch_9,10.00,0.59,9.41,usd,2026-11-06 10:00,2026-11-08 00:00,Unknown order,

            """)
        let load = try scene.run(AccountingScene.importOrders("orders.jsonl") + "\n" + AccountingScene.importPayments("balance.csv", format: "stripe-balance-csv"))
        #expect(load.status == 0, "\(load.stderr)")
        #expect(try scene.store.rows("SELECT external_id, gross_minor, fees_minor, net_minor FROM store_payouts") == [["po_1", "10000", "378", "9622"]])
        #expect(try scene.scratch.read("var/payments/unmatched.csv").contains("stripe,txn_4,payment,ch_9,10.00,USD,2026-11-06T10:00:00Z"))
        let export = try scene.run(
            AccountingScene.export("period: { from: 2026-11-01, to: 2026-11-30 }", format: "ledger", file: "out/stripe.journal", group: "payout"))
        #expect(export.status == 0, "\(export.stderr)")
        let balances = try AccountingCheckers.hledgerBalances(scene.scratch.file("out/stripe.journal"))["USD"] ?? [:]
        #expect(
            balances == [
                "Assets:Bank": 9_622, "Expenses:Payment-Fees": 378, "Expenses:Refunds": 2_000, "Income:Sales": -12_000,
            ], "\(balances)")
    }
    @Test func aBrokenPaystackResponseOrASettlementThatDoesNotAddUpIsRejectedAndTheRestIsRead() throws {
        let scene = try AccountingScene()
        defer { scene.remove() }
        let pages = try String(contentsOfFile: "\(ordersFixtures)/paystack-pages.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
        let deducted = pages[3].replacingOccurrences(of: "\"effective_amount\":788800", with: "\"effective_amount\":780000")
            .replacingOccurrences(of: "\"deductions\":null,\"settlement_date\":\"2026-11-05T00:00:00.000Z\",\"settled_by\":null,\"createdAt\":\"2026-11-05T01:04:08.000Z\",\"updatedAt\":\"2026-11-05T08:12:01.000Z\"},{\"id\":3090031", with: "\"deductions\":8800,\"settlement_date\":\"2026-11-05T00:00:00.000Z\",\"settled_by\":null,\"createdAt\":\"2026-11-05T01:04:08.000Z\",\"updatedAt\":\"2026-11-05T08:12:01.000Z\"},{\"id\":3090031")
        try scene.scratch.write("paystack.jsonl", [pages[0], "{\"status\":true,\"data\":[", pages[1], pages[2], deducted].joined(separator: "\n") + "\n")
        let result = try scene.run(
            """
              - id: payments
                uses: payouts.import
                with: { file: paystack.jsonl, format: paystack-json, max_rejects: 2, rejects: rejects.csv }
            """)
        #expect(result.status == 0, "\(result.stderr)")
        let rejects = try scene.scratch.read("rejects.csv")
        #expect(rejects.contains("2,1,line 2: not a JSON response"), "\(rejects)")
        #expect(rejects.contains("5,1,\"line 5, page 4, record 1: total_processed 800000 − total_fees 11200 is not effective_amount 780000 (deductions: 8800)"), "\(rejects)")
        #expect(try scene.store.rows("SELECT external_id FROM store_payouts") == [["3090031"]])
        #expect(try scene.store.count("store_payments") == 5)
    }
}
