import Pipelines
import Stages

struct StagesCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let catalog = StageCatalog.all
        guard let name = invocation.files.first else {
            let width = catalog.map(\.name.count).max() ?? 0
            let lines = catalog.map { $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
            Console.writeOutput(lines.joined(separator: "\n") + "\n\nRun `pipeline stages KIND` for its parameters.\n")
            return .success
        }
        guard let kind = catalog.first(where: { $0.name == name }) else {
            Console.writeError(
                "pipeline: unknown stage kind '\(name)'" + Suggestion.hint(for: name, among: catalog.map(\.name)) + "\n")
            return .usage
        }
        let lines =
            ["\(kind.name): \(kind.summary)", "", "Parameters (under `with:`):"] + Self.describe(kind.parameters)
            + ["", "Settings beside `uses:` (every stage):"] + Self.describe(StageSettings.help)
        Console.writeOutput(lines.joined(separator: "\n") + "\n")
        return .success
    }

    private static func describe(_ parameters: [ParameterHelp]) -> [String] {
        parameters.flatMap { parameter in
            let requirement = parameter.isRequired ? "required" : "default \(parameter.defaultValue ?? "-")"
            return ["  \(parameter.name) (\(parameter.typeName), \(requirement))", "      \(parameter.doc)"]
        }
    }
}
