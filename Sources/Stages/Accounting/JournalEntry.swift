import Pipelines

/// One account's share of an entry or a journal: debits positive, credits negative, in minor units.
struct Posting: Sendable, Equatable {
    var account: String
    var amount: Int64
}

/// What kind of store row an entry books.
enum SourceKind: String, Sendable, CaseIterable {
    case order, payment, payout, refund
}

/// The postings one source item (an order's sale, a refund, a payment, a payout), or a later change of
/// one (`revision` ≥ 1, an adjustment), adds to the books. The export ledger keeps it as JSON, so an
/// export can be written again byte for byte from the ledger alone.
struct JournalEntry: Sendable, Equatable {
    var kind: SourceKind
    var sourceID: Int64
    var revision: Int
    /// The order code, refund key, or gateway id.
    var reference: String
    var date: CalendarDate
    var currency: CurrencyCode
    /// The customer (or gateway) named on receivable lines.
    var name: String
    var memo: String
    /// The payout an entry is grouped under with `group: payout`.
    var payout: String
    /// What the source said when booked (its content digest), to notice a later change.
    var digest: String
    var postings: [Posting]

    var json: JSONValue {
        .object([
            ("ref", .string(reference)), ("date", .string(date.text)), ("currency", .string(currency.code)),
            ("exponent", .number(String(currency.exponent))), ("name", .string(name)), ("memo", .string(memo)), ("payout", .string(payout)),
            ("digest", .string(digest)),
            ("postings", .array(postings.map { .array([.string($0.account), .number(String($0.amount))]) })),
        ])
    }

    init(
        kind: SourceKind, sourceID: Int64, revision: Int, reference: String, date: CalendarDate, currency: CurrencyCode, name: String, memo: String,
        payout: String = "", digest: String = "", postings: [Posting]
    ) {
        self.kind = kind
        self.sourceID = sourceID
        self.revision = revision
        self.reference = reference
        self.date = date
        self.currency = currency
        self.name = name
        self.memo = memo
        self.payout = payout
        self.digest = digest
        self.postings = postings.filter { $0.amount != 0 }
    }

    /// Read back from the ledger's JSON.
    init?(kind: SourceKind, sourceID: Int64, revision: Int, json text: String) {
        guard let value = try? JSONValue.parse(text), let dateText = value["date"]?.text, let date = CalendarDate(Substring(dateText)),
            let code = value["currency"]?.text, let exponent = value["exponent"]?.integer, (0...9).contains(exponent)
        else { return nil }
        var postings: [Posting] = []
        for item in value["postings"]?.items ?? [] {
            guard let pair = item.items, pair.count == 2, let account = pair[0].text, let amount = pair[1].integer else { return nil }
            postings.append(Posting(account: account, amount: amount))
        }
        self.init(
            kind: kind, sourceID: sourceID, revision: revision, reference: value["ref"]?.text ?? "", date: date,
            currency: CurrencyCode(code: code, exponent: Int(exponent)), name: value["name"]?.text ?? "", memo: value["memo"]?.text ?? "",
            payout: value["payout"]?.text ?? "", digest: value["digest"]?.text ?? "", postings: postings)
    }
}

/// A balanced journal as the accountant's system gets it: its entries' postings summed per account.
struct Journal: Sendable {
    var number: Int64
    /// `PL-000042`: at most 21 characters, as QuickBooks allows.
    var reference: String
    var date: CalendarDate
    var currency: CurrencyCode
    var memo: String
    var name: String
    var lines: [Posting]

    /// Sums the entries' postings per account: debits first, then credits, each by account name.
    static func lines(of entries: [JournalEntry]) -> [Posting] {
        var sums: [String: Int64] = [:]
        for entry in entries { for posting in entry.postings { sums[posting.account, default: 0] += posting.amount } }
        return lines(sums: sums)
    }

    static func lines(sums: [String: Int64]) -> [Posting] {
        sums.filter { $0.value != 0 }.map { Posting(account: $0.key, amount: $0.value) }.sorted {
            ($0.amount < 0 ? 1 : 0, $0.account) < ($1.amount < 0 ? 1 : 0, $1.account)
        }
    }
}
