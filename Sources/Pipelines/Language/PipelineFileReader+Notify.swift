import Foundation

extension PipelineFileReader {
    static let notifyRuleKeys = ["on", "webhook", "email", "command"]
    static let webhookKeys = ["url", "secret_env", "timeout", "retries"]
    static let emailKeys = ["to", "from", "smtp", "username_env", "password_env", "timeout", "retries"]
    static let commandKeys = ["run", "timeout", "retries"]
    static let metricsKeys = ["textfile"]
    static let tracesKeys = ["endpoint"]

    /// The event names a `notify:` may name: the engine's, and those the kinds declare (for a stage's own
    /// block, its kind's).
    func notifiableEvents(of descriptor: StageDescriptor?) -> [String] {
        guard let descriptor else {
            let declared = catalog.values.flatMap { $0.events.map(\.name) }
            return RunEvents.runLevel + RunEvents.stageLevel + Array(Set(declared)).sorted()
        }
        return RunEvents.stageLevel + descriptor.events.map(\.name)
    }

    /// `notify: [{ on: [EVENT, ...], webhook: {...} | email: {...} | command: {...} }]`, at the top of the
    /// file or in a stage (`stage` set: only that stage's events).
    mutating func readNotify(
        _ entry: Entry?, stage: (id: String, descriptor: StageDescriptor)?, _ interpolator: Interpolator
    ) -> [NotifyRule] {
        guard let entry, !entry.value.isNull else { return [] }
        guard case .sequence = entry.value.value else {
            report(entry.value.location, "'notify' must be a list such as [{ on: [run.failed], webhook: { url: \"https://...\" } }], found \(entry.value.kindDescription)")
            return []
        }
        let substitution = interpolator.substitute(entry.value)
        diagnostics += substitution.diagnostics
        guard substitution.diagnostics.isEmpty, case .sequence(let substituted) = substitution.node.value else { return [] }
        let allowedEvents = notifiableEvents(of: stage?.descriptor)
        return substituted.compactMap { readNotifyRule($0, allowedEvents: allowedEvents, stageID: stage?.id) }
    }

    private mutating func readNotifyRule(_ node: YAMLNode, allowedEvents: [String], stageID: String?) -> NotifyRule? {
        guard case .mapping(let pairs) = node.value else {
            report(node.location, "each 'notify' entry must be a mapping with 'on' and one of 'webhook', 'email', 'command', found \(node.kindDescription)")
            return nil
        }
        let fields = entries(of: pairs, allowed: Self.notifyRuleKeys, place: " in 'notify'")
        let events = readEventNames(fields["on"], allowed: allowedEvents, missingAt: node.location)
        let channels = ["webhook", "email", "command"].compactMap { fields[$0] }.sorted {
            ($0.key.location.line, $0.key.location.column) < ($1.key.location.line, $1.key.location.column)
        }
        guard channels.count == 1, let channelEntry = channels.first else {
            report(channels.count > 1 ? channels[1].key.location : node.location, "a 'notify' entry takes exactly one of 'webhook', 'email' and 'command'")
            return nil
        }
        let channel: NotifyChannel? =
            switch channelEntry.name {
            case "webhook": readWebhook(channelEntry)
            case "email": readEmail(channelEntry)
            default: readCommand(channelEntry)
            }
        guard let events, let channel else { return nil }
        return NotifyRule(events: events, channel: channel, stageID: stageID, location: node.location)
    }

    private mutating func readEventNames(_ entry: Entry?, allowed: [String], missingAt location: SourceLocation) -> [String]? {
        guard let entry else {
            report(location, "missing required key 'on' in 'notify': the events to send, e.g. on: [run.failed]")
            return nil
        }
        var items: [YAMLNode] = [entry.value]
        if case .sequence(let nodes) = entry.value.value { items = nodes }
        var names: [String] = []
        for item in items {
            guard let name = item.scalarText, allowed.contains(name) else {
                let found = item.scalarText.map { "'\($0)'" } ?? item.kindDescription
                report(item.location, "unknown event \(found) in 'on'; events here: \(allowed.joined(separator: ", "))" + (item.scalarText.map { Suggestion.hint(for: $0, among: allowed) } ?? ""))
                return nil
            }
            if !names.contains(name) { names.append(name) }
        }
        guard !names.isEmpty else {
            report(entry.value.location, "'on' needs at least one event")
            return nil
        }
        return names
    }

    private mutating func channelFields(_ entry: Entry, allowed: [String], example: String) -> [String: Entry]? {
        guard case .mapping(let pairs) = entry.value.value else {
            report(entry.value.location, "'\(entry.name)' must be a mapping such as \(example), found \(entry.value.kindDescription)")
            return nil
        }
        return entries(of: pairs, allowed: allowed, place: " in '\(entry.name)'")
    }

    private mutating func timeoutAndRetries(_ fields: [String: Entry], defaultTimeout: Duration) -> (Duration, Int)? {
        let context = ParameterContext(baseDirectory: baseDirectory)
        let timeout = fields["timeout"].map { decodeValue(Duration.self, $0, context) } ?? defaultTimeout
        let retries = fields["retries"].map { decodeValue(Int.self, $0, context) } ?? 5
        if let timeout, timeout <= .zero || timeout > .seconds(300), let place = fields["timeout"] {
            report(place.value.location, "'timeout' must be more than 0s and at most 5m")
            return nil
        }
        if let retries, !(0...20).contains(retries), let place = fields["retries"] {
            report(place.value.location, "'retries' must be from 0 to 20, found \(retries)")
            return nil
        }
        guard let timeout, let retries else { return nil }
        return (timeout, retries)
    }

    private mutating func environmentName(_ entry: Entry?) -> String?? {
        guard let entry else { return .some(nil) }
        guard let name = text(entry) else { return nil }
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
            name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
        else {
            report(entry.value.location, "'\(entry.name)' names an environment variable (letters, digits, '_'), found '\(name)'")
            return nil
        }
        return .some(name)
    }

    private mutating func readWebhook(_ entry: Entry) -> NotifyChannel? {
        guard let fields = channelFields(entry, allowed: Self.webhookKeys, example: "{ url: \"https://...\", secret_env: HOOK_SECRET }")
        else { return nil }
        guard let urlEntry = fields["url"] else {
            report(entry.value.location, "missing required key 'url' in 'webhook'")
            return nil
        }
        let url = decodeValue(WebURL.self, urlEntry, ParameterContext(baseDirectory: baseDirectory))
        let secretEnv = environmentName(fields["secret_env"])
        guard let limits = timeoutAndRetries(fields, defaultTimeout: .seconds(10)), let url, let secretEnv else { return nil }
        return .webhook(.init(url: url, secretEnv: secretEnv, timeout: limits.0, retries: limits.1))
    }

    private mutating func readEmail(_ entry: Entry) -> NotifyChannel? {
        guard let fields = channelFields(entry, allowed: Self.emailKeys, example: "{ to: [ops@example.com], from: pipeline@example.com, smtp: \"smtp://mail.example.com:587\" }")
        else { return nil }
        var recipients: [String] = []
        if let toEntry = fields["to"] {
            var items: [YAMLNode] = [toEntry.value]
            if case .sequence(let nodes) = toEntry.value.value { items = nodes }
            for item in items {
                guard let address = emailAddress(item) else { return nil }
                recipients.append(address)
            }
        }
        guard !recipients.isEmpty else {
            report(fields["to"]?.value.location ?? entry.value.location, "'email' needs 'to': at least one address")
            return nil
        }
        guard let fromEntry = fields["from"], let from = emailAddress(fromEntry.value) else {
            if fields["from"] == nil { report(entry.value.location, "missing required key 'from' in 'email'") }
            return nil
        }
        guard let serverEntry = fields["smtp"], let server = text(serverEntry) else {
            if fields["smtp"] == nil { report(entry.value.location, "missing required key 'smtp' in 'email', e.g. smtp: \"smtp://mail.example.com:587\"") }
            return nil
        }
        guard let components = URLComponents(string: server), ["smtp", "smtps"].contains(components.scheme?.lowercased() ?? ""),
            !(components.host ?? "").isEmpty, components.user == nil, components.password == nil
        else {
            report(serverEntry.value.location, "'smtp' must be smtp://HOST[:PORT] or smtps://HOST[:PORT], with credentials in username_env/password_env, found '\(SecretMask.locator(server))'")
            return nil
        }
        let usernameEnv = environmentName(fields["username_env"])
        let passwordEnv = environmentName(fields["password_env"])
        guard let limits = timeoutAndRetries(fields, defaultTimeout: .seconds(30)), let usernameEnv, let passwordEnv else { return nil }
        return .email(
            .init(
                to: recipients, from: from, server: server, usernameEnv: usernameEnv, passwordEnv: passwordEnv,
                timeout: limits.0, retries: limits.1))
    }

    /// A bare address (`ops@example.com`): no display name, nothing that could end a header line.
    private mutating func emailAddress(_ node: YAMLNode) -> String? {
        let forbidden = Set("<>,;:\"()[]\\ ".unicodeScalars)
        guard let text = node.scalarText, text.utf8.count <= 254, text.split(separator: "@", omittingEmptySubsequences: false).count == 2,
            !text.hasPrefix("@"), !text.hasSuffix("@"),
            !text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || forbidden.contains($0) })
        else {
            report(node.location, "expected an email address such as ops@example.com, found \(node.scalarText.map { "'\($0)'" } ?? node.kindDescription)")
            return nil
        }
        return text
    }

    private mutating func readCommand(_ entry: Entry) -> NotifyChannel? {
        var fields: [String: Entry] = [:]
        var argumentsNode = entry.value
        if case .mapping = entry.value.value {
            guard let read = channelFields(entry, allowed: Self.commandKeys, example: "{ run: [/usr/local/bin/page-ops, --team, data] }")
            else { return nil }
            fields = read
            guard let run = read["run"] else {
                report(entry.value.location, "missing required key 'run' in 'command': the program and its arguments")
                return nil
            }
            argumentsNode = run.value
        }
        var items: [YAMLNode] = [argumentsNode]
        if case .sequence(let nodes) = argumentsNode.value { items = nodes }
        var arguments: [String] = []
        for item in items {
            guard let text = item.scalarText, !text.isEmpty, !text.contains("\0") else {
                report(item.location, "a command is a program and its arguments as a list of strings, found \(item.kindDescription)")
                return nil
            }
            arguments.append(text)
        }
        guard let program = arguments.first else {
            report(argumentsNode.location, "a command needs a program to run")
            return nil
        }
        let resolved = program.contains("/") ? ParameterContext(baseDirectory: baseDirectory).resolve(program) : program
        guard let limits = timeoutAndRetries(fields, defaultTimeout: .seconds(30)) else { return nil }
        return .command(
            .init(arguments: [resolved] + arguments.dropFirst(), directory: baseDirectory, timeout: limits.0, retries: limits.1))
    }

    /// `metrics: { textfile: DIR }`: the folder node_exporter's textfile collector reads.
    mutating func readMetrics(_ entry: Entry?) -> String? {
        guard let entry, !entry.value.isNull,
            let fields = channelFields(entry, allowed: Self.metricsKeys, example: "{ textfile: /var/lib/node_exporter/textfile }")
        else { return nil }
        guard let folder = fields["textfile"], let path = text(folder), !path.isEmpty else {
            report(entry.value.location, "missing required key 'textfile' in 'metrics': the folder node_exporter reads")
            return nil
        }
        return ParameterContext(baseDirectory: baseDirectory).resolve(path)
    }

    /// `traces: { endpoint: URL }`: where the run's trace goes over OTLP/HTTP (the OpenTelemetry
    /// environment variables do the same without it).
    mutating func readTraces(_ entry: Entry?, _ interpolator: Interpolator) -> WebURL? {
        guard let entry, !entry.value.isNull,
            let fields = channelFields(entry, allowed: Self.tracesKeys, example: "{ endpoint: \"http://collector:4318/v1/traces\" }")
        else { return nil }
        guard let endpoint = fields["endpoint"] else {
            report(entry.value.location, "missing required key 'endpoint' in 'traces': the collector's OTLP/HTTP traces URL")
            return nil
        }
        let substitution = interpolator.substitute(endpoint.value)
        diagnostics += substitution.diagnostics
        guard substitution.diagnostics.isEmpty else { return nil }
        return decodeValue(
            WebURL.self, Entry(name: endpoint.name, key: endpoint.key, value: substitution.node),
            ParameterContext(baseDirectory: baseDirectory))
    }
}
