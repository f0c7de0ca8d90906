import Foundation

/// A notification as a plain-text email: headers that cannot be broken by what the event carries (every
/// value is one line, control characters escaped), and the event's summary as the body.
enum MailMessage {
    static func render(_ item: OutboxItem, from: String, to: [String], date: Date = Date()) -> [UInt8] {
        let event = (try? JSONValue.parse(item.body)) ?? .object([])
        func text(_ key: String) -> String? {
            switch event[key] {
            case .string(let value)?: value
            case .number(let value)?: value
            default: nil
            }
        }
        let stage = text("stage").map { " stage \($0)" } ?? ""
        let subject = "[pipeline] \(item.pipeline)\(stage): \(item.name)"
        var lines = [
            "\(item.name) in pipeline \(item.pipeline)\(stage)", "",
            "run:      \(text("run_id") ?? item.runID)",
            "time:     \(text("time") ?? item.createdAt)",
        ]
        if let status = text("status") { lines.append("status:   \(status)") }
        if let error = text("error") { lines.append("error:    \(error)") }
        if let counts = event["counts"], case .object(let members) = counts, !members.isEmpty {
            lines.append("")
            lines.append("counts:")
            lines += members.map { "  \($0.0): \(summary($0.1))" }
        }
        if let payload = event["payload"], payload != .null { lines += ["", "details: \(payload.serialized)"] }
        if let record = text("run_record") { lines += ["", "run record: \(record)"] }
        lines += ["", "event id: \(item.eventID)"]
        let headers = [
            "From: \(from)", "To: \(to.joined(separator: ", "))", "Subject: \(headerValue(subject))",
            "Date: \(rfc5322(date))", "Message-ID: <\(item.eventID.prefix(32)).\(item.channel)@pipeline>",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ]
        let body = lines.map { bodyLine($0) }
        return Array((headers + [""] + body).joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    private static func summary(_ value: JSONValue) -> String {
        guard case .object(let members) = value else { return value.serialized }
        guard !members.isEmpty else { return "-" }
        return members.map { "\($0.0) \($0.1.serialized)" }.joined(separator: ", ")
    }

    /// One line, with control characters (a CR or LF that would start a new header) escaped.
    private static func headerValue(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// Bodies are text lines: a bare CR or LF in a value becomes a line break of its own, other controls a space.
    private static func bodyLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
            .map { headerValue(String($0)) }.joined(separator: "\r\n")
    }

    private static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
