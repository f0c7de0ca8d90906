/// A place in a text file: 1-based line and column.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    /// The 1-based line and column of the byte at `offset` of a UTF-8 text; columns count characters,
    /// not UTF-8 continuation bytes.
    public static func lineAndColumn(ofByte offset: Int, in bytes: some Sequence<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }
}

/// One problem found in a pipeline file, reported with every other problem of that file in one go.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// All the problems of a pipeline file; thrown when loading fails.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    /// The code that decides the exit status: `.config` for a broken file, `.noInput` for a missing one.
    public var code: PipelineError.Code

    public init(_ diagnostics: [Diagnostic], code: PipelineError.Code = .config) {
        self.diagnostics = diagnostics
        self.code = code
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

extension String {
    /// The text with control characters shown as escapes (`\x1B`, `\r`, `\u{85}`), so that text from a
    /// file (an ESC in a name) cannot move the cursor, recolour or rewrite a terminal. Line feeds and tabs
    /// stay: messages may span lines.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: Self.isEscaped) else { return self }
        var escaped = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            guard Self.isEscaped(scalar) else {
                escaped.append(scalar)
                continue
            }
            let text =
                switch scalar {
                case "\r": "\\r"
                case "\0": "\\0"
                default:
                    scalar.value < 0x80
                        ? "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
                        : "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                }
            escaped.append(contentsOf: text.unicodeScalars)
        }
        return String(escaped)
    }

    private static func isEscaped(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        // Bidirectional overrides and isolates reorder what follows them on screen.
        case 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    private func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - count)) + self
    }
}
