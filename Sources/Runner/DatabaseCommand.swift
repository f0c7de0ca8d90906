import Foundation
import Pipelines
import Stages

/// `pipeline db migrate [--database URL]`: brings the store schema up to this version's.
struct DatabaseCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let logger = Logger(handler: LogOutput.handler(for: invocation))
        do {
            let text = invocation.database ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "sqlite:var/store.db"
            let locator = try DatabaseLocator.parse(text, relativeTo: FileManager.default.currentDirectoryPath)
            let connection = try locator.connect(logger: logger)
            defer { connection.close() }
            let runner = MigrationRunner(connection: connection, logger: logger)
            let applied = try runner.migrate(family: StoreSchema.family, migrations: StoreSchema.migrations)
            let version = try runner.currentVersion(family: StoreSchema.family)
            Console.writeOutput(
                applied.isEmpty
                    ? "\(locator): store schema already at version \(version)\n"
                    : "\(locator): applied store schema version\(applied.count == 1 ? "" : "s") \(applied.map(String.init).joined(separator: ", ")); now at \(version)\n")
            return .success
        } catch {
            let failure = PipelineError.wrapping(error)
            Console.writeError("pipeline: \(failure)\n")
            return ExitStatus(failure)
        }
    }
}
