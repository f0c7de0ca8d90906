import Foundation
import Pipelines

/// `pipeline runs [FILE]` lists runs; `pipeline runs show ID` shows one with its stages.
struct RunsCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        do {
            let (locator, pipelineName) = try stateLocation()
            guard let store = try StateStore.openIfPresent(locator: locator, logger: Logger(handler: SilentLogHandler()))
            else {
                Console.writeError("pipeline: no runs recorded yet (no state store at \(locator))\n")
                return invocation.files.first == "show" ? .noInput : .success
            }
            if invocation.files.first == "show" { return try show(invocation.files[1], store: store) }
            let runs = try store.recentRuns(pipeline: pipelineName, limit: invocation.limit)
            var rows = [["RUN", "PIPELINE", "STATUS", "STARTED", "DURATION", "IDENTITY"]]
            for run in runs {
                let params = run.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                rows.append([
                    run.id, run.pipeline, run.status.rawValue, Self.time(run.startedAt),
                    run.seconds.map(Self.duration) ?? "-", "\(run.identity.prefix(12)) \(params)",
                ])
            }
            Console.writeOutput(Self.table(rows))
            return .success
        } catch {
            let failure = PipelineError.wrapping(error)
            Console.writeError("pipeline: \(failure)\n")
            return ExitStatus(failure)
        }
    }

    private func show(_ id: String, store: StateStore) throws -> ExitStatus {
        guard let run = try store.run(id: id) else {
            Console.writeError("pipeline: no run '\(id)' in \(store.locator)\n")
            return .noInput
        }
        var text = """
            run:       \(run.id)
            pipeline:  \(run.pipeline) (\(run.file))
            identity:  \(run.identity)
            params:    \(run.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            status:    \(run.status.rawValue)
            started:   \(Self.time(run.startedAt))
            duration:  \(run.seconds.map(Self.duration) ?? "-")
            process:   pid \(run.pid) on \(run.host)

            """
        if let resumed = run.resumedFrom { text += "resumed:   from run \(resumed)\n" }
        if let error = run.error { text += "error:     \(error)\n" }
        var rows = [["STAGE", "KIND", "STATUS", "ATTEMPTS", "READ", "WRITTEN", "REJECTED", "SKIPPED", "DURATION"]]
        let stages = try store.stageRuns(runID: run.id)
        for stage in stages {
            rows.append([
                stage.stageID, stage.kind, stage.status.rawValue, String(stage.attempts), String(stage.outcome.read),
                String(stage.outcome.written), String(stage.outcome.rejected), String(stage.outcome.skipped),
                stage.milliseconds.map { Self.duration(Double($0) / 1000) } ?? "-",
            ])
        }
        text += "\n" + Self.table(rows)
        for stage in stages { if let error = stage.error { text += "\n\(stage.stageID): \(error)\n" } }
        Console.writeOutput(text)
        return .success
    }

    /// `--state`, else the state store of the pipeline file given, else `var/state.db` here.
    private func stateLocation() throws -> (DatabaseLocator, String?) {
        let here = FileManager.default.currentDirectoryPath
        if let state = invocation.state { return (try DatabaseLocator.parse(state, relativeTo: here), nil) }
        if let file = invocation.files.first, file != "show" {
            switch PipelineFile.load(invocation) {
            case .success(let pipeline): return (pipeline.state, pipeline.name)
            case .failure(let status): throw PipelineError(status == .noInput ? .noInput : .config, "cannot read \(file)")
            }
        }
        return (try DatabaseLocator.parse("sqlite:var/state.db", relativeTo: here), nil)
    }

    static func time(_ date: Date) -> String { date.formatted(.iso8601) }

    static func duration(_ seconds: TimeInterval) -> String { String(format: "%.2fs", seconds) }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
