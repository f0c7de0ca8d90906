/// Column names from a file's header (or a JSONL file's first object), checked before any database sees
/// them: both databases must be able to hold them as columns of one table.
public enum ColumnNames {
    /// PostgreSQL's limit of columns in a table (SQLite's default is 2000).
    public static let maximumCount = 1600

    /// Throws a `.data` error at the header's place: too many columns, a control character (NUL, ESC) in
    /// a name, or two names that are the same to SQLite, which ignores ASCII case in column names.
    public static func check(_ names: [String], file: String, line: Int) throws {
        func failure(_ reason: String, column: Int) -> PipelineError {
            PipelineError(.data, "invalid header: \(reason)", location: SourceLocation(file: file, line: line, column: column))
        }
        guard names.count <= maximumCount else {
            throw failure(
                "\(names.count) columns, more than the \(maximumCount) a table can have (PostgreSQL's limit)",
                column: maximumCount + 1)
        }
        var firstByFoldedName: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                throw failure("column \(index + 1) has a control character in its name '\(name)'", column: index + 1)
            }
            let folded = String(
                String.UnicodeScalarView(name.unicodeScalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar(UInt8($0.value + 32)) : $0 }))
            if let first = firstByFoldedName[folded] {
                let same = names[first] == name ? "appears twice" : "and '\(names[first])' differ only in case"
                throw failure(
                    "column name '\(name)' \(same) (columns \(first + 1) and \(index + 1)); a table cannot have both",
                    column: index + 1)
            }
            firstByFoldedName[folded] = index
        }
    }
}
