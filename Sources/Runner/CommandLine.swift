import Pipelines

/// The parsed command line. Options may stand before or after the file arguments.
struct Invocation {
    enum Command: String, CaseIterable {
        case run, plan, runs, validate, stages, db
        /// A family's own subcommand: `pipeline FAMILY VERB ...` (the family name is in `family`).
        case family
    }

    enum LogFormat: String {
        case text, json
    }

    var command: Command?
    /// For `.family`: the family's name; its verb is the first of `files`.
    var family: String?
    var files: [String] = []
    var params: [(name: String, value: String)] = []
    var dryRun = false
    var verbose = false
    var restart = false
    var rerun = false
    var state: String?
    var database: String?
    var limit = 20
    var logFormat = LogFormat.text
    var help = false
    var version = false
}

struct UsageError: Error {
    var message: String
}

enum ArgumentParser {
    /// `families` are the names that may stand where a command does (`pipeline FAMILY VERB`).
    static func parse(_ arguments: [String], families: [String] = []) throws(UsageError) -> Invocation {
        var invocation = Invocation()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            let (option, inlineValue) = split(argument)
            func value() throws(UsageError) -> String {
                if let inlineValue { return inlineValue }
                guard let next = rest.popFirst() else { throw UsageError(message: "\(option) needs a value") }
                return next
            }
            switch option {
            case "-h", "--help": invocation.help = true
            case "--version": invocation.version = true
            case "--dry-run": invocation.dryRun = true
            case "-v", "--verbose": invocation.verbose = true
            case "--restart": invocation.restart = true
            case "--rerun": invocation.rerun = true
            case "--state": invocation.state = try value()
            case "--database": invocation.database = try value()
            case "--limit":
                let text = try value()
                guard let limit = Int(text), limit > 0 else { throw UsageError(message: "--limit needs a positive number, got '\(text)'") }
                invocation.limit = limit
            case "-p", "--param":
                let pair = try value()
                guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                    throw UsageError(message: "--param needs NAME=VALUE, got '\(pair)'")
                }
                invocation.params.append((String(pair[..<equals]), String(pair[pair.index(after: equals)...])))
            case "--log-format":
                let text = try value()
                guard let format = Invocation.LogFormat(rawValue: text) else {
                    throw UsageError(message: "--log-format must be text or json, got '\(text)'")
                }
                invocation.logFormat = format
            case "--":
                invocation.files.append(contentsOf: rest)
                rest = []
            default:
                if argument.hasPrefix("-") && argument != "-" {
                    throw UsageError(message: "unknown option '\(option)'")
                }
                if invocation.command == nil {
                    if families.contains(argument) {
                        invocation.command = .family
                        invocation.family = argument
                        continue
                    }
                    let builtins = Invocation.Command.allCases.filter { $0 != .family }.map(\.rawValue)
                    guard let command = Invocation.Command(rawValue: argument), command != .family else {
                        let hint = Suggestion.hint(for: argument, among: builtins + families)
                        throw UsageError(message: "unknown command '\(argument)'\(hint)")
                    }
                    invocation.command = command
                } else {
                    invocation.files.append(argument)
                }
            }
        }
        try check(invocation)
        return invocation
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    private static func check(_ invocation: Invocation) throws(UsageError) {
        guard !invocation.help, !invocation.version, let command = invocation.command else { return }
        switch command {
        case .run, .plan:
            guard invocation.files.count == 1 else {
                throw UsageError(message: "\(command.rawValue) takes one pipeline file, got \(invocation.files.count)")
            }
        case .runs:
            if invocation.files.first == "show" {
                guard (2...3).contains(invocation.files.count) else {
                    throw UsageError(message: "runs show takes one run id and, optionally, the pipeline file")
                }
            } else if invocation.files.count > 1 {
                throw UsageError(message: "runs takes at most one pipeline file")
            }
        case .db:
            guard invocation.files == ["migrate"] else { throw UsageError(message: "db takes one subcommand: migrate") }
        case .validate:
            guard !invocation.files.isEmpty else { throw UsageError(message: "validate needs at least one file") }
        case .stages:
            guard invocation.files.count <= 1 else { throw UsageError(message: "stages takes at most one stage kind") }
        case .family:
            guard !invocation.files.isEmpty else {
                throw UsageError(message: "\(invocation.family ?? "this family") needs a subcommand")
            }
        }
        if command != .run {
            if invocation.dryRun { throw UsageError(message: "--dry-run only applies to run") }
            if invocation.restart || invocation.rerun { throw UsageError(message: "--restart and --rerun only apply to run") }
        }
        if !invocation.params.isEmpty, ![.run, .plan, .validate].contains(command) {
            throw UsageError(message: "--param only applies to run, plan and validate")
        }
        if invocation.restart && invocation.rerun { throw UsageError(message: "give --restart or --rerun, not both") }
        if invocation.state != nil, ![.run, .plan, .runs].contains(command) {
            throw UsageError(message: "--state only applies to run, plan and runs")
        }
        if invocation.database != nil, command != .db, command != .family {
            throw UsageError(message: "--database only applies to db migrate and family commands")
        }
    }
}
