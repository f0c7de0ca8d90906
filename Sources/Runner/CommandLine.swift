import Foundation
import Pipelines

/// The parsed command line. Options may stand before or after the file arguments.
struct Invocation {
    enum Command: String, CaseIterable {
        case run, plan, runs, validate, stages, db, due, schedule, notify
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
    /// The clock the schedule commands use instead of the system's (`--now`), for rehearsals and tests.
    var now: Date?
    var slot: Date?
    var ignoreWindow = false
    /// `run`: let stages go past their safety gates (e.g. inventory apply limits).
    var force = false
    var from: Date?
    /// `schedule show`: how many slots to list (default 10).
    var count: Int?
    var user = false
    var install = false
    var root: String?
    var out: String?
    /// `run` and `due`: a Prometheus textfile written after each run.
    var metricsFile: String?
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
            case "--now": invocation.now = try instant(option, try value())
            case "--slot": invocation.slot = try instant(option, try value())
            case "--from": invocation.from = try instant(option, try value())
            case "--ignore-window": invocation.ignoreWindow = true
            case "--force": invocation.force = true
            case "--count":
                let text = try value()
                guard let count = Int(text), (1...10_000).contains(count) else {
                    throw UsageError(message: "--count needs a number from 1 to 10000, got '\(text)'")
                }
                invocation.count = count
            case "--user": invocation.user = true
            case "--install": invocation.install = true
            case "--root": invocation.root = try value()
            case "--out": invocation.out = try value()
            case "--metrics-file": invocation.metricsFile = try value()
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

    /// A date and time with its offset, as `--now`, `--slot` and `--from` take it.
    private static func instant(_ option: String, _ text: String) throws(UsageError) -> Date {
        guard let value = DateTime(text) else {
            throw UsageError(message: "\(option) needs a date and time with its UTC offset such as 2026-03-08T02:00:00-08:00, got '\(text)'")
        }
        return value.date
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
        case .due:
            guard !invocation.files.isEmpty else { throw UsageError(message: "due needs at least one pipeline file") }
        case .schedule:
            let verbs = ["show", "systemd", "cron"]
            guard let verb = invocation.files.first, verbs.contains(verb) else {
                let given = invocation.files.first.map { " '\($0)'" + Suggestion.hint(for: $0, among: verbs) } ?? ""
                throw UsageError(message: "schedule takes a subcommand: show, systemd or cron, got\(given.isEmpty ? " none" : given)")
            }
            guard invocation.files.count == 2 else { throw UsageError(message: "schedule \(verb) takes one pipeline file") }
        case .notify:
            guard invocation.files.first == "test", invocation.files.count == 2 else {
                throw UsageError(message: "notify takes one subcommand and a pipeline file: notify test FILE")
            }
        case .family:
            guard !invocation.files.isEmpty else {
                throw UsageError(message: "\(invocation.family ?? "this family") needs a subcommand")
            }
        }
        if command != .run {
            if invocation.dryRun { throw UsageError(message: "--dry-run only applies to run") }
            if invocation.restart || invocation.rerun { throw UsageError(message: "--restart and --rerun only apply to run") }
        }
        if !invocation.params.isEmpty, ![.run, .plan, .validate, .due, .schedule, .notify].contains(command) {
            throw UsageError(message: "--param only applies to run, plan, validate, due, schedule and notify")
        }
        if invocation.metricsFile != nil, ![.run, .due].contains(command) {
            throw UsageError(message: "--metrics-file only applies to run and due")
        }
        let verb = command == .schedule ? invocation.files.first : nil
        if invocation.now != nil, ![.run, .due].contains(command), verb != "show" {
            throw UsageError(message: "--now only applies to run, due and schedule show")
        }
        if invocation.slot != nil || invocation.ignoreWindow || invocation.force, command != .run {
            throw UsageError(message: "--slot, --ignore-window and --force only apply to run")
        }
        if invocation.from != nil || invocation.count != nil, verb != "show" {
            throw UsageError(message: "--from and --count only apply to schedule show")
        }
        if invocation.user || invocation.install || invocation.root != nil || invocation.out != nil, verb != "systemd" {
            throw UsageError(message: "--user, --install, --root and --out only apply to schedule systemd")
        }
        if invocation.root != nil && (invocation.user || !invocation.install) {
            throw UsageError(message: "--root is for --install of system units (not --user)")
        }
        if invocation.out != nil && invocation.install { throw UsageError(message: "give --out or --install, not both") }
        if invocation.restart && invocation.rerun { throw UsageError(message: "give --restart or --rerun, not both") }
        if invocation.state != nil, ![.run, .plan, .runs, .due, .schedule].contains(command) {
            throw UsageError(message: "--state only applies to run, plan, runs, due and schedule")
        }
        if invocation.database != nil, command != .db, command != .family {
            throw UsageError(message: "--database only applies to db migrate and family commands")
        }
    }
}
