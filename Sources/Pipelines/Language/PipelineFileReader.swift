import Foundation

/// Walks one pipeline file's tree, collecting every problem instead of stopping at the first.
struct PipelineFileReader {
    struct Entry {
        var name: String
        var key: YAMLNode
        var value: YAMLNode
    }

    static let topLevelKeys = [
        "name", "description", "params", "database", "databases", "state", "schedule", "notify", "metrics", "traces",
        "stages",
    ]
    static let defaultDatabase = "sqlite:var/store.db"

    let file: String
    let baseDirectory: String
    let catalog: [String: StageDescriptor]
    let kindNames: [String]
    var diagnostics: [Diagnostic] = []
    /// The rules of the stages' own `notify:` blocks, gathered as the stages are read.
    var stageNotifyRules: [NotifyRule] = []

    init(file: String, baseDirectory: String, catalog: [StageDescriptor]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.catalog = Dictionary(catalog.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.kindNames = catalog.map(\.name)
    }

    mutating func report(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(location, message))
    }

    /// Nil when anything in the file is wrong; `diagnostics` then says what.
    mutating func readPipeline(
        _ root: YAMLNode, overrides: [(name: String, value: String)], environment: [String: String],
        slotChoice: SlotChoice = SlotChoice()
    ) -> Pipeline? {
        guard case .mapping(let pairs) = root.value else {
            report(root.location, "a pipeline file must be a mapping with 'name' and 'stages', found \(root.kindDescription)")
            return nil
        }
        let fields = entries(of: pairs, allowed: Self.topLevelKeys, place: "")
        let name = requiredName(fields["name"], missingAt: root.location)
        let schedule = readSchedule(fields["schedule"])
        var environment = environment
        let (slot, scheduledValues) = chooseSlot(
            schedule, slotChoice, declared: Self.declaredParamNames(fields["params"]), environment: &environment,
            at: root.location)
        let params = readParams(
            fields["params"], overrides: scheduledValues + overrides, environment: environment,
            overridesLocation: fields["params"]?.key.location ?? root.location)
        let interpolator = Interpolator(
            params: Dictionary(params.values.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last }),
            environment: environment)
        let description = fields["description"].flatMap { optionalText($0, interpolator) }
        let database = readDatabase(fields["database"], default: Self.defaultDatabase, interpolator)
        let databases = readDatabases(fields["databases"], interpolator)
        let state = database.flatMap { readDatabase(fields["state"], default: Self.defaultState(for: $0), interpolator) }
        // Stages are read against the workspace even when the database line is wrong, so that every problem shows.
        let workspace = Workspace(
            database: database ?? .sqlite(path: ParameterContext(baseDirectory: baseDirectory).resolve("var/store.db")),
            databases: databases, baseDirectory: baseDirectory, workDirectory: Pipeline.workDirectory(of: baseDirectory))
        let stages = readStages(fields["stages"], missingAt: root.location, interpolator, workspace: workspace)
        let notify = readNotify(fields["notify"], stage: nil, interpolator) + stageNotifyRules
        let metricsDirectory = readMetrics(fields["metrics"])
        let traces = readTraces(fields["traces"], interpolator)
        guard diagnostics.isEmpty, let name, let database, let state, let stages else { return nil }
        var pipeline = Pipeline(
            name: name, description: description, file: file, baseDirectory: baseDirectory, params: params.values,
            database: database, databases: databases, state: state, nonIdentifyingParams: params.nonIdentifying,
            schedule: schedule, slot: slot, stages: stages)
        pipeline.notify = notify
        pipeline.metricsDirectory = metricsDirectory
        pipeline.tracesEndpoint = traces
        return pipeline
    }

    /// The names under `params:`, for checking the schedule's params before the values are read.
    static func declaredParamNames(_ entry: Entry?) -> [String] {
        guard let entry, case .mapping(let pairs) = entry.value.value else { return [] }
        return pairs.compactMap { $0.key.scalarText }
    }

    // MARK: - Reading values

    /// The entries of a mapping by key; the first of duplicate keys wins (the parser reports the others).
    /// `place` completes "unknown key 'x'", e.g. " in stage 'load'".
    mutating func entries(of pairs: [(key: YAMLNode, value: YAMLNode)], allowed: [String], place: String)
        -> [String: Entry]
    {
        var result: [String: Entry] = [:]
        for (key, value) in pairs {
            guard let name = key.scalarText else {
                report(key.location, "keys must be scalars, found \(key.kindDescription)")
                continue
            }
            guard allowed.contains(name) else {
                report(key.location, "unknown key '\(name)'\(place)" + Suggestion.hint(for: name, among: allowed))
                continue
            }
            if result[name] == nil { result[name] = Entry(name: name, key: key, value: value) }
        }
        return result
    }

    /// The scalar text as written (a `yes` stays "yes"), or nil after reporting a mapping or sequence.
    mutating func text(_ entry: Entry) -> String? {
        guard let text = entry.value.scalarText else {
            report(entry.value.location, "'\(entry.name)' must be a string, found \(entry.value.kindDescription)")
            return nil
        }
        return text
    }

    /// A required name-like value: present, a scalar, not empty and made of `allowedPunctuation`, letters
    /// and digits.
    mutating func requiredWord(
        _ entry: Entry?, missing: (String, SourceLocation), allowedPunctuation: Set<Character>, what: String
    ) -> String? {
        guard let entry else {
            report(missing.1, missing.0)
            return nil
        }
        guard let text = text(entry) else { return nil }
        guard !text.isEmpty else {
            report(entry.value.location, "'\(entry.name)' must not be empty")
            return nil
        }
        guard text.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || allowedPunctuation.contains($0) }) else {
            let punctuation = allowedPunctuation.sorted().map { "'\($0)'" }.joined(separator: ", ")
            report(entry.value.location, "invalid \(what) '\(text)': use letters, digits and \(punctuation)")
            return nil
        }
        return text
    }

    private mutating func requiredName(_ entry: Entry?, missingAt location: SourceLocation) -> String? {
        requiredWord(
            entry, missing: ("missing required key 'name'", location), allowedPunctuation: ["_", ".", "-"],
            what: "pipeline name")
    }

    /// An optional string with `${...}` substituted; nil when absent, null or wrong.
    mutating func optionalText(_ entry: Entry, _ interpolator: Interpolator) -> String? {
        guard !entry.value.isNull else { return nil }
        return interpolatedText(entry, interpolator)
    }

    /// Nil when the value is not a scalar or a reference in it cannot be resolved.
    mutating func interpolatedText(_ entry: Entry, _ interpolator: Interpolator) -> String? {
        guard text(entry) != nil else { return nil }
        let substitution = interpolator.substitute(entry.value)
        diagnostics += substitution.diagnostics
        return substitution.diagnostics.isEmpty ? substitution.node.scalarText : nil
    }

    // MARK: - Params and database

    /// Declared params in order, with overrides applied; file values are substituted against the environment.
    private mutating func readParams(
        _ entry: Entry?, overrides: [(name: String, value: String)], environment: [String: String],
        overridesLocation: SourceLocation
    ) -> (values: [(name: String, value: String)], nonIdentifying: Set<String>) {
        var declared: [(name: String, node: YAMLNode)] = []
        var nonIdentifying: Set<String> = []
        if let entry, !entry.value.isNull {
            if case .mapping(let pairs) = entry.value.value {
                for (key, value) in pairs {
                    guard let name = key.scalarText else {
                        report(key.location, "param names must be scalars, found \(key.kindDescription)")
                        continue
                    }
                    guard !declared.contains(where: { $0.name == name }) else { continue }
                    guard Interpolator.isValidName(name) else {
                        report(key.location, "invalid param name '\(name)': use letters, digits and '_', not starting with a digit")
                        continue
                    }
                    guard let (node, identifying) = readParamDeclaration(name, value) else { continue }
                    if !identifying { nonIdentifying.insert(name) }
                    declared.append((name, node))
                }
            } else {
                report(entry.value.location, "'params' must be a mapping of names to values, found \(entry.value.kindDescription)")
            }
        }

        var overridden: [String: String] = [:]
        let names = declared.map(\.name)
        for (name, value) in overrides {
            guard names.contains(name) else {
                let declaredList = names.isEmpty ? "this pipeline declares no params" : "declared: \(names.joined(separator: ", "))"
                report(
                    overridesLocation,
                    "unknown param '\(name)' given with --param" + Suggestion.hint(for: name, among: names) + "; \(declaredList)")
                continue
            }
            overridden[name] = value
        }

        let environmentOnly = Interpolator(environment: environment)
        let values = declared.map { name, node in
            if let value = overridden[name] { return (name, value) }
            let substitution = environmentOnly.substitute(node)
            diagnostics += substitution.diagnostics
            return (name, substitution.node.scalarText ?? "")
        }
        return (values, nonIdentifying)
    }

    /// A param is a scalar default, or `{ value: DEFAULT, identifying: false }` for one that does not
    /// change a run's identity.
    private mutating func readParamDeclaration(_ name: String, _ value: YAMLNode) -> (YAMLNode, Bool)? {
        if value.scalarText != nil { return (value, true) }
        guard case .mapping(let pairs) = value.value else {
            report(value.location, "param '\(name)' must be a string or { value, identifying }, found \(value.kindDescription)")
            return nil
        }
        let fields = entries(of: pairs, allowed: ["value", "identifying"], place: " in param '\(name)'")
        guard let valueEntry = fields["value"], valueEntry.value.scalarText != nil else {
            report(value.location, "param '\(name)' needs a scalar 'value'")
            return nil
        }
        var identifying = true
        if let entry = fields["identifying"] {
            do {
                identifying = try Bool.decode(entry.value, in: ParameterContext(baseDirectory: baseDirectory))
            } catch {
                report(entry.value.location, "'identifying': \(error.message)")
            }
        }
        return (valueEntry.value, identifying)
    }

    /// The state store sits beside an embedded SQLite database, else in `var/` beside the pipeline file.
    static func defaultState(for database: DatabaseLocator) -> String {
        guard case .sqlite(let path) = database else { return "sqlite:var/state.db" }
        return "sqlite:" + ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("state.db")
    }

    /// `databases: { vendure: postgres://..., erp: ... }`: extra databases stages may name.
    private mutating func readDatabases(_ entry: Entry?, _ interpolator: Interpolator) -> [String: DatabaseLocator] {
        guard let entry, !entry.value.isNull else { return [:] }
        guard case .mapping(let pairs) = entry.value.value else {
            report(entry.value.location, "'databases' must be a mapping of names to database URLs, found \(entry.value.kindDescription)")
            return [:]
        }
        var databases: [String: DatabaseLocator] = [:]
        for (key, value) in pairs {
            guard let name = key.scalarText else {
                report(key.location, "database names must be scalars, found \(key.kindDescription)")
                continue
            }
            guard databases[name] == nil else { continue }
            guard !value.isNull else {
                report(value.location, "database '\(name)' needs a URL: sqlite:PATH or postgres://user@host/name")
                continue
            }
            guard Interpolator.isValidName(name) else {
                report(key.location, "invalid database name '\(name)': use letters, digits and '_', not starting with a digit")
                continue
            }
            if let locator = readDatabase(Entry(name: name, key: key, value: value), default: "", interpolator) {
                databases[name] = locator
            }
        }
        return databases
    }

    private mutating func readDatabase(_ entry: Entry?, default defaultText: String, _ interpolator: Interpolator)
        -> DatabaseLocator?
    {
        var text = defaultText
        var location = SourceLocation(file: file, line: 1, column: 1)
        if let entry, !entry.value.isNull {
            guard let substituted = interpolatedText(entry, interpolator) else { return nil }
            text = substituted
            location = entry.value.location
        }
        do {
            return try DatabaseLocator.parse(text, relativeTo: baseDirectory)
        } catch {
            report(location, error.message)
            return nil
        }
    }
}
