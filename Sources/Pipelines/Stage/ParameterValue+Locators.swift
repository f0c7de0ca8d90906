import Foundation

/// An `http` or `https` URL with a host, at most 8 KiB. Its display masks a password in it and the
/// values of query parameters that carry secrets (`token`, `key`, `password`, `signature`, ...).
public struct WebURL: ParameterValue, Hashable {
    public let url: URL
    public let text: String

    public static let maximumLength = 8192

    public init?(_ text: String) {
        guard text.utf8.count <= Self.maximumLength,
            !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty,
            let url = components.url
        else { return nil }
        self.url = url
        self.text = text
    }

    public static var typeName: String { "url" }
    public static var typeDescription: String { "an http:// or https:// URL" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> WebURL {
        let text = try node.scalar(expecting: "a URL").text
        guard let url = WebURL(text) else {
            throw ParameterProblem("expected an http:// or https:// URL with a host, found '\(SecretMask.locator(text))'")
        }
        return url
    }

    public var parameterDisplay: String { SecretMask.locator(text) }
    public var description: String { parameterDisplay }
}

extension DatabaseLocator: ParameterValue {
    public static var typeName: String { "database-url" }
    public static var typeDescription: String { "a database: sqlite:PATH or postgres://user@host/name" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> DatabaseLocator {
        let text = try node.scalar(expecting: "a database URL").text
        do {
            return try DatabaseLocator.parse(text, relativeTo: context.baseDirectory)
        } catch {
            throw ParameterProblem(error.message)
        }
    }

    public var parameterDisplay: String { redacted }
}

/// The name of one of the pipeline file's `databases:`, e.g. `source: vendure`. The stage gets its
/// connection from the engine: `context.database(named:)`.
public struct DatabaseName: ParameterValue, Hashable {
    public let name: String

    public init(_ name: String) { self.name = name }

    public static var typeName: String { "database" }
    public static var typeDescription: String { "the name of a database declared under the pipeline's databases:" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> DatabaseName {
        let text = try node.scalar(expecting: "a database name").text
        guard context.databaseNames.contains(text) else {
            let declared =
                context.databaseNames.isEmpty
                ? "the pipeline declares no databases (add them under databases:)"
                : "declared: \(context.databaseNames.joined(separator: ", "))"
            throw ParameterProblem(
                "unknown database '\(text)'" + Suggestion.hint(for: text, among: context.databaseNames) + "; \(declared)")
        }
        return DatabaseName(text)
    }

    public var parameterDisplay: String { name }
}

/// The id of an earlier stage whose outputs a stage reads, e.g. `feed: fetch`. Declared with
/// `Parameter.stage(_:outputs:doc:)`; the loader checks that the stage exists, runs first and declares
/// the outputs.
public struct StageReference: ParameterValue, Hashable {
    public let id: String

    public init(_ id: String) { self.id = id }

    public static var typeName: String { "stage" }
    public static var typeDescription: String { "the id of an earlier stage of this pipeline" }

    public static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> StageReference {
        let text = try node.scalar(expecting: "a stage id").text
        guard !text.isEmpty else { throw ParameterProblem("expected a stage id, found an empty string") }
        return StageReference(text)
    }

    public var parameterDisplay: String { id }
}
