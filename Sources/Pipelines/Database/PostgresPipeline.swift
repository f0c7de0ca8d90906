import CPostgres

extension PostgresConnection {
    /// Statements sent before their results are read: each result is a few dozen bytes, so the server
    /// never blocks writing results the client is not reading yet while the client still sends.
    static let pipelineDepth = 256

    /// Statements `executeBatch` prepares on a session at most; others go unprepared.
    static let preparedStatementLimit = 200

    /// Sends the statements `pipelineDepth` at a time in libpq's pipeline mode: one round trip for each
    /// group, not one for each statement. Each SQL text is prepared on the session the first time it
    /// comes, so the server parses and plans it once (batches repeat a few statements many times).
    public func executeBatch(_ statements: [BoundStatement]) throws -> Int64 {
        guard statements.count > 1 else { return try statements.first.map { try execute($0.sql, $0.parameters) } ?? 0 }
        var changed: Int64 = 0
        var start = 0
        while start < statements.count {
            let end = min(start + Self.pipelineDepth, statements.count)
            changed += try pipeline(statements[start..<end])
            start = end
        }
        return changed
    }

    /// Sends `statements`, then a sync, then reads every result up to the sync's. The first failure is
    /// thrown (the server skips the statements after it up to the sync).
    private func pipeline(_ statements: ArraySlice<BoundStatement>) throws -> Int64 {
        let connection = try openConnection(for: statements.first?.sql)
        guard PQenterPipelineMode(connection) == 1 else {
            throw PostgresResult.error(nil, connection: connection, statement: statements.first?.sql)
        }
        // The results to read, in order: a statement's, or a preparation's (its name).
        var expected: [(sql: String, preparing: String?)] = []
        var preparing: [String: String] = [:]
        var failure: DatabaseError?
        var thrown: (any Error)?
        for statement in statements {
            var name = preparedStatements[statement.sql] ?? preparing[statement.sql]
            if name == nil, preparedStatements.count + preparing.count < Self.preparedStatementLimit {
                let newName = newPreparedName()
                guard PQsendPrepare(connection, newName, statement.sql, Int32(statement.parameters.count), nil) == 1 else {
                    failure = PostgresResult.error(nil, connection: connection, statement: statement.sql)
                    break
                }
                expected.append((statement.sql, newName))
                preparing[statement.sql] = newName
                name = newName
            }
            do {
                let status = try PostgresParameters.with(statement.parameters, statement: statement.sql) { count, values in
                    if let name { PQsendQueryPrepared(connection, name, count, values, nil, nil, 0) }
                    else { PQsendQueryParams(connection, statement.sql, count, nil, values, nil, nil, 0) }
                }
                guard status == 1 else {
                    failure = PostgresResult.error(nil, connection: connection, statement: statement.sql)
                    break
                }
            } catch {
                thrown = error
                break
            }
            expected.append((statement.sql, nil))
        }
        if PQpipelineSync(connection) != 1, failure == nil {
            failure = PostgresResult.error(nil, connection: connection, statement: statements.first?.sql)
        }
        var changed: Int64 = 0
        for item in expected {
            // One result, ended by NULL.
            while let result = PQgetResult(connection) {
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
                    if let name = item.preparing {
                        preparedStatements[item.sql] = name
                    } else {
                        changed += PQcmdTuples(result).flatMap { Int64(String(cString: $0)) } ?? 0
                    }
                case PGRES_PIPELINE_ABORTED:
                    break
                default:
                    if failure == nil { failure = PostgresResult.error(result, connection: connection, statement: item.sql) }
                }
            }
        }
        // Up to the sync's result; nothing follows it.
        while let result = PQgetResult(connection) {
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if PQexitPipelineMode(connection) != 1, failure == nil {
            failure = PostgresResult.error(nil, connection: connection, statement: statements.first?.sql)
        }
        if let thrown { throw thrown }
        if let failure { throw failure }
        return changed
    }
}
