/// A script split into its statements the way SQLite and PostgreSQL read it: `;` ends a statement
/// except inside quotes ('text', E'te\'xt', "name", $tag$ body $tag$), comments (`--`, nested `/* */`)
/// or a `BEGIN … END` trigger body. Only statement boundaries and leading keywords are looked at; the
/// database parses the rest.
public struct SQLStatement: Sendable, Equatable {
    /// The statement's text, without the `;` after it.
    public var text: String
    /// The 1-based line and column of its first keyword in the script.
    public var line: Int
    public var column: Int
    /// The first words (up to eight), upper-cased: `["COMMIT"]`, `["ROLLBACK", "TO"]`, `["WITH", "X"]`.
    public var leadingWords: [String]

    /// Ends (or starts) the enclosing transaction: BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK (not
    /// ROLLBACK TO a savepoint), ABORT, PREPARE TRANSACTION.
    public var controlsTransaction: Bool {
        guard let first = leadingWords.first else { return false }
        switch first {
        case "BEGIN", "COMMIT", "END", "ABORT": return true
        case "START", "PREPARE": return leadingWords.dropFirst().first == "TRANSACTION"
        case "ROLLBACK":
            let second = leadingWords.dropFirst().first
            return second != "TO" && !(second == "TRANSACTION" && leadingWords.dropFirst(2).first == "TO")
                && !(second == "WORK" && leadingWords.dropFirst(2).first == "TO")
        default: return false
        }
    }

    /// Starts like a query that only reads: SELECT, WITH, VALUES, TABLE (the database still enforces it).
    public var readsOnly: Bool { ["SELECT", "WITH", "VALUES", "TABLE", "("].contains(leadingWords.first ?? "") }
}

extension SQLText {
    /// The statements of `script`; empty ones (`;;`, comments only) are left out.
    public static func statements(_ script: String) -> [SQLStatement] {
        var splitter = StatementSplitter(Array(script.utf8))
        return splitter.split()
    }

    /// Where the first NUL character sits (1-based line and column), or nil: C APIs would end the text there.
    public static func nulPosition(in text: String) -> (line: Int, column: Int)? {
        guard let offset = text.utf8.firstIndex(of: 0).map({ text.utf8.distance(from: text.utf8.startIndex, to: $0) }) else {
            return nil
        }
        return SourceLocation.lineAndColumn(ofByte: offset, in: text.utf8)
    }
}

private struct StatementSplitter {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var lineStart = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func split() -> [SQLStatement] {
        var statements: [SQLStatement] = []
        while index < bytes.count {
            if let statement = nextStatement() { statements.append(statement) }
        }
        return statements
    }

    private func at(_ offset: Int) -> UInt8 { index + offset < bytes.count ? bytes[index + offset] : 0 }

    private mutating func advance() {
        if bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    private mutating func nextStatement() -> SQLStatement? {
        var start: (offset: Int, line: Int, column: Int)?
        var words: [String] = []
        var word: [UInt8] = []
        // Inside CREATE TRIGGER … BEGIN … END, `;` ends the body's statements, not the trigger.
        var blockDepth = 0
        func endWord() {
            guard !word.isEmpty else { return }
            let text = String(decoding: word, as: UTF8.self).uppercased()
            if words.count < 8 { words.append(text) }
            let isTrigger = words.first == "CREATE" && words.contains("TRIGGER")
            if text == "BEGIN" && isTrigger || text == "CASE" && blockDepth > 0 { blockDepth += 1 }
            if (text == "END") && blockDepth > 0 { blockDepth -= 1 }
            word.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "-") && at(1) == UInt8(ascii: "-") {
                endWord()
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { advance() }
                continue
            }
            if byte == UInt8(ascii: "/") && at(1) == UInt8(ascii: "*") {
                endWord()
                skipBlockComment()
                continue
            }
            if start == nil && !isSpace(byte) && byte != UInt8(ascii: ";") {
                start = (index, line, columnOf(index))
            }
            if byte == UInt8(ascii: ";") { endWord() }
            if byte == UInt8(ascii: ";") && blockDepth == 0 {
                let end = index
                advance()
                if let start { return statement(from: start, to: end, words: words) }
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`") {
                let escapes = byte == UInt8(ascii: "'") && (word == [UInt8(ascii: "E")] || word == [UInt8(ascii: "e")])
                endWord()
                skipQuoted(byte, backslashEscapes: escapes)
                continue
            }
            if byte == UInt8(ascii: "$"), word.isEmpty, let tag = dollarTag() {
                skipDollarQuoted(tag)
                continue
            }
            if isWordByte(byte) {
                word.append(byte)
            } else {
                endWord()
                if byte == UInt8(ascii: "(") && words.isEmpty { words.append("(") }
            }
            advance()
        }
        endWord()
        guard let start else { return nil }
        return statement(from: start, to: bytes.count, words: words)
    }

    private func statement(from start: (offset: Int, line: Int, column: Int), to end: Int, words: [String]) -> SQLStatement {
        SQLStatement(
            text: String(decoding: bytes[start.offset..<end], as: UTF8.self), line: start.line, column: start.column,
            leadingWords: words)
    }

    private func columnOf(_ offset: Int) -> Int {
        bytes[lineStart..<offset].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    private func isWordByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private mutating func skipBlockComment() {
        var depth = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "/") && at(1) == UInt8(ascii: "*") {
                depth += 1
                advance()
                advance()
            } else if bytes[index] == UInt8(ascii: "*") && at(1) == UInt8(ascii: "/") {
                depth -= 1
                advance()
                advance()
                if depth == 0 { return }
            } else {
                advance()
            }
        }
    }

    private mutating func skipQuoted(_ quote: UInt8, backslashEscapes: Bool) {
        advance()
        while index < bytes.count {
            let byte = bytes[index]
            if backslashEscapes && byte == UInt8(ascii: "\\") {
                advance()
                if index < bytes.count { advance() }
                continue
            }
            advance()
            if byte == quote {
                if index < bytes.count && bytes[index] == quote {
                    advance()
                    continue
                }
                return
            }
        }
    }

    /// `$tag$` or `$$` at the current index (not `$1`, a parameter).
    private func dollarTag() -> [UInt8]? {
        var end = index + 1
        while end < bytes.count && bytes[end] != UInt8(ascii: "$") {
            let byte = bytes[end]
            let isTagByte = isWordByte(byte) && !(end == index + 1 && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte))
            guard isTagByte else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        return Array(bytes[index...end])
    }

    private mutating func skipDollarQuoted(_ tag: [UInt8]) {
        for _ in tag { advance() }
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "$") && bytes.count - index >= tag.count
                && bytes[index..<index + tag.count].elementsEqual(tag)
            {
                for _ in tag { advance() }
                return
            }
            advance()
        }
    }
}
