import Foundation
import Testing

@testable import Pipelines

/// A stage kind for loader tests: one required string and a few optional values of other types.
struct EchoKind: StageKind {
    struct Config: Sendable {
        var message: String
        var loud: Bool
        var repeats: Int
        var file: FilePath?
    }

    static let name = "echo"
    static let summary = "Says something"
    static let parameters = ParameterSet(
        Parameter<String>.required("message", doc: "what to say"),
        Parameter<Bool>.optional("loud", default: false, doc: "shout"),
        Parameter<Int>.optional("repeats", default: 1, doc: "how often"),
        Parameter<FilePath?>.optional("file", doc: "where to write")
    ) { message, loud, repeats, file in Config(message: message, loud: loud, repeats: repeats, file: file) }
    static let counters = [Counter("said", unit: "messages", doc: "messages said")]
    static let execution = StageExecution.whole()

    static func effects(of config: Config, in workspace: Workspace) -> StageEffects { StageEffects() }
    static func run(_ config: Config, in context: StageContext) throws -> StageOutcome { StageOutcome() }
}

/// Shares EchoKind's parameters under a dotted name, for did-you-mean on kinds; works in chunks.
struct TableImportKind: StageKind {
    typealias Config = EchoKind.Config
    static let name = "table.import"
    static let summary = "Pretends to import"
    static var parameters: ParameterSet<Config> { EchoKind.parameters }
    static let counters: [Counter] = []
    static let execution = StageExecution.chunked(defaultSize: 1000)
    static func effects(of config: Config, in workspace: Workspace) -> StageEffects { StageEffects() }
    static func run(_ config: Config, in context: StageContext) throws -> StageOutcome { StageOutcome() }
}

enum LanguageFixtures {
    static let loader = PipelineLoader(catalog: [StageDescriptor(EchoKind.self), StageDescriptor(TableImportKind.self)])
    static let file = "pipelines/x.yaml"
    static let base = "/srv/project/pipelines"

    static func load(
        _ yaml: String, overrides: [(name: String, value: String)] = [], environment: [String: String] = [:]
    ) throws(DiagnosticList) -> Pipeline {
        try loader.load(
            contents: Array(yaml.utf8), file: file, baseDirectory: base, overrides: overrides, environment: environment)
    }

    /// The messages of a failing load, as printed (`pipelines/x.yaml:L:C: message`).
    static func errors(
        _ yaml: String, overrides: [(name: String, value: String)] = [], environment: [String: String] = [:]
    ) -> [String] {
        do {
            _ = try load(yaml, overrides: overrides, environment: environment)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    static func parse(_ yaml: String, limits: YAMLLimits = .standard) throws(YAMLError) -> YAMLDocument {
        try YAMLParser.parse(Array(yaml.utf8), file: "t.yaml", limits: limits)
    }

    static func parseError(_ yaml: String, limits: YAMLLimits = .standard) -> YAMLError? {
        do {
            _ = try parse(yaml, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// A fresh folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("language-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

extension YAMLNode {
    subscript(key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = value else { return nil }
        return pairs.first { $0.key.scalarText == key }?.value
    }

    var items: [YAMLNode] {
        if case .sequence(let items) = value { return items }
        return []
    }

    var style: ScalarStyle? {
        if case .scalar(_, let style, _) = value { return style }
        return nil
    }

    var tag: String? {
        if case .scalar(_, _, let tag) = value { return tag }
        return nil
    }

    var place: String { "\(location.line):\(location.column)" }
}
