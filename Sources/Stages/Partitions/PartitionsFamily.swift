import Foundation
import Pipelines

/// Time-partitioned PostgreSQL tables, maintained.
enum PartitionsFamily {
    static let family = StageFamily(
        name: "partitions", summary: "PostgreSQL time-partitioned tables: premake, default rows, retention",
        kinds: [StageDescriptor(PartitionsMaintain.self)],
        commands: [
            FamilyCommand(
                verb: "status", usage: "FILE",
                summary: "per table of the file's partitions.maintain stages: children with bounds and row estimates, the default partition's rows, the premake horizon, and what the next run would do (its DDL)",
                arguments: 1...1, run: status)
        ])

    static func status(_ input: FamilyCommandInput) throws -> String {
        let pipeline: Pipeline
        do {
            pipeline = try PipelineLoader(catalog: StageCatalog.all).load(
                path: input.arguments[0], environment: ProcessInfo.processInfo.environment)
        } catch {
            throw PipelineError(error.code, error.description)
        }
        let planned = PipelineEngine(pipeline: pipeline, logger: input.logger).plan(preview: true).filter { $0.kind == PartitionsMaintain.name }
        guard !planned.isEmpty else {
            throw PipelineError(.config, "\(input.arguments[0]) has no \(PartitionsMaintain.name) stage")
        }
        return planned.map { (["stage \($0.id):"] + $0.preview).joined(separator: "\n") }.joined(separator: "\n\n") + "\n"
    }
}
