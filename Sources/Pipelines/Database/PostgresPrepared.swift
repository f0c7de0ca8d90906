import CPostgres

extension PostgresConnection {
    /// The name of `sql` prepared on this session for `query`, preparing it the second time it comes
    /// (one round trip, once): the server then parses and plans a query a store runs for every chunk
    /// once, not each time. Nil for SQL seen once, or past `preparedStatementLimit`.
    func preparedQueryName(_ sql: String, parameterCount: Int) throws -> String? {
        if let name = preparedStatements[sql] { return name }
        guard preparedStatements.count < Self.preparedStatementLimit else { return nil }
        guard queriesSeenOnce.contains(sql) else {
            if queriesSeenOnce.count >= Self.preparedStatementLimit { queriesSeenOnce.removeAll() }
            queriesSeenOnce.insert(sql)
            return nil
        }
        queriesSeenOnce.remove(sql)
        let connection = try openConnection(for: sql)
        let name = newPreparedName()
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        guard PostgresResult.isSuccess(result) else { throw PostgresResult.error(result, connection: connection, statement: sql) }
        preparedStatements[sql] = name
        return name
    }

    /// Forgets the prepared `sql` after the server refused to run its plan (`isStalePlan`).
    func forgetPrepared(_ sql: String) {
        guard let name = preparedStatements.removeValue(forKey: sql), let connection else { return }
        PQclear(PQexec(connection, "DEALLOCATE \(name)"))
    }
}

extension DatabaseError {
    /// PostgreSQL's `cached plan must not change result type`: a prepared query's tables changed the
    /// columns it returns since it was prepared.
    var isStalePlan: Bool { sqlState == "0A000" && message.contains("cached plan") }
}
