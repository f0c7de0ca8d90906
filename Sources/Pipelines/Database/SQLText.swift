/// Small operations on SQL text written by users.
public enum SQLText {
    /// The statement without trailing `;` and whitespace, so that it can be wrapped, e.g. in
    /// `COPY (...) TO STDOUT` or `SELECT * FROM (...)`.
    public static func withoutTrailingSemicolons(_ sql: String) -> String {
        var text = Substring(sql)
        while let last = text.last, last == ";" || last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
