import Pipelines

/// Which account each part of a sale goes to (`accounts:` of `accounting.export`). `tax` and
/// `clearing` take one account or a mapping by tax name / gateway, with `default` for the rest.
struct AccountMap: ParameterValue, Equatable {
    var sales: String
    var shipping: String
    var tax: [String: String]
    var discounts: String
    var refunds: String
    var receivable: String
    var clearing: [String: String]
    var fees: String
    var bank: String
    var rounding: String

    static let fields = ["sales", "shipping", "tax", "discounts", "refunds", "receivable", "clearing", "fees", "bank", "rounding"]

    static var typeName: String { "accounts" }
    static var typeDescription: String {
        "{ sales, shipping, tax: ACCOUNT or {NAME: ACCOUNT, default: ACCOUNT}, discounts, refunds, receivable, clearing: ACCOUNT or {GATEWAY: ACCOUNT}, fees, bank, rounding }"
    }

    static func decode(_ node: YAMLNode, in context: ParameterContext) throws(ParameterProblem) -> AccountMap {
        let fields = try ParameterFields(node, allowed: Self.fields, in: context)
        func account(_ name: String) throws(ParameterProblem) -> String {
            guard let value = try fields.value(name, as: String.self), !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ParameterProblem("accounts.\(name) is missing: every part of a journal needs an account")
            }
            return value
        }
        func mapped(_ name: String) throws(ParameterProblem) -> [String: String] {
            if let single = try? fields.value(name, as: String.self) { return ["default": single] }
            guard let map = try fields.value(name, as: ParameterMap<String>.self) else {
                throw ParameterProblem("accounts.\(name) is missing: give one account or a mapping with 'default'")
            }
            return Dictionary(map.entries, uniquingKeysWith: { first, _ in first })
        }
        return AccountMap(
            sales: try account("sales"), shipping: try account("shipping"), tax: try mapped("tax"), discounts: try account("discounts"),
            refunds: try account("refunds"), receivable: try account("receivable"), clearing: try mapped("clearing"), fees: try account("fees"),
            bank: try account("bank"), rounding: try account("rounding"))
    }

    var parameterDisplay: String { "{sales: \(sales), receivable: \(receivable), …}" }

    /// Every account a journal can use, sorted: what ledger files declare up front.
    var all: [String] {
        Set([sales, shipping, discounts, refunds, receivable, fees, bank, rounding] + Array(tax.values) + Array(clearing.values)).sorted()
    }

    func tax(named name: String) -> String? { tax[name] ?? tax["default"] }
    func clearing(for gateway: String) -> String? { clearing[gateway] ?? clearing[gateway.lowercased()] ?? clearing["default"] }
}
