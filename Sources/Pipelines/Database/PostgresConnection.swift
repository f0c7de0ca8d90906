import CPostgres
import Foundation

/// A PostgreSQL connection through libpq. Values travel in text format.
public final class PostgresConnection: DatabaseConnection {
    public let locator: DatabaseLocator
    public var dialect: SQLDialect { .postgres }
    private(set) var connection: OpaquePointer?
    /// The context pointer of the notice receiver; retained until the connection is finished.
    private var noticeForwarder: Unmanaged<NoticeForwarder>?
    public private(set) var canceller = StatementCanceller()
    /// The statements `executeBatch` and `query` prepared on this session, by SQL: their names.
    var preparedStatements: [String: String] = [:]
    /// Queries run once, unprepared (`preparedQueryName`).
    var queriesSeenOnce: Set<String> = []
    /// Statements prepared on this session so far, forgotten ones included: the next one's name.
    var preparedNames = 0

    /// A name for a statement to prepare, never given before on this session (a statement forgotten
    /// inside a failed transaction may still be on the server).
    func newPreparedName() -> String {
        preparedNames += 1
        return "pipeline_\(preparedNames)"
    }

    /// Connects with `application_name` defaulting to `applicationName` (`pipeline RUN-ID` for a run's
    /// sessions), so that a server's operators, and a later run, can tell our sessions apart in
    /// `pg_stat_activity`.
    private static func open(_ url: String, applicationName: String) -> OpaquePointer? {
        let keywords = ["dbname", "fallback_application_name"]
        let values = [url, applicationName]
        return keywords.withCStrings { keywordPointers in
            values.withCStrings { valuePointers in PQconnectdbParams(keywordPointers, valuePointers, 1) }
        }
    }

    public static let defaultApplicationName = "pipeline"

    public init(url: String, logger: Logger, applicationName: String = PostgresConnection.defaultApplicationName) throws {
        locator = .postgres(url: url)
        guard let connection = Self.open(url, applicationName: applicationName) else {
            throw DatabaseError(.connectionFailed, "cannot connect to \(locator.redacted): out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let reason = Self.scrub(String(cString: PQerrorMessage(connection)), url: url)
            PQfinish(connection)
            throw DatabaseError(
                .connectionFailed, "cannot connect to \(locator.redacted): \(PostgresResult.trimmed(reason))")
        }
        self.connection = connection
        canceller = StatementCanceller(postgres: connection)
        let forwarder = Unmanaged.passRetained(NoticeForwarder(logger: logger))
        noticeForwarder = forwarder
        PQsetNoticeReceiver(
            connection,
            { context, result in
                guard let context, let result else { return }
                Unmanaged<NoticeForwarder>.fromOpaque(context).takeUnretainedValue().forward(result)
            }, forwarder.toOpaque())
        logger.debug("database.open", "connected to \(locator.redacted)")
    }

    deinit { close() }

    public func close() {
        canceller.invalidate()
        if let connection { PQfinish(connection) }
        connection = nil
        noticeForwarder?.release()
        noticeForwarder = nil
    }

    /// Removes the URL's password (and the URL itself, in case libpq quotes it) from a libpq message.
    static func scrub(_ message: String, url: String) -> String {
        SecretMask.hide(SecretMask.secrets(ofLocator: url), in: message.replacingOccurrences(of: url, with: SecretMask.locator(url)))
    }

    func openConnection(for sql: String?) throws -> OpaquePointer {
        guard let connection else { throw DatabaseError(.misuse, "the PostgreSQL connection is closed", statement: sql) }
        return connection
    }

    /// Runs `sql` and returns its result when it succeeded; throws its error otherwise.
    private func run<R>(_ sql: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        let connection = try openConnection(for: sql)
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PostgresResult.isSuccess(result), let result else {
            throw PostgresResult.error(result, connection: connection, statement: sql)
        }
        return try body(result)
    }

    public func executeScript(_ sql: String) throws {
        if sql.utf8.contains(0) {
            throw DatabaseError(.misuse, "the SQL holds a NUL character; the statements after it would be lost", statement: sql)
        }
        try run(sql) { _ in }
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int64 {
        let connection = try openConnection(for: sql)
        let result = try PostgresParameters.with(parameters, statement: sql) { count, values in
            PQexecParams(connection, sql, count, nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        guard PostgresResult.isSuccess(result), let result else {
            throw PostgresResult.error(result, connection: connection, statement: sql)
        }
        return PQcmdTuples(result).flatMap { Int64(String(cString: $0)) } ?? 0
    }

    public func query(
        _ sql: String, _ parameters: [SQLValue], columns: ([ColumnInfo]) throws -> Void,
        row: (any RowView) throws -> Void
    ) throws {
        let prepared = try preparedQueryName(sql, parameterCount: parameters.count)
        do {
            try query(sql, prepared: prepared, parameters, columns: columns, row: row)
        } catch let error as DatabaseError where prepared != nil && error.isStalePlan {
            // Outside a transaction it can run again unprepared; inside one, the error has ended it.
            forgetPrepared(sql)
            guard let connection, PQtransactionStatus(connection) == PQTRANS_IDLE else { throw error }
            try query(sql, prepared: nil, parameters, columns: columns, row: row)
        }
    }

    private func query(
        _ sql: String, prepared: String?, _ parameters: [SQLValue], columns: ([ColumnInfo]) throws -> Void,
        row: (any RowView) throws -> Void
    ) throws {
        let connection = try openConnection(for: sql)
        let sent = try PostgresParameters.with(parameters, statement: sql) { count, values in
            if let prepared { PQsendQueryPrepared(connection, prepared, count, values, nil, nil, 0) }
            else { PQsendQueryParams(connection, sql, count, nil, values, nil, nil, 0) }
        }
        guard sent == 1 else { throw PostgresResult.error(nil, connection: connection, statement: sql) }
        // Without single-row mode libpq would collect the whole result in memory.
        guard PQsetSingleRowMode(connection) == 1 else {
            drainResults(connection)
            throw DatabaseError(.misuse, "cannot switch to single-row mode", statement: sql)
        }
        var kinds: [ValueKind]?
        var failure: DatabaseError?
        do {
            while let result = PQgetResult(connection) {
                defer { PQclear(result) }
                let status = PQresultStatus(result)
                guard status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
                    if failure == nil { failure = PostgresResult.error(result, connection: connection, statement: sql) }
                    continue
                }
                if kinds == nil {
                    let columnInfo = PostgresResult.columns(result)
                    kinds = columnInfo.map { $0.kind ?? .text }
                    try columns(columnInfo)
                }
                if status == PGRES_SINGLE_TUPLE, let kinds {
                    try row(PostgresResultRow(result: result, kinds: kinds))
                }
            }
        } catch {
            cancelAndDrain(connection)
            throw error
        }
        if let failure { throw failure }
    }

    func drainResults(_ connection: OpaquePointer) {
        while let result = PQgetResult(connection) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH { break }
        }
    }

    /// Stops a running query on the server and reads what it already sent, so the connection can be reused.
    func cancelAndDrain(_ connection: OpaquePointer) {
        if let cancel = PQgetCancel(connection) {
            var errorText = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &errorText, Int32(errorText.count))
            PQfreeCancel(cancel)
        }
        drainResults(connection)
    }

    public func begin() throws { try executeScript("BEGIN") }

    public func commit() throws {
        try run("COMMIT") { result in
            // COMMIT of a transaction that already failed succeeds with the tag ROLLBACK.
            if let tag = PQcmdStatus(result), String(cString: tag) == "ROLLBACK" {
                throw DatabaseError(
                    .other, "the transaction was rolled back because a statement in it failed", statement: "COMMIT")
            }
        }
    }

    public func rollback() throws { try executeScript("ROLLBACK") }

    public func beginReadOnly() throws { try executeScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }

    public func endReadOnly() throws { try rollback() }

    public func tableColumns(_ table: SQLName) throws -> [String]? {
        let sql = """
            SELECT column_name::text FROM information_schema.columns
            WHERE table_schema = COALESCE($1::text, current_schema()) AND table_name = $2
            ORDER BY ordinal_position
            """
        let schema: SQLValue = table.parts.count == 2 ? .text(table.parts[0]) : .null
        var names: [String] = []
        try query(sql, [schema, .text(table.name)], columns: { _ in }, row: { names.append($0.string(0) ?? "") })
        return names.isEmpty ? nil : names
    }

    public func columnTypes(of table: SQLName) throws -> [String: String] {
        var types: [String: String] = [:]
        try query(
            """
            SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
            """, [.text(table.quoted)], columns: { _ in }, row: { types[$0.string(0) ?? ""] = $0.string(1) ?? "" })
        return types
    }

    public func bulkInsert(into table: SQLName, columns: [String]) throws -> any BulkInserter {
        let sql = "COPY \(table.quoted) (\(columns.map(SQLName.quote).joined(separator: ","))) FROM STDIN"
        let connection = try openConnection(for: sql)
        guard PQtransactionStatus(connection) == PQTRANS_INTRANS else {
            throw DatabaseError(.misuse, "bulk insert needs an open transaction (call begin() first)", statement: sql)
        }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COPY_IN else {
            throw PostgresResult.error(result, connection: connection, statement: sql)
        }
        return PostgresCopyInserter(connection: self, statement: sql, columnCount: columns.count)
    }

    public func bulkUpsert(into table: SQLName, columns: [String], key: [String]) throws -> any BulkInserter {
        try PostgresUpsertInserter(connection: self, table: table, columns: columns, key: key)
    }

    public func uniqueKeys(of table: SQLName) throws -> [[String]] {
        var keys: [[String]] = []
        try query(
            """
            SELECT string_agg(a.attname::text, chr(31) ORDER BY k.ordinal) FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k (attnum, ordinal)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
            GROUP BY i.indexrelid ORDER BY i.indexrelid
            """, [.text(table.quoted)], columns: { _ in }
        ) { row in
            if let names = row.string(0) { keys.append(names.split(separator: "\u{1F}").map(String.init)) }
        }
        return keys
    }
}

/// The notice receiver's context: forwards server notices (RAISE NOTICE, warnings) to the logger.
final class NoticeForwarder {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func forward(_ result: OpaquePointer) {
        let severity = PostgresResult.field(result, cpq_diag_severity_nonlocalized()) ?? "NOTICE"
        let level: LogLevel =
            switch severity {
            case "WARNING": .warning
            case "NOTICE": .notice
            case "INFO": .info
            default: .debug
            }
        let message =
            PostgresResult.field(result, cpq_diag_message_primary())
            ?? PQresultErrorMessage(result).map { PostgresResult.trimmed(String(cString: $0)) } ?? ""
        logger.log(level, "database.notice", message)
    }
}

/// Text-format parameters for libpq as C strings that live for one call.
enum PostgresParameters {
    static func with<R>(
        _ parameters: [SQLValue], statement: String,
        _ body: (Int32, [UnsafePointer<CChar>?]) throws -> R
    ) throws -> R {
        var strings: [UnsafeMutablePointer<CChar>?] = []
        strings.reserveCapacity(parameters.count)
        defer { strings.forEach { free($0) } }
        for value in parameters {
            switch value {
            case .null:
                strings.append(nil)
            case .integer(let number):
                strings.append(strdup(String(number)))
            case .text(let text):
                guard !text.utf8.contains(0) else {
                    throw DatabaseError(.dataException, "PostgreSQL text cannot contain a NUL character", statement: statement)
                }
                strings.append(strdup(text))
            case .blob(let bytes):
                strings.append(strdup(hexBytea(bytes)))
            }
        }
        return try body(Int32(parameters.count), strings.map { $0.map { UnsafePointer($0) } })
    }

    static func hexBytea(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes, prefix: "\\x") }
}

extension Array where Element == String {
    /// The strings as a NULL-terminated array of C strings, valid inside `body`.
    fileprivate func withCStrings<R>(_ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { $0.map { UnsafePointer($0) } } + [nil])
    }
}
