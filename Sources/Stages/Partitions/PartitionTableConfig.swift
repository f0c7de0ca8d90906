import Foundation
import Pipelines

/// A length of calendar time such as `24 months`, `90 days` or `2 years`: counted on the calendar of the
/// stage's time zone.
struct CalendarSpan: ParameterValue, Equatable {
    var count: Int
    var unit: PartitionInterval

    static var typeName: String { "calendar span" }
    static var typeDescription: String { "a number of days, weeks, months, quarters or years, e.g. 24 months" }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> CalendarSpan {
        let text = try node.scalar(expecting: "a span such as 24 months").text
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, let count = Int(parts[0]), (1...100_000).contains(count) else {
            throw ParameterProblem("expected a span such as 24 months or 90 days, found '\(text)'")
        }
        var word = parts[1].lowercased()
        if word.hasSuffix("s") { word.removeLast() }
        guard let unit = PartitionInterval(rawValue: word) else {
            throw ParameterProblem("expected days, weeks, months, quarters or years in '\(text)'")
        }
        return CalendarSpan(count: count, unit: unit)
    }

    var parameterDisplay: String { "\(count) \(unit.rawValue)\(count == 1 ? "" : "s")" }
}

/// What happens to children wholly older than the retention.
enum ExpiryAction: String, ParameterChoice { case detach, drop, archive }

/// One table `partitions.maintain` keeps:
/// `{ table, column, interval, premake: 4, start, retention, on_expire: detach|drop|archive, archive_dir,
/// naming: p5|p4, template }`.
struct PartitionTableConfig: ParameterValue, Equatable {
    var table: SQLName
    var column: String
    var interval: PartitionInterval
    var premake = 4
    var start: DateTime?
    var retention: CalendarSpan?
    var onExpire = ExpiryAction.detach
    var archiveDirectory: FilePath?
    var naming = PartitionNaming.p5
    var template: SQLName?

    static let fieldNames = ["table", "column", "interval", "premake", "start", "retention", "on_expire", "archive_dir", "naming", "template"]

    static var typeName: String { "partitioned table" }
    static var typeDescription: String {
        "{ table, column, interval: day|week|month|quarter|year, premake: 4, start, retention: \"24 months\", on_expire: detach|drop|archive, archive_dir, naming: p5|p4, template }"
    }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> PartitionTableConfig {
        let fields = try ParameterFields(node, allowed: fieldNames, in: context)
        guard let table: SQLName = try fields.value("table") else { throw ParameterProblem("a table needs table: its name") }
        guard let column: String = try fields.value("column"), !column.isEmpty else {
            throw ParameterProblem("\(table.parameterDisplay) needs column: the time column it is partitioned by")
        }
        guard let interval: PartitionInterval = try fields.value("interval") else {
            throw ParameterProblem("\(table.parameterDisplay) needs interval: day, week, month, quarter or year")
        }
        var config = PartitionTableConfig(table: table, column: column, interval: interval)
        if let premake: Int = try fields.value("premake") {
            guard (0...1000).contains(premake) else { throw ParameterProblem("premake must be between 0 and 1000, found \(premake)") }
            config.premake = premake
        }
        config.start = try fields.value("start")
        config.retention = try fields.value("retention")
        config.onExpire = try fields.value("on_expire") ?? .detach
        config.archiveDirectory = try fields.value("archive_dir")
        config.naming = try fields.value("naming") ?? .p5
        config.template = try fields.value("template")
        if config.onExpire == .archive, config.archiveDirectory == nil {
            throw ParameterProblem("on_expire: archive needs archive_dir: the folder for the archives")
        }
        return config
    }

    var parameterDisplay: String {
        var parts = ["table: \(table.parameterDisplay)", "column: \(column)", "interval: \(interval.rawValue)", "premake: \(premake)"]
        if let start { parts.append("start: \(start.parameterDisplay)") }
        if let retention { parts += ["retention: \(retention.parameterDisplay)", "on_expire: \(onExpire.rawValue)"] }
        if let archiveDirectory { parts.append("archive_dir: \(archiveDirectory.parameterDisplay)") }
        parts.append("naming: \(naming.rawValue)")
        if let template { parts.append("template: \(template.parameterDisplay)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
