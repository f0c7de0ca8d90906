import Foundation

/// The one way secrets are kept out of what the tool shows and records: logs, errors, `plan`,
/// `--dry-run`, `validate`, run records and the params the state store keeps.
///
/// A locator's secrets are found the way its consumer reads it (PostgreSQL locators by libpq's own
/// parser, also `key=value` strings), then hidden wherever they occur, raw or percent-encoded; the
/// locator's structure is masked as well, for text libpq cannot parse. Later secrets (tokens, webhook
/// secrets, SMTP passwords) are added to the same list and hidden the same way.
public enum SecretMask {
    public static let placeholder = "***"

    /// Query parameters and `key=value` keys whose values are secrets.
    static let secretKeys: Set<String> = [
        "password", "passwd", "pwd", "sslpassword", "token", "access_token", "auth", "key", "api_key", "apikey",
        "secret", "client_secret", "signature", "sig",
    ]

    /// The secret values in a database locator or URL: its password and secret parameters, decoded as
    /// the consumer decodes them.
    public static func secrets(ofLocator text: String) -> [String] {
        var found = PostgresConninfo.secrets(in: text) ?? []
        if let userinfo = urlUserinfo(text), let colon = userinfo.firstIndex(of: ":") {
            let password = String(userinfo[userinfo.index(after: colon)...])
            found += [password, password.removingPercentEncoding ?? password]
        }
        for (key, value) in parameters(text) where secretKeys.contains(key) {
            found += [value, value.removingPercentEncoding ?? value]
        }
        return Array(Set(found.filter { !$0.isEmpty })).sorted { $0.count > $1.count }
    }

    /// A locator or URL as it may be shown: password and secret values as `***`.
    public static func locator(_ text: String) -> String {
        hide(secrets(ofLocator: text), in: structurallyMasked(text))
    }

    /// Shorter secrets are only masked where the structure shows them: replacing every `p` of a text
    /// would garble it, and such a password guards nothing.
    public static let minimumHiddenLength = 4

    /// `text` with every occurrence of each secret (raw and percent-encoded) replaced by `***`.
    public static func hide(_ secrets: some Sequence<String>, in text: String) -> String {
        var result = text
        for secret in secrets.sorted(by: { $0.count > $1.count }) where secret.count >= minimumHiddenLength {
            for form in Set([secret, percentEncoded(secret)]) where result.contains(form) {
                result = result.replacingOccurrences(of: form, with: placeholder)
            }
        }
        return result
    }

    /// Params as they may be recorded and shown: a value that is, holds or is part of a secret is `***`.
    public static func params(_ params: [String: String], hiding secrets: [String]) -> [String: String] {
        let hidden = secrets.filter { $0.count >= minimumHiddenLength }
        return params.mapValues { value in
            guard !value.isEmpty else { return value }
            return hidden.contains { $0.contains(value) || value.contains($0) } ? placeholder : hide(hidden, in: value)
        }
    }

    // MARK: - Structure

    /// The text between `scheme://` and the last `@` before the host: user and password. A password may
    /// hold `/`, `?`, `#` or `@`, so the credentials end at the last `@` of the text.
    private static func urlUserinfo(_ text: String) -> Substring? {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return nil }
        return text[scheme.upperBound..<at]
    }

    private static func structurallyMasked(_ text: String) -> String {
        var result = text
        if let userinfo = urlUserinfo(result), let colon = userinfo.firstIndex(of: ":") {
            result.replaceSubrange(result.index(after: colon)..<userinfo.endIndex, with: placeholder)
        }
        if result.contains("://") {
            guard let query = result.firstIndex(of: "?") else { return result }
            let fragmentStart = result[query...].firstIndex(of: "#") ?? result.endIndex
            let masked = result[result.index(after: query)..<fragmentStart].split(separator: "&", omittingEmptySubsequences: false)
                .map { parameter -> String in
                    guard let equals = parameter.firstIndex(of: "=") else { return String(parameter) }
                    return secretKeys.contains(decodedKey(parameter[..<equals])) ? parameter[...equals] + placeholder : String(parameter)
                }
            return result[...query] + masked.joined(separator: "&") + result[fragmentStart...]
        }
        return maskedKeyValues(result)
    }

    /// `key=value` pairs of a URL's query, keys lower-cased and decoded.
    private static func parameters(_ text: String) -> [(String, String)] {
        guard text.contains("://"), let query = text.firstIndex(of: "?") else { return [] }
        let end = text[query...].firstIndex(of: "#") ?? text.endIndex
        return text[text.index(after: query)..<end].split(separator: "&").compactMap { parameter in
            guard let equals = parameter.firstIndex(of: "=") else { return nil }
            return (decodedKey(parameter[..<equals]), String(parameter[parameter.index(after: equals)...]))
        }
    }

    private static func decodedKey(_ key: Substring) -> String {
        (key.removingPercentEncoding ?? String(key)).lowercased()
    }

    /// libpq's `key=value` form: values bare or single-quoted (with `\'` and `\\`); secret ones masked.
    private static func maskedKeyValues(_ text: String) -> String {
        let characters = Array(text)
        var result = ""
        var index = 0
        while index < characters.count {
            guard characters[index] == "=" else {
                result.append(characters[index])
                index += 1
                continue
            }
            let key = String(result.reversed().prefix { !$0.isWhitespace }.reversed()).lowercased()
            result.append("=")
            index += 1
            while index < characters.count && characters[index] == " " {
                result.append(" ")
                index += 1
            }
            let start = index
            if index < characters.count && characters[index] == "'" {
                index += 1
                while index < characters.count && characters[index] != "'" { index += characters[index] == "\\" ? 2 : 1 }
                index = min(index + 1, characters.count)
            } else {
                while index < characters.count && !characters[index].isWhitespace { index += 1 }
            }
            result += secretKeys.contains(key) ? placeholder : String(characters[start..<index])
        }
        return result
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
