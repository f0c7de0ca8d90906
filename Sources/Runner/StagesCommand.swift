import Pipelines
import Stages

/// `pipeline stages [KIND]`: the kinds by family, or everything one kind declares.
struct StagesCommand {
    var invocation: Invocation

    func execute() -> ExitStatus {
        let catalog = StageCatalog.all
        guard let name = invocation.files.first else {
            let width = catalog.map(\.name.count).max() ?? 0
            var lines: [String] = []
            for family in StageCatalog.families {
                lines.append("\(family.name): \(family.summary)")
                lines += family.kinds.map { "  " + $0.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
                lines.append("")
            }
            Console.writeOutput(lines.joined(separator: "\n") + "\nRun `pipeline stages KIND` for its parameters.\n")
            return .success
        }
        guard let kind = catalog.first(where: { $0.name == name }) else {
            Console.writeError(
                "pipeline: unknown stage kind '\(name)'" + Suggestion.hint(for: name, among: catalog.map(\.name)) + "\n")
            return .usage
        }
        Console.writeOutput(Self.describe(kind).joined(separator: "\n") + "\n")
        return .success
    }

    static func describe(_ kind: StageDescriptor) -> [String] {
        var lines = ["\(kind.name): \(kind.summary)", "", "Parameters (under `with:`):"] + describe(kind.parameters)
        let settings = StageSettings.help(for: kind.execution)
        lines += ["", "Settings beside `uses:`:"]
        lines += settings.isEmpty ? ["  none: \(kind.name) does its work whole and is not retried"] : describe(settings)
        if !kind.counters.isEmpty {
            lines += ["", "Counters (in logs, run records and `pipeline runs show`):"]
            lines += kind.counters.map { "  \($0.name) (\($0.unit)): \($0.doc)" }
        }
        if !kind.outputs.isEmpty {
            lines += ["", "Outputs (for later stages: ${stages.ID.outputs.NAME}):"]
            lines += kind.outputs.map { "  \($0.name) (\($0.type.rawValue)): \($0.doc)" }
        }
        if !kind.events.isEmpty {
            lines += ["", "Events:"]
            lines += kind.events.map { "  \($0.name): \($0.doc)" }
        }
        if let schema = kind.schema {
            lines += ["", "Keeps its tables in the pipeline's database: schema family '\(schema.name)' (`pipeline db migrate`)."]
        }
        return lines
    }

    private static func describe(_ parameters: [AnyParameter]) -> [String] {
        parameters.flatMap { parameter in
            var requirement = parameter.isRequired ? "required" : "default \(parameter.defaultDisplay ?? "-")"
            if !parameter.rules.isEmpty { requirement += "; " + parameter.rules.joined(separator: "; ") }
            return [
                "  \(parameter.name) (\(parameter.typeName), \(requirement))", "      \(parameter.doc)",
                "      type: \(parameter.typeDescription)",
            ]
        }
    }
}
