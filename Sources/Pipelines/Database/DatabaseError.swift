/// An error reported by a database driver, like GRDB's `DatabaseError`: a code to match on, the
/// driver's own details (PostgreSQL SQLSTATE, SQLite extended result code) and the statement it happened in.
///
/// Messages never contain a password: connection text goes through `DatabaseLocator.redact`.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// Could not open the database or log in.
        case connectionFailed
        /// The connection broke while in use (SQLSTATE class 08, server shutdown).
        case connectionLost
        /// Bad SQL or a missing table or column (SQLSTATE class 42, SQLITE_ERROR).
        case syntax
        /// A unique, foreign key, not-null or check constraint failed (SQLSTATE class 23, SQLITE_CONSTRAINT).
        case constraint
        /// A value does not fit its column (SQLSTATE class 22, SQLITE_MISMATCH, SQLITE_TOOBIG).
        case dataException
        /// Another connection holds a write lock (SQLITE_BUSY).
        case busy
        /// A table or row lock could not be taken (SQLITE_LOCKED, SQLSTATE 55P03).
        case locked
        /// The transaction must be retried (SQLSTATE 40001).
        case serializationFailure
        /// The transaction was chosen as a deadlock victim (SQLSTATE 40P01).
        case deadlock
        /// Reading or writing the database's storage failed, or the disk is full.
        case ioFailure
        /// The driver was used wrongly, e.g. a statement on a closed connection.
        case misuse
        case other
    }

    public var code: Code
    public var message: String
    /// PostgreSQL's five-character SQLSTATE.
    public var sqlState: String?
    /// SQLite's extended result code.
    public var resultCode: Int32?
    /// The statement the error happened in, shortened for messages.
    public var statement: String?
    public var cause: (any Error)?

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, resultCode: Int32? = nil,
        statement: String? = nil, cause: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.resultCode = resultCode
        self.statement = statement.map(Self.shorten)
        self.cause = cause
    }

    /// The database refused a write in a read-only transaction (SQLSTATE 25006, SQLITE_READONLY).
    public var isReadOnlyViolation: Bool {
        sqlState == "25006" || resultCode.map { $0 & 0xff == 8 } == true
    }

    public var description: String {
        var text = message
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let resultCode { text += " [SQLite \(resultCode)]" }
        if let statement { text += " in: \(statement)" }
        return text
    }

    /// Whether running the same work again may succeed: a lost connection, a serialization failure,
    /// a deadlock, a busy SQLite database.
    public var isTransient: Bool {
        if code == .connectionLost || code == .busy { return true }
        if let sqlState {
            if sqlState.hasPrefix("08") { return true }
            return ["40001", "40P01", "57P01", "57P02", "57P03"].contains(sqlState)
        }
        return false
    }

    static let statementLimit = 200

    /// One line, at most `statementLimit` characters.
    static func shorten(_ statement: String) -> String {
        let oneLine = statement.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard oneLine.count > statementLimit else { return oneLine }
        return oneLine.prefix(statementLimit) + "…"
    }
}

extension DatabaseError: PipelineErrorConvertible {
    public var pipelineError: PipelineError {
        let pipelineCode: PipelineError.Code =
            switch code {
            case .constraint, .dataException: .data
            case .busy, .locked: .locked
            case .syntax: .config
            case .connectionFailed, .connectionLost, .ioFailure, .serializationFailure, .deadlock, .misuse, .other: .io
            }
        return PipelineError(pipelineCode, description, cause: self, isTransient: isTransient)
    }
}

extension DatabaseError.Code {
    /// The code for a PostgreSQL SQLSTATE.
    public init(sqlState: String) {
        switch sqlState {
        case "40001": self = .serializationFailure
        case "40P01": self = .deadlock
        case "55P03": self = .locked
        case "57P01", "57P02", "57P03": self = .connectionLost
        default:
            switch sqlState.prefix(2) {
            case "08": self = .connectionLost
            case "22": self = .dataException
            case "23": self = .constraint
            case "42": self = .syntax
            case "53", "58": self = .ioFailure
            case "25", "26", "34": self = .misuse
            default: self = .other
            }
        }
    }

    /// The code for an SQLite (extended) result code.
    public init(sqliteResultCode: Int32) {
        switch sqliteResultCode & 0xff {
        case 1: self = .syntax  // SQLITE_ERROR: syntax errors, missing tables and columns
        case 5: self = .busy
        case 6: self = .locked
        case 10, 11, 13, 26, 8, 14: self = .ioFailure  // IOERR, CORRUPT, FULL, NOTADB, READONLY, CANTOPEN
        case 18, 20: self = .dataException  // TOOBIG, MISMATCH
        case 19: self = .constraint
        case 21, 25: self = .misuse  // MISUSE, RANGE
        default: self = .other
        }
    }
}
