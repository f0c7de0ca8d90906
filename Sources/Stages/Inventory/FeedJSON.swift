import Foundation
import Pipelines

/// The small part of JSONPath feeds need: where the records are (`$`, `$.data`, `$.result.items[*]`,
/// `$['items']`) and members of a record (`sku`, `stock.on_hand`).
enum FeedJSON {
    /// The member names of a records path; nil when it is not of the supported form.
    static func steps(ofPath path: String) -> [String]? {
        var rest = Substring(path.trimmingCharacters(in: .whitespaces))
        guard rest.hasPrefix("$") else { return nil }
        rest = rest.dropFirst()
        var steps: [String] = []
        while !rest.isEmpty {
            if rest.hasPrefix("[*]") {
                rest = rest.dropFirst(3)
                guard rest.isEmpty else { return nil }
            } else if rest.hasPrefix("['") {
                guard let end = rest.range(of: "']") else { return nil }
                steps.append(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound]))
                rest = rest[end.upperBound...]
            } else if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { return nil }
                steps.append(String(name))
                rest = rest.dropFirst(name.count)
            } else {
                return nil
            }
        }
        return steps
    }

    /// The records a document holds at `steps`; a problem in words when there is no array there.
    static func records(in document: JSONValue, at steps: [String]) throws(RecordsMissing) -> [JSONValue] {
        var value = document
        for step in steps {
            guard let member = value[step] else { throw RecordsMissing(problem: "it has no member '\(step)'") }
            value = member
        }
        switch value {
        case .array(let items): return items
        case .null: return []
        default: throw RecordsMissing(problem: "the records are not an array")
        }
    }

    struct RecordsMissing: Error {
        var problem: String
    }

    /// The member at `name` (`a.b` reaches into objects), or nil.
    static func member(_ name: String, of value: JSONValue) -> JSONValue? {
        if let direct = value[name] { return direct }
        var current = value
        for step in name.split(separator: ".") {
            guard let member = current[String(step)] else { return nil }
            current = member
        }
        return current
    }

    /// A member's value as the text a record check reads: strings as they are, numbers as written,
    /// null or absent as nil, anything else as its JSON.
    static func text(_ name: String?, of record: JSONValue) -> String? {
        guard let name, let value = member(name, of: record) else { return nil }
        switch value {
        case .string(let text), .number(let text): return text
        case .null: return nil
        default: return value.serialized
        }
    }

    /// The record's values through the columns, as `FeedRecord.Field`s of `fields` (cleared first).
    static func fill(_ fields: RecordBuffer, from record: JSONValue, columns: FeedColumns) {
        fields.removeAll()
        for column in [columns.sku, columns.onHand, columns.available, columns.reserved, columns.location] {
            if let value = text(column, of: record) { fields.appendField(value) } else { fields.appendNull() }
        }
    }
}
