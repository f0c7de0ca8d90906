import Pipelines

/// What names a photo's class: the product (its slug), the variant (its SKU), or the product's value of
/// a facet (`facet:category`).
enum PhotoLabel: ParameterValue, Equatable {
    case product
    case sku
    case facet(String)

    static var typeName: String { "product|sku|facet:NAME" }
    static var typeDescription: String { "product, sku or facet:NAME (a facet's code, e.g. facet:category)" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> PhotoLabel {
        let text = try node.scalar(expecting: "product, sku or facet:NAME").text
        switch text {
        case "product": return .product
        case "sku": return .sku
        default:
            if text.hasPrefix("facet:") {
                let code = String(text.dropFirst("facet:".count))
                guard !code.isEmpty else { throw ParameterProblem("'facet:' needs a facet code, e.g. facet:category") }
                return .facet(code)
            }
            throw ParameterProblem(
                "expected product, sku or facet:NAME, found '\(text)'" + Suggestion.hint(for: text, among: ["product", "sku"]))
        }
    }

    var parameterDisplay: String {
        switch self {
        case .product: "product"
        case .sku: "sku"
        case .facet(let code): "facet:\(code)"
        }
    }
}

enum PhotoLink: String, ParameterChoice {
    case copy, hardlink
}

/// The dataset's splits in percent: `{ train: 80, validation: 10, test: 10 }`, whole numbers summing to
/// 100, training above 0.
struct SplitShares: ParameterValue, Equatable {
    static let names = ["train", "validation", "test"]
    var train: Int
    var validation: Int
    var test: Int

    static let standard = SplitShares(train: 80, validation: 10, test: 10)

    static var typeName: String { "split" }
    static var typeDescription: String { "percentages of train, validation and test summing to 100, e.g. { train: 80, validation: 10, test: 10 }" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> SplitShares {
        let map = try ParameterMap<Int>.decode(node, in: context)
        for key in map.keys where !names.contains(key) {
            throw ParameterProblem("unknown split '\(key)'; the splits are train, validation and test" + Suggestion.hint(for: key, among: names))
        }
        let shares = SplitShares(train: map["train"] ?? 0, validation: map["validation"] ?? 0, test: map["test"] ?? 0)
        for (name, value) in zip(names, shares.percents) where !(0...100).contains(value) {
            throw ParameterProblem("the \(name) split is \(value)%; each split is 0 to 100")
        }
        guard shares.percents.reduce(0, +) == 100 else {
            throw ParameterProblem("the splits add up to \(shares.percents.reduce(0, +))%, not 100%")
        }
        guard shares.train > 0 else { throw ParameterProblem("the train split must be above 0%") }
        return shares
    }

    var percents: [Int] { [train, validation, test] }
    var parameterDisplay: String { "{train: \(train), validation: \(validation), test: \(test)}" }

    /// The split of a point in 0..<10_000 (hundredths of a percent).
    func split(at point: Int) -> String {
        if point < train * 100 { return "train" }
        if point < (train + validation) * 100 { return "validation" }
        return "test"
    }
}
