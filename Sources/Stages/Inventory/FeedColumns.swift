import Pipelines

/// Which of a feed's fields hold the SKU and the stock figures: a shape's preset (`veracore`,
/// `shipstation`, `shipbob`) or a mapping `{ sku: NAME, on_hand: NAME, available: NAME, reserved: NAME,
/// location: NAME }`. Names are CSV column names, or JSON member names (`a.b` reaches into an object).
struct FeedColumns: ParameterValue, Equatable {
    var sku: String
    var onHand: String?
    var available: String?
    var reserved: String?
    var location: String?
    /// The preset's name, when one was chosen.
    var preset: String?

    static let fieldNames = ["sku", "on_hand", "available", "reserved", "location"]

    static let presets: [String: FeedColumns] = [
        "veracore": FeedColumns(
            sku: "SKU", onHand: "OnHandQuantity", available: "AvailableQuantity", reserved: "ReservedQuantity", location: "Location",
            preset: "veracore"),
        "shipstation": FeedColumns(
            sku: "sku", onHand: "on_hand", available: "available", reserved: "allocated", location: "warehouse", preset: "shipstation"),
        "shipbob": FeedColumns(
            sku: "sku", onHand: "total_on_hand_quantity", available: "total_fulfillable_quantity",
            reserved: "total_committed_quantity", location: "fulfillment_center", preset: "shipbob"),
    ]

    /// The columns a plain CSV is read with when `columns` is not given.
    static let plain = FeedColumns(sku: "sku", onHand: "on_hand", available: "available", reserved: "reserved", location: "location")

    static var typeName: String { "columns" }
    static var typeDescription: String {
        "veracore, shipstation, shipbob, or a mapping { sku: NAME, on_hand: NAME, available: NAME, reserved: NAME, location: NAME }"
    }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> FeedColumns {
        if let name = node.scalarText {
            guard let preset = presets[name.lowercased()] else {
                let names = presets.keys.sorted()
                throw ParameterProblem(
                    "expected \(names.joined(separator: ", ")) or a mapping of fields, found '\(name)'"
                        + Suggestion.hint(for: name, among: names))
            }
            return preset
        }
        let fields = try ParameterFields(node, allowed: fieldNames, in: context)
        guard let sku = try fields.value("sku", as: String.self), !sku.isEmpty else {
            throw ParameterProblem("the columns need sku: the field holding the SKU")
        }
        let columns = FeedColumns(
            sku: sku, onHand: try fields.value("on_hand"), available: try fields.value("available"),
            reserved: try fields.value("reserved"), location: try fields.value("location"))
        guard columns.onHand != nil || columns.available != nil else {
            throw ParameterProblem("the columns need on_hand or available (or both)")
        }
        return columns
    }

    var parameterDisplay: String {
        if let preset { return preset }
        let pairs: [(String, String?)] = [("sku", sku), ("on_hand", onHand), ("available", available), ("reserved", reserved), ("location", location)]
        return "{" + pairs.compactMap { name, value in value.map { "\(name): \($0)" } }.joined(separator: ", ") + "}"
    }
}
