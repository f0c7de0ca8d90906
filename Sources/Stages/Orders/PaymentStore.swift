import Pipelines

/// Gateway payments and payouts kept in the store, upserted by gateway and the gateway's id: the same
/// record again writes nothing; a changed one (a pending payment that succeeded) is updated.
final class PaymentStore {
    struct Result: Codable, Equatable {
        var created: Int64 = 0
        var updated: Int64 = 0
        var unchanged: Int64 = 0
        var payouts: Int64 = 0
    }

    let connection: any DatabaseConnection

    init(connection: any DatabaseConnection) { self.connection = connection }

    func upsert(_ payment: GatewayPayment, into result: inout Result) throws {
        var orderID: SQLValue = .null
        if !payment.reference.isEmpty, payment.kind == .payment || payment.kind == .refund {
            try connection.query(
                "SELECT id FROM store_orders WHERE code = $1 OR payment_reference = $1 ORDER BY id LIMIT 1", [.text(payment.reference)],
                columns: { _ in }, row: { orderID = $0.int64(0).map(SQLValue.integer) ?? .null })
        }
        let values: [SQLValue] = [
            .text(payment.gateway), .text(payment.externalID), .text(payment.kind.rawValue), .text(payment.reference), orderID, .text(payment.method),
            .text(payment.currency.code), .integer(Int64(payment.currency.exponent)), .integer(payment.amount), .integer(payment.fee), .text(payment.state),
            .text(payment.at.iso), .text(payment.email), .text(payment.payoutID),
        ]
        try upsert(
            table: "store_payments",
            columns: "gateway, external_id, kind, reference, order_id, method, currency, currency_exponent, amount_minor, fee_minor, state, paid_at, customer_email, payout_ref",
            compared: "kind, reference, method, currency, amount_minor, fee_minor, state, payout_ref", values: values, into: &result)
    }

    func upsert(_ payout: GatewayPayout, into result: inout Result) throws {
        let values: [SQLValue] = [
            .text(payout.gateway), .text(payout.externalID), .text(payout.at.iso), .text(payout.currency.code), .integer(Int64(payout.currency.exponent)),
            .integer(payout.gross), .integer(payout.fees), .integer(payout.net), .text(payout.state),
        ]
        try upsert(
            table: "store_payouts", columns: "gateway, external_id, paid_at, currency, currency_exponent, gross_minor, fees_minor, net_minor, state",
            compared: "currency, gross_minor, fees_minor, net_minor, state", values: values, into: &result)
        result.payouts += 1
    }

    /// Inserts the row, or updates it when one of the `compared` columns differs (a stored payment keeps
    /// the order it was matched to unless the new record matches one).
    private func upsert(table: String, columns: String, compared: String, values: [SQLValue], into result: inout Result) throws {
        let names = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let comparedNames = Set(compared.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        var stored: [SQLValue]?
        let comparedColumns = names.indices.filter { comparedNames.contains(names[$0]) }
        try connection.query(
            "SELECT \(comparedColumns.map { names[$0] }.joined(separator: ", ")) FROM \(table) WHERE gateway = $1 AND external_id = $2",
            [values[0], values[1]], columns: { _ in }
        ) { row in
            stored = comparedColumns.indices.map { index in
                if let number = row.int64(index), row.kind(index) == .integer { return .integer(number) }
                return row.string(index).map(SQLValue.text) ?? .null
            }
        }
        guard let stored else {
            let placeholders = names.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
            _ = try connection.execute("INSERT INTO \(table) (\(columns)) VALUES (\(placeholders))", values)
            result.created += 1
            return
        }
        guard stored != comparedColumns.map({ values[$0] }) else {
            result.unchanged += 1
            return
        }
        var assignments = names.indices.filter { $0 >= 2 && names[$0] != "order_id" }.map { "\(names[$0]) = $\($0 + 1)" }
        if let orderColumn = names.firstIndex(of: "order_id") { assignments.append("order_id = COALESCE($\(orderColumn + 1), order_id)") }
        _ = try connection.execute(
            "UPDATE \(table) SET \(assignments.joined(separator: ", ")) WHERE gateway = $1 AND external_id = $2", values)
        result.updated += 1
    }
}
