import Foundation

/// Substitutes `${NAME}` and `${NAME:-default}` in scalar text: pipeline params first, then environment
/// variables. `$$` is a literal `$`. As in the shell, `:-` also takes the default when the value is empty.
/// Substituted text is never scanned again, so a value containing `${` stays as it is.
///
/// `${stages.ID.outputs.NAME}` is an earlier stage's output. Where the file is loaded the value is not
/// known yet: with `stageOutputs: .deferred` the reference stays as written, is listed in the result
/// and marks its scalar (`hasDeferredReference`); a run substitutes it with `.resolved`.
public struct Interpolator: Sendable {
    /// What `${stages.ID.outputs.NAME}` becomes.
    public enum StageOutputs: Sendable {
        /// Not allowed here (params, database URLs, settings).
        case refused
        /// Kept for the run, and listed.
        case deferred
        /// The outputs recorded so far, by stage id.
        case resolved([String: Pipelines.StageOutputs])
    }

    public struct Substitution {
        public var node: YAMLNode
        public var diagnostics: [Diagnostic]
        public var references: [StageOutputReference]
    }

    public var params: [String: String]
    public var environment: [String: String]
    public var stageOutputs: StageOutputs

    public init(params: [String: String] = [:], environment: [String: String], stageOutputs: StageOutputs = .refused) {
        self.params = params
        self.environment = environment
        self.stageOutputs = stageOutputs
    }

    /// The same variables with another treatment of stage outputs.
    public func with(stageOutputs: StageOutputs) -> Interpolator {
        Interpolator(params: params, environment: environment, stageOutputs: stageOutputs)
    }

    /// Substitutes every scalar of the tree; mapping keys stay as written.
    public func substitute(_ node: YAMLNode) -> Substitution {
        var result = Substitution(node: node, diagnostics: [], references: [])
        result.node = substitute(node, into: &result)
        return result
    }

    private func substitute(_ node: YAMLNode, into result: inout Substitution) -> YAMLNode {
        var substituted = node
        switch node.value {
        case .scalar(let text, let style, let tag):
            let scalar = substituteScalar(text, at: node.location, verbatimColumn: node.verbatimColumn)
            result.diagnostics += scalar.diagnostics
            result.references += scalar.references
            if scalar.text != text {
                substituted.value = .scalar(text: scalar.text, style: style, tag: tag)
                substituted.verbatimColumn = nil
            }
            substituted.hasDeferredReference = !scalar.references.isEmpty && isDeferring
            substituted.hasSubstitutionProblem = !scalar.diagnostics.isEmpty
        case .mapping(let pairs):
            substituted.value = .mapping(pairs.map { ($0.key, substitute($0.value, into: &result)) })
        case .sequence(let items):
            substituted.value = .sequence(items.map { substitute($0, into: &result) })
        }
        return substituted
    }

    private var isDeferring: Bool {
        if case .deferred = stageOutputs { return true }
        return false
    }

    /// `verbatimColumn` is where the text starts in the file when it stands there unchanged; problems then
    /// point at their `${`, otherwise at `location`.
    public func substitute(_ text: String, at location: SourceLocation, verbatimColumn: Int? = nil)
        -> (text: String, diagnostics: [Diagnostic])
    {
        let scalar = substituteScalar(text, at: location, verbatimColumn: verbatimColumn)
        return (scalar.text, scalar.diagnostics)
    }

    private func substituteScalar(_ text: String, at location: SourceLocation, verbatimColumn: Int?)
        -> (text: String, diagnostics: [Diagnostic], references: [StageOutputReference])
    {
        guard text.contains("$") else { return (text, [], []) }
        let characters = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var diagnostics: [Diagnostic] = []
        var references: [StageOutputReference] = []
        func place(at offset: Int) -> SourceLocation {
            var place = location
            if let verbatimColumn { place.column = verbatimColumn + offset }
            return place
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
            guard let close = Self.closingBrace(in: characters, from: index + 2) else {
                diagnostics.append(Diagnostic(place(at: index), "unterminated '${' (missing '}')"))
                output.append(contentsOf: characters[index...])
                break
            }
            let body = String(String.UnicodeScalarView(characters[(index + 2)..<close]))
            let here = place(at: index)
            if body.hasPrefix(Self.stagesPrefix) {
                if let (reference, value) = stageOutput(body, at: here, into: &diagnostics) {
                    references.append(reference)
                    output.append(contentsOf: (value ?? "${\(body)}").unicodeScalars)
                }
            } else if let value = resolve(body, report: { diagnostics.append(Diagnostic(here, $0)) }) {
                switch value {
                case .value(let text):
                    output.append(contentsOf: text.unicodeScalars)
                case .fallback(let text):
                    // A default may itself hold references: `${A:-${B:-x}}`.
                    let inner = substituteScalar(text, at: here, verbatimColumn: nil)
                    diagnostics += inner.diagnostics
                    references += inner.references
                    output.append(contentsOf: inner.text.unicodeScalars)
                }
            }
            index = close + 1
        }
        return (String(output), diagnostics, references)
    }

    static let stagesPrefix = "stages."

    /// The `}` that closes the `${` whose body starts at `start`, past nested `${…}`.
    private static func closingBrace(in characters: [Unicode.Scalar], from start: Int) -> Int? {
        var depth = 1
        var index = start
        while index < characters.count {
            if characters[index] == "$" && index + 1 < characters.count && characters[index + 1] == "{" {
                depth += 1
                index += 2
                continue
            }
            if characters[index] == "}" {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }

    private enum Resolved {
        case value(String)
        /// The default after `:-`, still to be substituted.
        case fallback(String)
    }

    /// A `stages.ID.outputs.NAME` reference and, when resolving, its value.
    private func stageOutput(_ body: String, at location: SourceLocation, into diagnostics: inout [Diagnostic])
        -> (StageOutputReference, String?)?
    {
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[2] == "outputs", !parts[1].isEmpty, !parts[3].isEmpty else {
            diagnostics.append(
                Diagnostic(location, "invalid stage output reference '${\(body)}': write ${stages.STAGE_ID.outputs.NAME}"))
            return nil
        }
        let stage = String(parts[1])
        let name = String(parts[3])
        let reference = StageOutputReference(stage: stage, outputs: [OutputRequirement(name, nil)], location: location)
        switch stageOutputs {
        case .refused:
            diagnostics.append(Diagnostic(location, "'${\(body)}': stage outputs can only be used in a stage's with:"))
            return nil
        case .deferred:
            return (reference, nil)
        case .resolved(let recorded):
            guard let value = recorded[stage]?[name] else {
                diagnostics.append(Diagnostic(location, "stage '\(stage)' recorded no output '\(name)' for '${\(body)}'"))
                return nil
            }
            return (reference, value.text)
        }
    }

    /// The value of `NAME` or `NAME:-default`, or nil after reporting why there is none.
    private func resolve(_ body: String, report: (String) -> Void) -> Resolved? {
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
        if let fallback, value?.isEmpty ?? true { return .fallback(fallback) }
        guard let value else {
            report("undefined variable '\(name)'" + Suggestion.hint(for: name, among: params.keys.sorted()))
            return nil
        }
        return .value(value)
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`, as for shell variables.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
