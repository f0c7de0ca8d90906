import Foundation

/// Writes a scheduled pipeline's systemd units, and puts them in place with `systemctl`.
public enum ScheduleInstaller {
    /// Writes `NAME.service` and `NAME.timer` into `folder` (each complete or not at all); their paths.
    public static func write(_ units: ScheduleUnits, into folder: String) throws -> [String] {
        var paths: [String] = []
        for (suffix, text) in [("service", units.service), ("timer", units.timer)] {
            let path = folder + "/" + units.unitName + "." + suffix
            let file = try AtomicOutputFile(path: path)
            do {
                try file.write(text)
                try file.commit()
            } catch {
                file.discard()
                throw error
            }
            paths.append(path)
        }
        return paths
    }

    /// Where `systemctl` reads units from: `/etc/systemd/system`, or the user's `~/.config/systemd/user`;
    /// below `root` for an image or a test (`systemctl --root`).
    public static func unitFolder(user: Bool, root: String?, environment: [String: String]) -> String {
        if user {
            let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (environment["HOME"] ?? "") + "/.config"
            return config + "/systemd/user"
        }
        return (root ?? "") + "/etc/systemd/system"
    }

    /// Writes the units into the unit folder and enables the timer: `systemctl daemon-reload` and
    /// `enable --now` on the running manager, or `systemctl --root=ROOT enable` offline.
    public static func install(
        _ units: ScheduleUnits, root: String?, environment: [String: String], logger: Logger
    ) throws -> [String] {
        let paths = try write(units, into: unitFolder(user: units.user, root: root, environment: environment))
        let scope = units.user ? ["--user"] : []
        let timer = units.unitName + ".timer"
        if let root {
            try systemctl(["--root=\(root)", "enable", timer], logger: logger)
        } else {
            try systemctl(scope + ["daemon-reload"], logger: logger)
            try systemctl(scope + ["enable", "--now", timer], logger: logger)
        }
        return paths
    }

    private static func systemctl(_ arguments: [String], logger: Logger) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["systemctl"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        do {
            try process.run()
        } catch {
            throw PipelineError(.io, "cannot start systemctl: \(error.localizedDescription)")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile().prefix(4096)
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw PipelineError(.io, "systemctl \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus))" + (text.isEmpty ? "" : ": \(text)"))
        }
        if !text.isEmpty { logger.info("schedule.systemctl", text) }
    }
}
