/// A YAML sequence of values of one type, e.g. `formats: [native, huggingface]`. Each item's problem
/// points at the item.
extension Array: ParameterValue where Element: ParameterValue {
    public static var typeName: String { "list of \(Element.typeName)" }
    public static var typeDescription: String { "a list of \(Element.typeDescription), e.g. [a, b]" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> [Element] {
        guard case .sequence(let items) = node.value else {
            throw ParameterProblem("expected a list such as [a, b], found \(node.kindDescription)")
        }
        var values: [Element] = []
        values.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                values.append(try Element.decode(item, in: context))
            } catch {
                throw ParameterProblem("item \(index + 1): \(error.message)", at: error.location ?? item.location)
            }
        }
        return values
    }

    public var parameterDisplay: String { "[" + map(\.parameterDisplay).joined(separator: ", ") + "]" }
}

/// A YAML mapping from names to values of one type, in the order written, e.g.
/// `columns: { sku: SKU, on_hand: OnHandQuantity }`.
public struct ParameterMap<Value: ParameterValue>: ParameterValue {
    public var entries: [(key: String, value: Value)]

    public init(_ entries: [(key: String, value: Value)]) { self.entries = entries }

    public subscript(key: String) -> Value? { entries.first { $0.key == key }?.value }
    public var keys: [String] { entries.map(\.key) }

    public static var typeName: String { "map of \(Value.typeName)" }
    public static var typeDescription: String { "a mapping of names to \(Value.typeDescription), e.g. { a: x, b: y }" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> ParameterMap {
        guard case .mapping(let pairs) = node.value else {
            throw ParameterProblem("expected a mapping such as { name: value }, found \(node.kindDescription)")
        }
        var entries: [(key: String, value: Value)] = []
        for (key, value) in pairs {
            guard let name = key.scalarText, !name.isEmpty else {
                throw ParameterProblem("keys must be non-empty scalars", at: key.location)
            }
            guard !entries.contains(where: { $0.key == name }) else { continue }  // the parser reports duplicates
            do {
                entries.append((name, try Value.decode(value, in: context)))
            } catch {
                throw ParameterProblem("'\(name)': \(error.message)", at: error.location ?? value.location)
            }
        }
        return ParameterMap(entries)
    }

    public var parameterDisplay: String {
        "{" + entries.map { "\($0.key): \($0.value.parameterDisplay)" }.joined(separator: ", ") + "}"
    }
}
