import Foundation
import Pipelines
import Stages

/// `pipeline db migrate [--database URL]`: brings every family's tables up to this version's.
struct DatabaseCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let logger = Logger(handler: LogOutput.handler(for: invocation))
        do {
            let locator = try Self.database(for: invocation)
            let connection = try locator.connect(logger: logger)
            defer { connection.close() }
            var text = ""
            for family in StageCatalog.families {
                guard let schema = family.schema else { continue }
                let applied = try schema.migrate(connection, logger: logger)
                let version = try schema.currentVersion(connection, logger: logger)
                let versions = applied.map(String.init).joined(separator: ", ")
                text +=
                    applied.isEmpty
                    ? "\(locator): \(schema.name) schema already at version \(version)\n"
                    : "\(locator): applied \(schema.name) schema version\(applied.count == 1 ? "" : "s") \(versions); now at \(version)\n"
            }
            Console.writeOutput(text)
            return .success
        } catch {
            return ExitStatus.reporting(error)
        }
    }

    /// `--database`, else `$DATABASE_URL`, else `sqlite:var/store.db` in the current folder.
    static func database(for invocation: Invocation) throws -> DatabaseLocator {
        let text = invocation.database ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "sqlite:var/store.db"
        return try DatabaseLocator.parse(text, relativeTo: FileManager.default.currentDirectoryPath)
    }
}

/// `pipeline FAMILY VERB ...`: a subcommand a stage family registered.
struct FamilyCommandRunner {
    var invocation: Invocation

    func execute() -> ExitStatus {
        guard let family = StageCatalog.families.first(where: { $0.name == invocation.family }),
            let verb = invocation.files.first
        else { return .usage }
        guard let command = family.command(named: verb) else {
            let verbs = family.commands.map(\.verb)
            let known = verbs.isEmpty ? "it has none" : "it has: \(verbs.joined(separator: ", "))"
            Console.writeError(
                "pipeline: unknown \(family.name) command '\(verb)'" + Suggestion.hint(for: verb, among: verbs)
                    + "; \(known)\nRun `pipeline --help` for usage.\n")
            return .usage
        }
        let arguments = Array(invocation.files.dropFirst())
        guard command.arguments.contains(arguments.count) else {
            Console.writeError("pipeline: usage: pipeline \(family.name) \(command.verb) \(command.usage)\n")
            return .usage
        }
        do {
            let input = FamilyCommandInput(
                arguments: arguments, database: try DatabaseCommand.database(for: invocation),
                logger: Logger(handler: LogOutput.handler(for: invocation)))
            Console.writeOutput(try command.run(input))
            return .success
        } catch {
            return ExitStatus.reporting(error)
        }
    }
}
