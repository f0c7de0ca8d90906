import Foundation
import Testing

@testable import Pipelines

/// Test kinds that use every part of the stage contract: outputs, references, counters, events, checks
/// against the workspace, per-kind settings.
enum ContractKinds {
    static let produced = Counter("made", unit: "things", doc: "things made")
    static let pathOutput = Output<FilePath>("path", doc: "where the things are")
    static let countOutput = Output<Int64>("count", doc: "how many")
    static let infoOutput = Output<JSONValue>("info", doc: "about them")
    static let made = StageEvent("things.made", doc: "things were made")

    /// `test.produce`: hands on a path, a number and JSON; raises `things.made` (twice, with one key).
    struct Produce: StageKind {
        struct Config: Sendable {
            var path: FilePath
            var count: Int
        }

        static let name = "test.produce"
        static let summary = "Makes things"
        static let parameters = ParameterSet(
            Parameter<FilePath>.required("path", doc: "where"), Parameter<Int>.optional("count", default: 3, doc: "how many")
        ) { path, count in Config(path: path, count: count) }
        static let counters = [produced]
        static let outputs = [pathOutput.declaration, countOutput.declaration, infoOutput.declaration]
        static let events = [made]
        static let execution = StageExecution.whole()

        static func effects(of config: Config, in workspace: Workspace) -> StageEffects { StageEffects(writes: [config.path.path]) }

        static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
            try Data("made".utf8).write(to: URL(fileURLWithPath: config.path.path))
            let payload = JSONValue.object([("count", .number(String(config.count)))])
            try context.raise(made, payload: payload)
            try context.raise(made, payload: payload)  // the same key: recorded once
            return StageOutcome(
                counts: [produced: Int64(config.count)],
                outputs: [
                    pathOutput.value(config.path), countOutput.value(Int64(config.count)),
                    infoOutput.value(.object([("kind", .string("things"))])),
                ])
        }
    }

    static let consumed = Counter("consumed", unit: "things", doc: "things consumed")

    /// `test.consume`: reads `count` of the stage it names, and a file (often `${stages...}`); fails while
    /// `fail_while` exists.
    struct Consume: StageKind {
        struct Config: Sendable {
            var source: StageReference
            var file: FilePath
            var failWhile: FilePath?
        }

        static let name = "test.consume"
        static let summary = "Consumes things"
        static let parameters = ParameterSet(
            Parameter<StageReference>.stage("source", outputs: [OutputRequirement("count", .number)], doc: "the producer"),
            Parameter<FilePath>.required("file", doc: "the file to read"),
            Parameter<FilePath?>.optional("fail_while", doc: "fail while this file exists")
        ) { source, file, failWhile in Config(source: source, file: file, failWhile: failWhile) }
        static let counters = [consumed]
        static let execution = StageExecution.chunked(defaultSize: 10)

        static func effects(of config: Config, in workspace: Workspace) -> StageEffects { StageEffects(reads: [config.file.path]) }

        static func run(_ config: Config, in context: StageContext) throws -> StageOutcome {
            if let fail = config.failWhile, FileManager.default.fileExists(atPath: fail.path) {
                throw PipelineError(.data, "told to fail")
            }
            guard FileManager.default.fileExists(atPath: config.file.path) else {
                throw PipelineError(.noInput, "no such file: \(config.file.path)")
            }
            let outputs = try context.outputs(of: config.source)
            return StageOutcome(counts: [consumed: outputs[countOutput] ?? -1])
        }
    }

    /// `test.postgres`: refused on SQLite at validation.
    struct PostgresOnly: StageKind {
        static let name = "test.postgres"
        static let summary = "Needs PostgreSQL"
        static let parameters = ParameterSet(
            Parameter<DatabaseName?>.optional("database", doc: "which database")
        ) { database in database }
        static let counters: [Counter] = []
        static let execution = StageExecution.whole(retryable: false)

        static func check(_ config: DatabaseName?, in workspace: Workspace) -> [ConfigIssue] {
            guard workspace.locator(for: config).dialect == .sqlite else { return [] }
            return [ConfigIssue("test.postgres needs PostgreSQL, \(workspace.describe(config)) is SQLite", at: config == nil ? .uses : .parameter("database"))]
        }

        static func effects(of config: DatabaseName?, in workspace: Workspace) -> StageEffects { StageEffects() }
        static func run(_ config: DatabaseName?, in context: StageContext) throws -> StageOutcome { StageOutcome() }
    }

    /// `test.liar`: reports a counter it never declared.
    struct Liar: StageKind {
        static let name = "test.liar"
        static let summary = "Counts wrong"
        static let parameters = ParameterSet(Parameter<Bool>.optional("x", default: false, doc: "unused")) { $0 }
        static let counters: [Counter] = []
        static let execution = StageExecution.whole()
        static func effects(of config: Bool, in workspace: Workspace) -> StageEffects { StageEffects() }
        static func run(_ config: Bool, in context: StageContext) throws -> StageOutcome {
            StageOutcome(counts: [Counter("invented", unit: "lies", doc: ""): 1])
        }
    }

    static let loader = PipelineLoader(
        catalog: [
            StageDescriptor(Produce.self), StageDescriptor(Consume.self), StageDescriptor(PostgresOnly.self),
            StageDescriptor(Liar.self),
        ])

    static func errors(_ yaml: String) -> [String] {
        do {
            _ = try loader.load(contents: Array(yaml.utf8), file: "p.yaml", baseDirectory: "/srv/p", environment: [:])
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    static func load(_ yaml: String, in folder: String) throws -> Pipeline {
        try loader.load(contents: Array(yaml.utf8), file: "p.yaml", baseDirectory: folder, environment: [:])
    }
}
