import Foundation
import Pipelines
import Testing

/// Catalogues with photos for the photo extraction tests, and the checks every dataset gets.
enum PhotoCatalogue {
    static let assets = vendureReference + "/mock-data/assets"
    static let demoCSV = vendureReference + "/mock-data/products.csv"
    static let schema = PipelineProcess.packageRoot + "/docs/manifest.schema.json"

    struct Product {
        var slug: String
        var assets: [String]
        var facets: String = ""
        var variants: [(sku: String, assets: [String])] = []
    }

    /// A Vendure CSV for `products` (one variant each unless `variants` are given).
    static func csv(_ products: [Product]) -> String {
        var text = "name,slug,description,assets,facets,optionGroups,optionValues,sku,price,taxCategory,stockOnHand,trackInventory,variantAssets,variantFacets\n"
        for product in products {
            let name = product.slug.replacingOccurrences(of: "-", with: " ").capitalized
            let assets = "\"\(product.assets.joined(separator: "|"))\""
            if product.variants.isEmpty {
                text += "\(name),\(product.slug),A product,\(assets),\(product.facets),,,\(product.slug.uppercased())-1,10.00,standard,5,,,\n"
            } else {
                for (index, variant) in product.variants.enumerated() {
                    let head = index == 0 ? "\(name),\(product.slug),A product,\(assets),\(product.facets),size" : ",,,,,"
                    text += "\(head),S\(index),\(variant.sku),10.00,standard,5,,\"\(variant.assets.joined(separator: "|"))\",\n"
                }
            }
        }
        return text
    }

    /// A pipeline importing `file` into `store.db`, then extracting its photos to `out/photos` and
    /// writing manifests; `extract` adds settings to photos.extract.
    static func pipeline(
        file: String, assets: String, extract: String = "", formats: String = "[native, huggingface, dukarun]", importStage: Bool = true
    ) -> String {
        """
        name: photos
        database: sqlite:store.db
        state: sqlite:var/state.db
        stages:
        \(importStage ? """
          - id: import
            uses: products.import
            with: { file: "\(file)", assets: "\(assets)", max_rejects: 100 }
        """ : "")
          - id: photos
            uses: photos.extract
            \(importStage ? "needs: [import]" : "")
            with: { out: out/photos, assets: "\(assets)"\(extract.isEmpty ? "" : ", " + extract) }
          - id: manifests
            uses: manifest.write
            needs: [photos]
            with: { dataset: "${stages.photos.outputs.dataset}", formats: \(formats), channel: shop-1, created_at: "2026-12-06T00:00:00Z" }
        """
    }

    /// Runs the consumers' checks (JSON Schema, Pillow, Hugging Face datasets, every manifest's keys).
    static func expectConsumersAccept(_ dataset: String, manifests: String? = nil) throws {
        let result = try ExternalTool.run(
            [PeerServer.python, PipelineProcess.packageRoot + "/Tests/Peers/check_dataset.py", dataset, manifests ?? dataset, schema],
            environment: ["HF_HUB_OFFLINE": "1"])
        let text = result.stdout + result.stderr
        #expect(result.status == 0 && text.contains("\"ok\": true"), "check_dataset.py: \(text.suffix(2000))")
    }

    /// Every file under `root` (relative path → bytes), to compare two datasets byte for byte.
    static func tree(_ root: String) -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return files
    }

    /// Each file's inode and modification time, to prove a re-run rewrote nothing.
    static func stamps(_ root: String) throws -> [String: String] {
        var stamps: [String: String] = [:]
        for relative in tree(root).keys {
            let attributes = try FileManager.default.attributesOfItem(atPath: root + "/" + relative)
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            stamps[relative] = "\(attributes[.systemFileNumber] ?? 0)@\(modified)"
        }
        return stamps
    }

    /// The report's rows as [asset: reason].
    static func reportReasons(_ scratch: Scratch, stage: String = "photos") throws -> [String: String] {
        let lines = try scratch.read("var/\(stage).report.csv").split(separator: "\n").dropFirst()
        var reasons: [String: String] = [:]
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count >= 6 { reasons[fields[4], default: ""] += (reasons[fields[4]] == nil ? "" : "+") + fields[5] }
        }
        return reasons
    }

    static func counter(_ name: String, in stderr: String, stage: String = "photos") -> Int? {
        guard let line = stderr.split(separator: "\n").first(where: { $0.contains("[\(stage)] photos.extract finished") }),
            let range = line.range(of: "\(name) ")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
