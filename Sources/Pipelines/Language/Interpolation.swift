import Foundation

/// Substitutes `${NAME}` and `${NAME:-default}` in scalar text: pipeline params first, then environment
/// variables. `$$` is a literal `$`. As in the shell, `:-` also takes the default when the value is empty.
/// Substituted text is never scanned again, so a value containing `${` stays as it is.
public struct Interpolator: Sendable {
    public var params: [String: String]
    public var environment: [String: String]

    public init(params: [String: String] = [:], environment: [String: String]) {
        self.params = params
        self.environment = environment
    }

    /// Substitutes every scalar of the tree; mapping keys stay as written.
    public func substitute(_ node: YAMLNode) -> (node: YAMLNode, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        let result = substitute(node, into: &diagnostics)
        return (result, diagnostics)
    }

    private func substitute(_ node: YAMLNode, into diagnostics: inout [Diagnostic]) -> YAMLNode {
        var result = node
        switch node.value {
        case .scalar(let text, let style, let tag):
            let (substituted, problems) = substitute(text, at: node.location, verbatimColumn: node.verbatimColumn)
            diagnostics += problems
            if substituted != text {
                result.value = .scalar(text: substituted, style: style, tag: tag)
                result.verbatimColumn = nil
            }
        case .mapping(let pairs):
            result.value = .mapping(pairs.map { ($0.key, substitute($0.value, into: &diagnostics)) })
        case .sequence(let items):
            result.value = .sequence(items.map { substitute($0, into: &diagnostics) })
        }
        return result
    }

    /// `verbatimColumn` is where the text starts in the file when it stands there unchanged; problems then
    /// point at their `${`, otherwise at `location`.
    public func substitute(_ text: String, at location: SourceLocation, verbatimColumn: Int? = nil)
        -> (text: String, diagnostics: [Diagnostic])
    {
        guard text.contains("$") else { return (text, []) }
        let characters = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var diagnostics: [Diagnostic] = []
        func problem(at offset: Int, _ message: String) {
            var place = location
            if let verbatimColumn { place.column = verbatimColumn + offset }
            diagnostics.append(Diagnostic(place, message))
        }

        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            guard character == "$", next == "$" || next == "{" else {
                output.append(character)
                index += 1
                continue
            }
            if next == "$" {
                output.append("$")
                index += 2
                continue
            }
            guard let close = characters[(index + 2)...].firstIndex(of: "}") else {
                problem(at: index, "unterminated '${' (missing '}')")
                output.append(contentsOf: characters[index...])
                break
            }
            let body = String(String.UnicodeScalarView(characters[(index + 2)..<close]))
            if let value = resolve(body, report: { problem(at: index, $0) }) {
                output.append(contentsOf: value.unicodeScalars)
            }
            index = close + 1
        }
        return (String(output), diagnostics)
    }

    /// The value of `NAME` or `NAME:-default`, or nil after reporting why there is none.
    private func resolve(_ body: String, report: (String) -> Void) -> String? {
        let name: String
        let fallback: String?
        if let separator = body.range(of: ":-") {
            name = String(body[..<separator.lowerBound])
            fallback = String(body[separator.upperBound...])
        } else {
            name = body
            fallback = nil
        }
        guard Self.isValidName(name) else {
            report("invalid variable reference '${\(body)}': names use letters, digits and '_'")
            return nil
        }
        let value = params[name] ?? environment[name]
        if let fallback, value?.isEmpty ?? true { return fallback }
        guard let value else {
            report("undefined variable '\(name)'" + Suggestion.hint(for: name, among: params.keys.sorted()))
            return nil
        }
        return value
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, as for shell variables.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
