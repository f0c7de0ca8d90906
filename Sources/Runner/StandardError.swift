#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Pipelines

/// Writes to the process's standard streams without buffering surprises.
enum Console {
    /// The loaded pipeline's secrets: hidden in everything written from then on.
    nonisolated(unsafe) static var secrets: [String] = []

    /// Set once at start from `--log-format json`: then everything on stderr is JSON, one object a line.
    nonisolated(unsafe) static var errorsAsJSON = false

    /// Control characters in `text` (which may come from files) are shown escaped; with `errorsAsJSON`
    /// each line becomes a JSON log object.
    static func writeError(_ text: String) {
        if errorsAsJSON {
            write(JSONLogHandler.lines(of: text, level: .error, event: "error"), to: STDERR_FILENO)
        } else {
            write(text.escapingControlCharacters, to: STDERR_FILENO)
        }
    }
    static func writeOutput(_ text: String) { write(text.escapingControlCharacters, to: STDOUT_FILENO) }
    /// For the text log's own colour and progress-bar sequences: its parts from files are escaped already.
    static func writeErrorSequences(_ text: String) { write(text, to: STDERR_FILENO) }

    static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Colour only on a terminal, and never when NO_COLOR is set to anything non-empty.
    static var colorEnabled: Bool {
        errorIsTerminal && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = secrets.isEmpty ? text : SecretMask.hide(secrets, in: text)
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
