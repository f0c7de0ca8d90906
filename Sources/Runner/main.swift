#if canImport(Glibc)
    import Glibc
#endif
import Pipelines
import Stages

/// Parses the command line, runs the command, and turns its result into the exit status.
func main() -> Int32 {
    let arguments = Array(CommandLine.arguments.dropFirst())
    // Known before parsing, so that a usage error is JSON too.
    Console.errorsAsJSON = zip(arguments, arguments.dropFirst()).contains { $0 == "--log-format" && $1 == "json" }
    let invocation: Invocation
    do {
        invocation = try ArgumentParser.parse(
            arguments, families: StageCatalog.families.map(\.name))
    } catch {
        Console.writeError("pipeline: \(error.message)\nRun `pipeline --help` for usage.\n")
        return ExitStatus.usage.rawValue
    }
    if invocation.version {
        Console.writeOutput(Help.version + "\n")
        return ExitStatus.success.rawValue
    }
    guard let command = invocation.command else {
        Console.writeOutput(Help.general(families: StageCatalog.families))
        return invocation.help ? ExitStatus.success.rawValue : ExitStatus.usage.rawValue
    }
    if invocation.help {
        Console.writeOutput(Help.text(for: command, family: StageCatalog.families.first { $0.name == invocation.family }))
        return ExitStatus.success.rawValue
    }
    let status: ExitStatus =
        switch command {
        case .run: RunCommand(invocation: invocation).execute()
        case .plan: PlanCommand(invocation: invocation).execute()
        case .runs: RunsCommand(invocation: invocation).execute()
        case .db: DatabaseCommand(invocation: invocation).execute()
        case .validate: ValidateCommand(invocation: invocation).execute()
        case .stages: StagesCommand(invocation: invocation).execute()
        case .due: DueCommand(invocation: invocation).execute()
        case .schedule: ScheduleCommand(invocation: invocation).execute()
        case .notify: NotifyCommand(invocation: invocation).execute()
        case .family: FamilyCommandRunner(invocation: invocation).execute()
        }
    return status.rawValue
}

exit(main())
