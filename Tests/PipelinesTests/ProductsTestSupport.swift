import Foundation
import Pipelines
import Stages
import Testing

/// Vendure's reference files, read where they are (never copied into the repository).
enum ProductsReference {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func path(_ relative: String) -> String { "\(packageRoot)/../shared/reference/vendure/\(relative)" }

    static func importFixtures() -> [String] {
        let folder = path("import-fixtures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".csv") }.sorted().map { "\(folder)/\($0)" }
    }
}

struct ParsedProductFile {
    var products: [ProductBlock] = []
    var rejections: [ProductRejection] = []
    var errors: [RowError] { rejections.flatMap(\.errors) }
}

func parseProductFile(
    _ path: String, currency: CurrencyCode = .usd, options: ProductCSVParser.Options = .init()
) throws -> ParsedProductFile {
    let parser = try ProductCSVParser(path: path, currency: currency, options: options)
    var result = ParsedProductFile()
    while let item = try parser.next() {
        switch item {
        case .product(let block): result.products.append(block)
        case .rejected(let rejection): result.rejections.append(rejection)
        case .unchanged: Issue.record("no block can be unchanged without a store")
        }
    }
    return result
}

/// A value of Vitest's snapshot format: JavaScript object literals with quoted keys and trailing commas.
indirect enum SnapshotValue: Equatable, CustomStringConvertible {
    case string(String)
    case number(String)
    case array([SnapshotValue])
    case object([String: SnapshotValue])

    var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .number(let text): text
        case .array(let items): "[\(items.map(\.description).joined(separator: ", "))]"
        case .object(let members):
            "{\(members.keys.sorted().map { "\($0): \(members[$0].map(\.description) ?? "")" }.joined(separator: ", "))}"
        }
    }

    subscript(key: String) -> SnapshotValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The paths where two values differ, for readable test failures.
    func differences(from other: SnapshotValue, at path: String = "") -> [String] {
        switch (self, other) {
        case (.array(let left), .array(let right)):
            guard left.count == right.count else { return ["\(path): \(left.count) items vs \(right.count): \(self) vs \(other)"] }
            return zip(left, right).enumerated().flatMap { $1.0.differences(from: $1.1, at: "\(path)[\($0)]") }
        case (.object(let left), .object(let right)):
            guard Set(left.keys) == Set(right.keys) else { return ["\(path): keys \(left.keys.sorted()) vs \(right.keys.sorted())"] }
            return left.keys.sorted().flatMap { key in
                left[key].map { value in right[key].map { value.differences(from: $0, at: "\(path).\(key)") } ?? [] } ?? []
            }
        default:
            return self == other ? [] : ["\(path): \(self) vs \(other)"]
        }
    }
}

/// Reads `exports[`name`] = `...`;` entries of a Vitest snapshot file.
struct SnapshotFile {
    var entries: [String: SnapshotValue] = [:]

    init(path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let marker = "exports[`"
        var rest = Substring(text)
        while let start = rest.range(of: marker) {
            rest = rest[start.upperBound...]
            guard let nameEnd = rest.range(of: "`] = `") else { break }
            let name = String(rest[..<nameEnd.lowerBound])
            rest = rest[nameEnd.upperBound...]
            guard let bodyEnd = rest.range(of: "\n`;") else { break }
            var reader = SnapshotReader(Array(rest[..<bodyEnd.lowerBound].utf8))
            entries[name] = try reader.value()
            rest = rest[bodyEnd.upperBound...]
        }
    }
}

struct SnapshotSyntaxError: Error { var offset: Int }

private struct SnapshotReader {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    mutating func value() throws -> SnapshotValue {
        skipSpace()
        guard index < bytes.count else { throw SnapshotSyntaxError(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "["):
            index += 1
            var items: [SnapshotValue] = []
            while true {
                skipSpace()
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                items.append(try value())
                skipSpace()
                if bytes[index] == UInt8(ascii: ",") { index += 1 }
            }
        case UInt8(ascii: "{"):
            index += 1
            var members: [String: SnapshotValue] = [:]
            while true {
                skipSpace()
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                let key = try string()
                skipSpace()
                guard bytes[index] == UInt8(ascii: ":") else { throw SnapshotSyntaxError(offset: index) }
                index += 1
                members[key] = try value()
                skipSpace()
                if bytes[index] == UInt8(ascii: ",") { index += 1 }
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        default:
            let start = index
            while index < bytes.count, !",]} \n".utf8.contains(bytes[index]) { index += 1 }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }

    mutating func string() throws -> String {
        guard bytes[index] == UInt8(ascii: "\"") else { throw SnapshotSyntaxError(offset: index) }
        index += 1
        var text: [UInt8] = []
        while bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\") { index += 1 }
            text.append(bytes[index])
            index += 1
        }
        index += 1
        return String(decoding: text, as: UTF8.self)
    }
}

/// Our model in the snapshot's shape: custom fields as objects, prices as minor units of exponent 2,
/// `trackInventory` as Vendure's `GlobalFlag`.
enum SnapshotShape {
    static func product(_ block: ProductBlock) -> SnapshotValue {
        .object([
            "product": .object([
                "assetPaths": strings(block.assetPaths),
                "facets": facets(block.facets),
                "optionGroups": .array(block.optionGroups.map { group in
                    .object(["translations": .array(group.translations.map {
                        .object(["languageCode": .string($0.languageCode), "name": .string($0.name), "values": strings($0.values)])
                    })])
                }),
                "translations": .array(block.translations.map {
                    .object([
                        "customFields": customFields($0.customFields), "description": .string($0.description),
                        "languageCode": .string($0.languageCode), "name": .string($0.name), "slug": .string($0.slug),
                    ])
                }),
            ]),
            "variants": .array(block.variants.map { variant in
                .object([
                    "assetPaths": strings(variant.assetPaths), "facets": facets(variant.facets),
                    "price": .number(String(variant.price.minorUnits)), "sku": .string(variant.sku),
                    "stockOnHand": .number(String(variant.stockOnHand ?? 0)), "taxCategory": .string(variant.taxCategory),
                    "trackInventory": .string(variant.trackInventory.map { $0 ? "TRUE" : "FALSE" } ?? "INHERIT"),
                    "translations": .array(variant.translations.map {
                        .object([
                            "customFields": customFields($0.customFields), "languageCode": .string($0.languageCode),
                            "optionValues": strings($0.optionValues),
                        ])
                    }),
                ])
            }),
        ])
    }

    /// The snapshot with each `price` float text turned into exact minor units (exponent 2).
    static func normalizingPrices(_ value: SnapshotValue) -> SnapshotValue {
        switch value {
        case .array(let items): return .array(items.map(normalizingPrices))
        case .object(var members):
            for (key, member) in members {
                if key == "price", case .number(let text) = member, let money = try? Money.parse(text, currency: .usd) {
                    members[key] = .number(String(money.minorUnits))
                } else {
                    members[key] = normalizingPrices(member)
                }
            }
            return .object(members)
        default: return value
        }
    }

    private static func strings(_ values: [String]) -> SnapshotValue { .array(values.map { .string($0) }) }

    private static func customFields(_ fields: [CustomFieldValue]) -> SnapshotValue {
        .object(Dictionary(fields.map { ($0.name, SnapshotValue.string($0.value)) }, uniquingKeysWith: { $1 }))
    }

    private static func facets(_ facets: [FacetAssignment]) -> SnapshotValue {
        .array(facets.map { facet in
            .object(["translations": .array(facet.translations.map {
                .object(["facet": .string($0.facet), "languageCode": .string($0.languageCode), "value": .string($0.value)])
            })])
        })
    }
}
