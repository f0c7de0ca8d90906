import CPostgres

/// A PostgreSQL connection string read by libpq itself (`PQconninfoParse`): a `postgres://` URI or a
/// `key=value` string, with percent-decoding and quoting exactly as libpq applies them.
enum PostgresConninfo {
    /// The values of the options libpq marks as secret (`dispchar` `*`: `password`, `sslpassword`, …);
    /// nil when libpq cannot parse the text.
    static func secrets(in text: String) -> [String]? {
        var parseError: UnsafeMutablePointer<CChar>?
        defer { if let parseError { PQfreemem(parseError) } }
        guard let options = PQconninfoParse(text, &parseError) else { return nil }
        defer { PQconninfoFree(options) }
        var secrets: [String] = []
        var option = options
        while option.pointee.keyword != nil {
            if let display = option.pointee.dispchar, String(cString: display).contains("*"), let value = option.pointee.val {
                let secret = String(cString: value)
                if !secret.isEmpty { secrets.append(secret) }
            }
            option += 1
        }
        return secrets
    }
}
