import Foundation
import Testing

@testable import Pipelines
@testable import Stages

/// The parts of the inventory stages that decide on their own: quantities, derivations, SKU keys,
/// pagination links, JSON record paths and the report's percentages.
@Suite(.timeLimit(.minutes(1))) struct InventoryPartsTests {
    static let columns = FeedColumns.presets["veracore"] ?? FeedColumns.plain

    static func record(_ sku: String?, onHand: String? = nil, available: String? = nil, reserved: String? = nil) throws(FeedRecord.Problem)
        -> FeedRecord
    {
        let fields = RecordBuffer()
        for value in [sku, onHand, available, reserved, nil] {
            if let value { fields.appendField(value) } else { fields.appendNull() }
        }
        return try FeedRecord(fields, columns: columns)
    }

    @Test func quantitiesAreWholeAndNotNegativeAndDerivationsAreRecorded() throws {
        #expect(try Self.record("A", onHand: "12", reserved: "2") == FeedRecord(onHand: 12, available: 10, reserved: 2, derived: .available))
        #expect(try Self.record("A", available: "4", reserved: "1").onHand == 5)
        #expect(try Self.record("A", onHand: "3.00").onHand == 3)
        #expect(try Self.record("A", onHand: " 7 ").onHand == 7)
        #expect(try Self.record("A", onHand: "", available: "9").onHand == nil)
        #expect(try Self.record("A", onHand: "0012").onHand == 12)
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "not a whole number of units: '1.'")) { try Self.record("A", onHand: "1.") }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "not a whole number of units: '-'")) { try Self.record("A", onHand: "-") }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "not a whole number of units: '1e3'")) { try Self.record("A", onHand: "1e3") }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "negative quantity '-3'")) { try Self.record("A", onHand: "-3") }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "not a whole number of units: '2.5'")) {
            try Self.record("A", onHand: "2.5")
        }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "not a whole number of units: '99999999999999999999'")) {
            try Self.record("A", onHand: "99999999999999999999")
        }
        #expect(throws: FeedRecord.Problem(field: "SKU", reason: "no SKU")) { try Self.record("  ", onHand: "1") }
        #expect(throws: FeedRecord.Problem(field: "OnHandQuantity", reason: "no quantity")) { try Self.record("A", reserved: "1") }
        #expect(throws: FeedRecord.Problem(field: "ReservedQuantity", reason: "reserved 5 is more than on hand 4")) {
            try Self.record("A", onHand: "4", reserved: "5")
        }
    }

    @Test func skuKeysTrimNormaliseAndFoldButKeepLeadingZeros() {
        let folding = SKUNormaliser(match: SKUMatch())
        #expect(folding.key("  AbC-01\t") == "abc-01")
        #expect(folding.key("00123") == "00123")
        #expect(folding.key("Cafe\u{301}") == folding.key("CAFÉ"))
        #expect(folding.key("Cafe\u{301}").unicodeScalars.count == 4, "the key is NFC")
        #expect(folding.key("STRASSE") == folding.key("straße"), "full case folding")
        let exact = SKUNormaliser(match: SKUMatch(trim: false, letterCase: .exact))
        #expect(exact.key(" AbC ") == " AbC ")
        #expect(exact.key("e\u{301}") == "é")
        // The ASCII fast path gives the keys the general path does.
        for sku in ["  MiXeD-Case 42 ", "a", "", "\u{0B}tab\u{0C}", "Z@[`{"] {
            let record = RecordBuffer()
            sku.utf8CString.withUnsafeBytes { bytes in
                folding.appendKey(of: UnsafeRawBufferPointer(rebasing: bytes.dropLast()), to: record)
            }
            #expect(record.string(0) == folding.key(sku), "\(sku)")
        }
    }

    @Test func paginationFindsLinksResolvesThemAndCountsPages() throws {
        #expect(FeedPagination.nextLink(in: #"<https://a.example/p?page=1>; rel="prev", <https://a.example/p?page=3>; rel="next""#) == "https://a.example/p?page=3")
        #expect(FeedPagination.nextLink(in: #"<https://a.example/p?page=3>; rel="next last""#) == "https://a.example/p?page=3")
        #expect(FeedPagination.nextLink(in: #"<https://a.example/p?page=1>; rel="first""#) == nil)
        #expect(try FeedPagination.resolve("page2.json?x=1", against: "https://a.example/feeds/page1.json") == "https://a.example/feeds/page2.json?x=1")
        #expect(try FeedPagination.resolve("/v2/items?cursor=abc", against: "https://a.example/v1/items") == "https://a.example/v2/items?cursor=abc")
        #expect(throws: PipelineError.self) { try FeedPagination.resolve("ftp://a.example/x", against: "https://a.example/") }
        let pages = FeedPagination.pageParameter("page")
        #expect(pages.firstPage(of: "https://a.example/inv?size=50").url == "https://a.example/inv?size=50&page=1")
        #expect(pages.firstPage(of: "https://a.example/inv?page=4").page == 4)
        #expect(FeedPagination.setting("page", to: 5, in: "https://a.example/inv?page=4&size=2") == "https://a.example/inv?page=5&size=2")
    }

    @Test func recordPathsAndMembers() throws {
        #expect(FeedJSON.steps(ofPath: "$") == [])
        #expect(FeedJSON.steps(ofPath: "$.data") == ["data"])
        #expect(FeedJSON.steps(ofPath: "$.result.items[*]") == ["result", "items"])
        #expect(FeedJSON.steps(ofPath: "$['Items']") == ["Items"])
        #expect(FeedJSON.steps(ofPath: "data") == nil)
        #expect(FeedJSON.steps(ofPath: "$.a[0]") == nil)
        let document = try JSONValue.parse(#"{"result": {"items": [{"sku": "A", "stock": {"on_hand": 4}}]}, "next": null}"#)
        let records = try FeedJSON.records(in: document, at: ["result", "items"])
        #expect(records.count == 1)
        #expect(FeedJSON.text("stock.on_hand", of: records[0]) == "4")
        #expect(FeedJSON.text("stock", of: records[0]) == #"{"on_hand":4}"#)
        #expect(FeedJSON.text("missing", of: records[0]) == nil)
        #expect(throws: FeedJSON.RecordsMissing.self) { try FeedJSON.records(in: document, at: ["result", "other"]) }
    }

    @Test func changePercentsAreExactAndRoundHalfAwayFromZero() {
        func row(_ shop: Int64?, _ feed: Int64) -> ComparedRow {
            ComparedRow(key: "k", status: .different, shopSKU: "S", feedSKU: "S", variantID: 1, hasLevel: true, shopQuantity: shop, feedQuantity: feed)
        }
        #expect(ReconcileReport.percent(row(100, 103)) == "3.0")
        #expect(ReconcileReport.percent(row(3, 2)) == "-33.3")
        #expect(ReconcileReport.percent(row(8, 9)) == "12.5")
        #expect(ReconcileReport.percent(row(16, 15)) == "-6.3")
        #expect(ReconcileReport.percent(row(0, 5)) == nil)
        #expect(ReconcileReport.percent(row(nil, 5)) == nil)
    }
}
