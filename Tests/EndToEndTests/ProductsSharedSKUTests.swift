import Foundation
import Pipelines
import Testing

/// Vendure's demo catalogue imported whole, as Vendure imports it: its Modern Cafe Chair gives its three
/// colours the SKU 404.038.96, and they become three variants of one product, with a warning.
@Suite(.timeLimit(.minutes(5))) struct ProductsSharedSKUTests {
    typealias Backend = ProductsTestStore.Backend

    /// pipelines/vendure-catalogue.yaml, its catalogue paths pointing at the reference data.
    static func examplePipeline(database: String) throws -> String {
        let example = try String(contentsOfFile: PipelineProcess.packageRoot + "/pipelines/vendure-catalogue.yaml", encoding: .utf8)
        #expect(!example.contains("max_rejects"), "the example needs no max_rejects")
        return example.replacingOccurrences(of: "../../shared/reference/vendure", with: vendureReference)
            .replacingOccurrences(of: "${DATABASE_URL:-sqlite:var/catalogue.db}", with: database)
    }

    @Test(arguments: Backend.allCases) func theCatalogueExampleStoresEveryProduct(backend: Backend) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(backend, in: scratch)
        defer { store.drop() }
        try scratch.write("catalogue.yaml", try Self.examplePipeline(database: "\"\(store.url)\""))
        let first = try PipelineProcess.run(["run", "catalogue.yaml"], in: scratch.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(
            first.stderr.contains("the product at line 87 gives the SKU '404.038.96' to several variants; they are told apart by their option values"),
            "\(first.stderr)")
        #expect(ProductsRun.summary(first)?.hasPrefix("products: 54 created, 0 updated, 0 unchanged, 0 rejected") == true, "\(first.stderr)")
        #expect(try store.count("store_products") == 54)
        #expect(try store.count("store_variants") == 88)
        #expect(try store.count("store_assets") == 54)
        #expect(!scratch.exists("var/products.rejects.csv"))
        let chair = try store.rows(
            """
            SELECT o.code, p.amount_minor FROM store_variants v JOIN store_variant_options l ON l.variant_id = v.id
            JOIN store_options o ON o.id = l.option_id JOIN store_prices p ON p.variant_id = v.id
            WHERE v.sku = '404.038.96' ORDER BY v.position
            """)
        #expect(chair == [["mustard", "10000"], ["mint", "10000"], ["pearl", "10000"]])

        // The exported CSV gives the three rows back, and importing it again changes nothing.
        let exported = try scratch.read("out/catalogue.csv")
        #expect(exported.components(separatedBy: "404.038.96").count - 1 == 3)
        let again = try ProductsRun.importFile(scratch.file("out/catalogue.csv"), into: store, scratch: scratch, with: "currency: USD")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(ProductsRun.summary(again)?.hasPrefix("products: 0 created, 0 updated, 54 unchanged") == true, "\(again.stderr)")
        #expect(ProductsRun.summary(again)?.contains("variants: 0 created, 0 updated, 88 unchanged") == true)
    }

    @Test func duplicateSKUsRejectKeepsEverySKUOnce() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try ProductsTestStore(.sqlite, in: scratch)
        defer { store.drop() }
        let catalogue = vendureReference + "/mock-data/products.csv"
        let refused = try ProductsRun.importFile(catalogue, into: store, scratch: scratch, with: "duplicate_skus: reject")
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("max_rejects"), "\(refused.stderr)")
        #expect(try store.count("store_products") == 0)

        let strict = try ProductsRun.importFile(catalogue, into: store, scratch: scratch, with: "duplicate_skus: reject, max_rejects: 3")
        #expect(strict.status == 0, "\(strict.stderr)")
        #expect(try store.count("store_products") == 53 && store.count("store_variants") == 85)
        let rejects = try scratch.read("rejects.csv")
        #expect(rejects.contains("88,8,duplicate SKU '404.038.96': line 87 already uses it"), "\(rejects)")

        let unknown = try ProductsRun.importFile(catalogue, into: store, scratch: scratch, with: "duplicate_skus: allow")
        #expect(unknown.status == 78, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("within-product") && unknown.stderr.contains("reject"), "\(unknown.stderr)")
    }
}
