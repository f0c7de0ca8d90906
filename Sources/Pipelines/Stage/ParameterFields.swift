/// The fields of a parameter whose value is a small mapping, e.g. `sku_match: { trim: true, case: fold }`:
/// each field is read with its own type, and a field the parameter does not know is refused with the
/// closest known name.
public struct ParameterFields {
    private let pairs: [(key: String, node: YAMLNode)]
    private let context: ParameterContext

    public init(_ node: YAMLNode, allowed: [String], in context: ParameterContext) throws(ParameterProblem) {
        guard case .mapping(let mapping) = node.value else {
            throw ParameterProblem("expected a mapping with \(allowed.joined(separator: ", ")), found \(node.kindDescription)")
        }
        var pairs: [(key: String, node: YAMLNode)] = []
        for (key, value) in mapping {
            guard let name = key.scalarText, allowed.contains(name) else {
                let name = key.scalarText ?? key.kindDescription
                throw ParameterProblem(
                    "unknown field '\(name)'\(Suggestion.hint(for: name, among: allowed)); known: \(allowed.joined(separator: ", "))",
                    at: key.location)
            }
            pairs.append((name, value))
        }
        self.pairs = pairs
        self.context = context
    }

    public var names: [String] { pairs.map(\.key) }

    /// The field's value, or nil when the mapping does not have it.
    public func value<Value: ParameterValue>(_ name: String, as type: Value.Type = Value.self) throws(ParameterProblem) -> Value? {
        guard let node = pairs.first(where: { $0.key == name })?.node else { return nil }
        do {
            return try Value.decode(node, in: context)
        } catch {
            throw ParameterProblem("'\(name)': \(error.message)", at: error.location ?? node.location)
        }
    }
}
