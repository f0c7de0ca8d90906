import Foundation
import Pipelines

/// How feed SKUs are matched to the store's (`sku_match: { trim: true, case: fold, aliases: FILE }`):
/// both sides are trimmed of white space, put in Unicode NFC and case-folded (leading zeros are kept),
/// then a feed SKU listed in the alias file (`feed_sku,shop_sku`) stands for the shop SKU it names.
struct SKUMatch: ParameterValue, Equatable {
    enum Case: String, ParameterChoice { case fold, exact }

    var trim = true
    var letterCase = Case.fold
    var aliases: FilePath?

    static var typeName: String { "sku matching" }
    static var typeDescription: String { "{ trim: true|false, case: fold|exact, aliases: FILE }" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> SKUMatch {
        let fields = try ParameterFields(node, allowed: ["trim", "case", "aliases"], in: context)
        var match = SKUMatch()
        match.trim = try fields.value("trim") ?? true
        match.letterCase = try fields.value("case") ?? .fold
        match.aliases = try fields.value("aliases")
        return match
    }

    var parameterDisplay: String {
        "{trim: \(trim), case: \(letterCase.rawValue)" + (aliases.map { ", aliases: \($0.path)" } ?? "") + "}"
    }

    var rule: String {
        [trim ? "trimmed" : nil, "NFC", letterCase == .fold ? "case-folded" : nil].compactMap { $0 }.joined(separator: ", ")
    }
}

/// Turns SKUs into the keys they are matched by. ASCII SKUs (nearly all) take a fast path on their bytes.
struct SKUNormaliser {
    var match: SKUMatch

    /// The key of `bytes` (UTF-8), appended to `record` as one field.
    func appendKey(of bytes: UnsafeRawBufferPointer, to record: RecordBuffer) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            var start = bytes.startIndex
            var end = bytes.endIndex
            if match.trim {
                while start < end, Self.isASCIISpace(bytes[start]) { start += 1 }
                while end > start, Self.isASCIISpace(bytes[end - 1]) { end -= 1 }
            }
            for index in start..<end {
                let byte = bytes[index]
                record.appendByte(match.letterCase == .fold && byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte)
            }
            record.endField()
        } else {
            record.appendField(key(String(decoding: bytes, as: UTF8.self)))
        }
    }

    func key(_ sku: String) -> String {
        var text = match.trim ? sku.trimmingCharacters(in: .whitespacesAndNewlines) : sku
        text = text.precomposedStringWithCanonicalMapping
        if match.letterCase == .fold {
            text = text.folding(options: [.caseInsensitive], locale: nil).precomposedStringWithCanonicalMapping
        }
        return text
    }

    private static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
}

/// The alias file: warehouse item codes standing for shop SKUs, by key.
struct SKUAliases {
    private(set) var shopKeys: [String: String] = [:]

    init(_ path: String?, normaliser: SKUNormaliser) throws {
        guard let path else { return }
        guard FileSupport.exists(path) else { throw PipelineError(.noInput, "the alias file \(path) does not exist") }
        let reader = try CSVReader(path: path)
        let header = try reader.readHeader()
        guard header == ["feed_sku", "shop_sku"] else {
            throw PipelineError(
                .data, "the alias file needs the columns feed_sku,shop_sku, found \(header.joined(separator: ","))",
                location: SourceLocation(file: path, line: 1, column: 1))
        }
        var lines: [String: Int] = [:]
        let record = RecordBuffer()
        while let status = try reader.next(into: record) {
            let place = SourceLocation(file: path, line: status.line, column: 1)
            if let error = status.error { throw error.pipelineError(file: path) }
            guard record.count == 2, let feed = record.string(0), let shop = record.string(1),
                !feed.trimmingCharacters(in: .whitespaces).isEmpty, !shop.trimmingCharacters(in: .whitespaces).isEmpty
            else { throw PipelineError(.data, "an alias needs a feed_sku and a shop_sku", location: place) }
            let key = normaliser.key(feed)
            if let earlier = lines[key] {
                throw PipelineError(.data, "the feed SKU '\(feed)' has a second alias (the first is on line \(earlier))", location: place)
            }
            lines[key] = status.line
            shopKeys[key] = normaliser.key(shop)
            guard shopKeys.count <= 1_000_000 else { throw PipelineError(.data, "more than 1,000,000 aliases", location: place) }
        }
    }
}
