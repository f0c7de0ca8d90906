import Foundation
import Pipelines

/// `pipeline runs [FILE]` lists runs; `pipeline runs show ID [FILE]` shows one with its stages.
struct RunsCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        do {
            let locator: DatabaseLocator
            let pipelineName: String?
            switch try stateLocation() {
            case .success(let found): (locator, pipelineName) = found
            case .failure(let status): return status
            }
            guard let store = try StateStore.openIfPresent(locator: locator, logger: Logger(handler: SilentLogHandler()))
            else {
                var message = "pipeline: no runs recorded: no state store at \(locator)"
                if invocation.state == nil && pipelineFile == nil {
                    message += "; give the pipeline file (pipeline runs FILE, pipeline runs show RUN FILE) or --state URL"
                }
                Console.writeError(message + "\n")
                return .noInput
            }
            if isShow { return try show(invocation.files[1], store: store) }
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
            return ExitStatus.reporting(error)
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
        var rows = [["STAGE", "KIND", "STATUS", "ATTEMPTS", "DURATION", "COUNTS"]]
        let stages = try store.stageRuns(runID: run.id)
        for stage in stages {
            rows.append([
                stage.stageID, stage.kind, stage.status.rawValue, String(stage.attempts),
                stage.milliseconds.map { Self.duration(Double($0) / 1000) } ?? "-", Self.counts(stage.counts),
            ])
        }
        text += "\n" + Self.table(rows)
        for stage in stages where !stage.outputs.isEmpty {
            text += "\n\(stage.stageID) outputs:\n"
            for (name, value) in stage.outputs.sorted { text += "  \(name): \(Self.output(value))\n" }
        }
        let events = try store.events(runID: run.id)
        if !events.isEmpty {
            text += "\nevents:\n"
            for event in events { text += "  \(event.raisedAt) \(event.stageID) \(event.name) \(event.payload)\n" }
        }
        let notifications = try store.notifications(runID: run.id)
        if !notifications.isEmpty {
            text += "\nnotifications:\n"
            for item in notifications {
                let tries = item.attempts == 1 ? "1 attempt" : "\(item.attempts) attempts"
                text += "  \(item.name) → \(item.channelDisplay): \(item.status.rawValue), \(tries)"
                text += item.error.map { " (\($0))" } ?? ""
                text += "\n"
            }
        }
        for stage in stages { if let error = stage.error { text += "\n\(stage.stageID): \(error)\n" } }
        Console.writeOutput(text)
        return .success
    }

    /// `read 10 rows, written 10 rows`; `-` when the stage counted nothing.
    static func counts(_ counts: [RecordedCount]) -> String {
        guard !counts.isEmpty else { return "-" }
        return counts.map { count in
            // `products_created 3`, but `read 10 rows`: the unit only where the name does not say it.
            let singular = count.unit.hasSuffix("s") ? String(count.unit.dropLast()) : count.unit
            let named = count.name.hasPrefix(singular) || count.unit.isEmpty
            return named ? "\(count.name) \(count.value)" : "\(count.name) \(count.value) \(count.unit)"
        }.joined(separator: ", ")
    }

    /// A path, a number, JSON, or a file with its digest and size.
    static func output(_ value: RecordedOutput) -> String {
        guard value.type == .file, let sha256 = value.sha256 else { return value.text }
        return "\(value.text) (sha256 \(sha256), \(value.bytes ?? 0) bytes)"
    }

    /// `--state`, else the state store of the pipeline file given, else `var/state.db` here. A pipeline
    /// file that cannot be loaded has had its errors printed; its exit status comes back as the failure.
    private var isShow: Bool { invocation.files.first == "show" }

    /// The pipeline file given: `runs FILE` or `runs show RUN FILE`.
    private var pipelineFile: String? { isShow ? invocation.files.dropFirst(2).first : invocation.files.first }

    private func stateLocation() throws -> Result<(DatabaseLocator, String?), ExitStatus> {
        let here = FileManager.default.currentDirectoryPath
        if let state = invocation.state { return .success((try DatabaseLocator.parse(state, relativeTo: here), nil)) }
        if let file = pipelineFile {
            var loading = invocation
            loading.files = [file]
            // `runs show` takes any run of the store, so it does not narrow to the file's pipeline.
            return PipelineFile.load(loading).map { ($0.state, isShow ? nil : $0.name) }
        }
        return .success((try DatabaseLocator.parse("sqlite:var/state.db", relativeTo: here), nil))
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
